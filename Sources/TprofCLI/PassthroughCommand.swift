import ArgumentParser

extension ParsableCommand {
    /// The command a `.captureForPassthrough` argument captured, checked: such an argument takes everything from
    /// the first unknown word on, the parser's own built-in flags included, so those are answered here (help,
    /// completion scripts, the version), an unknown option is refused, and a leading `--` is dropped.
    public func passthroughCommand(_ command: [String], version: String) throws -> [String] {
        if command.first == "--help" || command.first == "-h" { throw CleanExit.helpRequest(self) }
        if command.first == "--generate-completion-script" {
            guard command.count == 2, let shell = CompletionShell(rawValue: command[1]) else {
                throw ValidationError("--generate-completion-script takes bash, zsh or fish")
            }
            throw CleanExit.message(Self.completionScript(for: shell))
        }
        if command.first == "--version" { throw CleanExit.message(version) }
        if let first = command.first, first.hasPrefix("-"), first != "--" {
            throw ValidationError("unknown option '\(first)' (a command that starts with '-' goes after --)")
        }
        return command.first == "--" ? Array(command.dropFirst()) : command
    }
}

extension ParsableArguments {
    /// The process ids of `-p PID[,PID]`, each a positive number.
    public static func processIDs(_ text: String) throws -> [Int32] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            guard let pid = Int32(part), pid > 0 else {
                throw ValidationError("bad process id '\(part)' for -p: expected numbers such as 1234,5678")
            }
            return pid
        }
    }
}
