/// How a finished process ended and what it wrote.
public struct ProcessResult {
    /// The exit status; for a process ended by a signal, the signal number (see `signal`).
    public var status: Int32
    /// The signal that ended the process, or nil when it exited.
    public var signal: Int32?
    public var stdout: String
    public var stderr: String

    public init(status: Int32, signal: Int32?, stdout: String, stderr: String) {
        self.status = status
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The non-empty lines of stderr.
    public var stderrLines: [String] {
        stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// Exit status, stdout and stderr in one text, for failure messages.
    public var summary: String {
        let ending = signal.map { "killed by signal \($0)" } ?? "exit status \(status)"
        return "\(ending)\n--- stdout ---\n\(stdout)--- stderr ---\n\(stderr)"
    }
}
