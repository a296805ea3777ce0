import CTprofLinux
import Foundation
import Glibc
import TprofCapture

/// The profiled command: forked and held before exec so its events can be opened first, then released.
final class HeldCommand {
    let pid: Int32
    private var goFD: Int32
    private var errorFD: Int32
    /// The wait status once the command has been reaped.
    private(set) var waitStatus: Int32?

    /// Finds `argv[0]` the way execvp will, so a missing command is reported before anything is created.
    static func resolve(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            var info = stat()
            if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    init(arguments: [String]) throws {
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cArguments.append(nil)
        defer { for argument in cArguments { free(argument) } }
        var child = CTprofLinux_held_child()
        guard CTprofLinux_spawn_held(&cArguments, &child) == 0 else {
            throw RecordError("cannot start '\(arguments[0])': \(SystemError("fork"))", exitStatus: 127)
        }
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

    /// Sends `signal`, then SIGKILL if the command has not exited within `grace` seconds.
    func terminate(with signal: Int32, grace: Double) {
        guard !waitForExit(blocking: false) else { return }
        kill(pid, signal)
        let deadline = monotonicNanoseconds() + UInt64(grace * 1e9)
        while monotonicNanoseconds() < deadline {
            if waitForExit(blocking: false) { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitForExit(blocking: true)
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
