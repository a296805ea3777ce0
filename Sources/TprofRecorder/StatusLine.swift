import CTprofLinux
import Foundation
import Glibc
import TprofCapture

/// The one-line progress display on stderr: redrawn in place (carriage return, erase to the end of the line) and cut
/// to the terminal's width, so it never wraps into a second line or scrolls.
///
/// It is only shown where no profiled program writes: a command inherits the recorder's stderr, so its output
/// would land in the middle of the line (and the line's erasing would take a partial last line of the command's
/// output with it). With a command the recorder stays quiet until its summary.
final class StatusLine {
    /// How often the live line is redrawn.
    static let interval: UInt64 = 500_000_000

    private let stderr = StandardError()
    /// Set when the line must first move to a line of its own: after a command, whose last line may be partial
    /// (the erase would take it with it).
    private var opensLine: Bool

    init(opensLine: Bool = false) {
        self.opensLine = opensLine
    }

    /// The status line for `options`, or nil: quiet, stderr not a terminal, a command that shares the terminal,
    /// or `-p` processes whose stdout or stderr is (or may be) the same terminal.
    static func make(for options: RecordOptions) -> StatusLine? {
        guard !options.quiet, isatty(STDERR_FILENO) == 1 else { return nil }
        var terminal = stat()
        guard fstat(STDERR_FILENO, &terminal) == 0 else { return nil }
        switch options.target {
        case .command:
            return nil
        case .pids(let pids):
            let shares = pids.contains { pid in
                [1, 2].contains { fd in
                    var info = stat()
                    // A descriptor we may not inspect might be the terminal: stay quiet then.
                    guard stat("/proc/\(pid)/fd/\(fd)", &info) == 0 else { return true }
                    return info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == terminal.st_rdev
                }
            }
            return shares ? nil : StatusLine()
        case .systemWide:
            return StatusLine()
        }
    }

    /// The status line while the file is finished, or nil: as `make(for:)`, except that a command has ended by
    /// then and left the terminal to the recorder (the line then starts on a line of its own).
    static func makeForFinishing(for options: RecordOptions) -> StatusLine? {
        guard case .command = options.target else { return make(for: options) }
        guard !options.quiet, isatty(STDERR_FILENO) == 1 else { return nil }
        return StatusLine(opensLine: true)
    }

    /// Replaces the line with `[ tprof-record: TEXT ]`, cut to fit the terminal.
    func show(_ text: String) {
        let line = "[ tprof-record: \(text) ]"
        let columns = Int(CTprofLinux_terminal_columns(STDERR_FILENO))
        // The last column stays free: a character written there makes some terminals wrap at once.
        let fitted = columns > 1 ? String(line.prefix(columns - 1)) : ""
        if opensLine {
            stderr.write("\n")
            opensLine = false
        }
        stderr.write("\r\(fitted)\u{1B}[K")
    }

    /// The live line while recording: elapsed time, samples read and lost so far.
    func showProgress(_ total: CaptureCounters, elapsed: UInt64) {
        let lost = total.dropped + total.kernelDropped
        show("\(String(format: "%.1f", Double(elapsed) / 1e9)) s, \(total.read) samples, \(lost) lost")
    }

    /// Erases the line.
    func clear() {
        stderr.write("\r\u{1B}[K")
    }
}
