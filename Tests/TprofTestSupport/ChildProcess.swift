import Foundation
import Glibc

/// A process started in the background, whose stdout and stderr go to files until it is waited for.
///
/// Output goes to files rather than pipes so that a grandchild that outlives the process (a profiled command) can
/// never make the wait block. A process still running when the object goes away is killed.
public final class ChildProcess {
    /// How the command is run: as it is, or wrapped to run with a lower locked-memory limit or as another user.
    public struct Launch {
        /// Runs as this user (and the user's primary group, no supplementary groups) via setpriv(1).
        public var user: String?
        /// RLIMIT_MEMLOCK in bytes, set via prlimit(1) before the user is changed.
        public var lockedMemoryBytes: Int?

        public init(user: String? = nil, lockedMemoryBytes: Int? = nil) {
            self.user = user
            self.lockedMemoryBytes = lockedMemoryBytes
        }
    }

    private let process = Process()
    private let outputDirectory: TemporaryDirectory
    private let executable: String
    private var result: ProcessResult?

    /// Starts `executable` with `arguments`.
    public init(executable: String, arguments: [String], launch: Launch = Launch(),
                currentDirectory: String? = nil) throws {
        self.executable = executable
        var command = [executable] + arguments
        if let user = launch.user {
            guard let account = getpwnam(user) else { throw TestSupportError("no such user: \(user)") }
            command = ["/usr/bin/setpriv", "--reuid=\(account.pointee.pw_uid)",
                       "--regid=\(account.pointee.pw_gid)", "--clear-groups", "--"] + command
        }
        if let bytes = launch.lockedMemoryBytes {
            command = ["/usr/bin/prlimit", "--memlock=\(bytes):\(bytes)", "--"] + command
        }
        outputDirectory = try TemporaryDirectory(prefix: "tprof-output")
        guard FileManager.default.createFile(atPath: outputDirectory.file("stdout"), contents: nil),
              FileManager.default.createFile(atPath: outputDirectory.file("stderr"), contents: nil),
              let stdout = FileHandle(forWritingAtPath: outputDirectory.file("stdout")),
              let stderr = FileHandle(forWritingAtPath: outputDirectory.file("stderr")) else {
            throw TestSupportError("cannot create the output files in \(outputDirectory.path)")
        }
        // The child has its own copies once it runs; the parent's are closed whether or not it started.
        defer {
            try? stdout.close()
            try? stderr.close()
        }
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        do {
            try process.run()
        } catch {
            throw TestSupportError("cannot start \(command.joined(separator: " ")): \(error)")
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The process id (of the command itself: setpriv and prlimit exec it).
    public var pid: Int32 { process.processIdentifier }

    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` to the process only (not to its children).
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits up to `timeout` seconds for the process to end; nil when it is still running.
    public func wait(timeout: TimeInterval) -> ProcessResult? {
        if let result { return result }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning {
            if Date() >= deadline { return nil }
            usleep(10_000)
        }
        process.waitUntilExit()
        let signal = process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
        let finished = ProcessResult(status: process.terminationStatus, signal: signal,
                                     stdout: readOutput("stdout"), stderr: readOutput("stderr"))
        result = finished
        return finished
    }

    /// Waits for the process to end; after `timeout` seconds it is killed and an error is thrown.
    public func waitForExit(timeout: TimeInterval) throws -> ProcessResult {
        if let result = wait(timeout: timeout) { return result }
        send(SIGKILL)
        let killed = wait(timeout: 10)
        throw TestSupportError("\(executable) did not finish within \(timeout) s and was killed\n"
            + (killed?.summary ?? ""))
    }

    /// Runs `executable` to the end and returns how it ended.
    public static func run(_ executable: String, _ arguments: [String], launch: Launch = Launch(),
                           currentDirectory: String? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
        try ChildProcess(executable: executable, arguments: arguments, launch: launch,
                         currentDirectory: currentDirectory).waitForExit(timeout: timeout)
    }

    private func readOutput(_ name: String) -> String {
        let data = FileManager.default.contents(atPath: outputDirectory.file(name)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
