import CTprofLinux
import Foundation
import Glibc
import TprofCapture
import TprofCLI

/// The profiled command's arguments, byte for byte as given: they need not be UTF-8.
public struct CommandArguments: Equatable {
    /// argv of the command, the name first, each argument without its terminating NUL.
    public var bytes: [[UInt8]]

    /// The command with these arguments, the name first.
    public init(_ bytes: [[UInt8]]) {
        self.bytes = bytes
    }

    /// The arguments as text, for messages and the database (bytes that are not UTF-8 shown as U+FFFD).
    public var displayed: [String] { bytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The command's name as text.
    var name: String { displayed.first ?? "" }
}

/// The profiled command: forked and held before exec so its events can be opened first, then released.
final class HeldCommand {
    let arguments: CommandArguments
    let pid: Int32
    private var goFD: Int32
    private var errorFD: Int32
    /// The wait status once the command has been reaped.
    private(set) var waitStatus: Int32?

    /// Finds the executable the way execvp will and returns its path, so a command that cannot start is reported
    /// before anything is created: not found is exit status 127, found but not executable 126, as shells do.
    @discardableResult
    static func resolve(_ arguments: CommandArguments) throws -> [UInt8] {
        guard let name = arguments.bytes.first else { throw ToolFailure("no command given") }
        if name.contains(UInt8(ascii: "/")) {
            if let failure = execFailure(of: name) { throw cannotRun(arguments, errno: failure) }
            return name
        }
        let path = getenv("PATH").map { Array(UnsafeBufferPointer(start: $0, count: strlen($0))) }
            .map { $0.map { UInt8(bitPattern: $0) } } ?? Array("/usr/local/bin:/usr/bin:/bin".utf8)
        var denied = false
        for directory in path.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? Array(".".utf8) : Array(directory)) + [UInt8(ascii: "/")] + name
            switch execFailure(of: candidate) {
            case nil: return candidate
            // Like a shell, the search passes over directories and missing files, and remembers a file it may not run.
            case ENOENT?, ENOTDIR?, EISDIR?: continue
            default: denied = true
            }
        }
        if denied { throw cannotRun(arguments, errno: EACCES) }
        throw ToolFailure("cannot run '\(arguments.name)': command not found", exitStatus: 127)
    }

    /// The errno exec would fail with for the file at `path`, as far as it can be told beforehand; nil when it can
    /// run.
    private static func execFailure(of path: [UInt8]) -> Int32? {
        let cPath = path.map { CChar(bitPattern: $0) } + [0]
        var info = stat()
        guard stat(cPath, &info) == 0 else { return errno }
        if info.st_mode & S_IFMT == S_IFDIR { return EISDIR }
        return access(cPath, X_OK) == 0 ? nil : errno
    }

    /// The exit status for a command exec refused with `error`, as shells give: 127 when there is no such file,
    /// 126 when it is there but cannot be run.
    static func exitStatus(forExecErrno error: Int32) -> Int32 {
        error == ENOENT || error == ENOTDIR ? 127 : 126
    }

    /// The message and exit status for a command exec refuses with `error`.
    static func cannotRun(_ arguments: CommandArguments, errno error: Int32) -> ToolFailure {
        ToolFailure("cannot run '\(arguments.name)': \(String(cString: strerror(error)))",
                    exitStatus: exitStatus(forExecErrno: error))
    }

    /// - Parameter detached: the command's stdin, stdout and stderr are /dev/null.
    init(arguments: CommandArguments, detached: Bool = false) throws {
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.bytes.map { argument in
            strdup(argument.map { CChar(bitPattern: $0) } + [0])
        }
        cArguments.append(nil)
        defer { for argument in cArguments { free(argument) } }
        var child = CTprofLinux_held_child()
        child.detached = detached ? 1 : 0
        guard CTprofLinux_spawn_held(&cArguments, &child) == 0 else {
            throw ToolFailure("cannot start '\(arguments.name)': \(SystemError("fork"))", exitStatus: 127)
        }
        self.arguments = arguments
        pid = child.pid
        goFD = child.go_fd
        errorFD = child.error_fd
    }

    deinit {
        if goFD >= 0 { close(goFD) }
        if errorFD >= 0 { close(errorFD) }
    }

    /// Lets the command exec; returns the errno of a failed exec, or nil once it runs.
    func release() -> Int32? {
        var byte: UInt8 = 1
        _ = retryingEINTR { write(goFD, &byte, 1) }
        close(goFD)
        goFD = -1
        var failure: Int32 = 0
        let n = withUnsafeMutableBytes(of: &failure) { buffer in
            retryingEINTR { read(errorFD, buffer.baseAddress, buffer.count) }
        }
        close(errorFD)
        errorFD = -1
        return n == 4 ? failure : nil
    }

    /// Makes a command that was never released exit, and reaps it.
    func abandon() {
        if goFD >= 0 { close(goFD); goFD = -1 }
        kill(pid, SIGKILL)
        _ = waitForExit(blocking: true)
    }

    /// Reaps the command if it has exited; true once it has.
    @discardableResult
    func waitForExit(blocking: Bool) -> Bool {
        if waitStatus != nil { return true }
        var status: Int32 = 0
        let result = retryingEINTR { waitpid(pid, &status, blocking ? 0 : WNOHANG) }
        if result == pid {
            waitStatus = status
            return true
        }
        if result < 0 && errno == ECHILD {
            waitStatus = 0
            return true
        }
        return false
    }

    /// Sends `signal`, then SIGKILL if the command has not exited within `grace` seconds; true when it had to be
    /// killed.
    @discardableResult
    func terminate(with signal: Int32, grace: Double) -> Bool {
        guard !waitForExit(blocking: false) else { return false }
        kill(pid, signal)
        let deadline = monotonicNanoseconds() + UInt64(grace * 1e9)
        while monotonicNanoseconds() < deadline {
            if waitForExit(blocking: false) { return false }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitForExit(blocking: true)
        return true
    }

    /// The exit code (or 128 + signal) and the signal that ended the command, if one did.
    var exit: (status: Int32, signal: Int32?)? {
        guard let status = waitStatus else { return nil }
        if CTprofLinux_wait_status_signaled(status) != 0 {
            let signal = CTprofLinux_wait_status_term_signal(status)
            return (128 + signal, signal)
        }
        return (CTprofLinux_wait_status_exit_code(status), nil)
    }
}
