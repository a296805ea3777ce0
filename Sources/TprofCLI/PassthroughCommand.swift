import ArgumentParser

/// The profiled command of a tool line `tool [options] [--] command args`, captured for passthrough.
public enum PassthroughCommand {
    /// Answers the parser's own flags that the command captured, and drops a leading `--`.
    ///
    /// A passthrough argument captures everything from the first unknown word on, --help, --version and
    /// --generate-completion-script included: they are answered here. A first word that starts with '-' is an
    /// unknown option, not a command.
    public static func take<Command: ParsableCommand>(_ words: inout [String], of command: Command) throws {
        if words.first == "--help" || words.first == "-h" { throw CleanExit.helpRequest(command) }
        if words.first == "--generate-completion-script" {
            guard words.count == 2, let shell = CompletionShell(rawValue: words[1]) else {
                throw ValidationError("--generate-completion-script takes bash, zsh or fish")
            }
            throw CleanExit.message(Command.completionScript(for: shell))
        }
        if words.first == "--version" { throw CleanExit.message(Command.configuration.version) }
        if let first = words.first, first.hasPrefix("-"), first != "--" {
            throw ValidationError("unknown option '\(first)' (a command that starts with '-' goes after --)")
        }
        if words.first == "--" { words.removeFirst() }
    }
}
