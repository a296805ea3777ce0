import CTprofLinux
import Glibc
import TprofCapture
import TprofStore

/// The signals a user sends to stop a recording: SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 end it
/// cleanly, never through the Swift runtime's crash handler.
public enum StopSignals {
    /// Blocks the stop signals for the whole process, to be read from a signalfd once recording starts; call it
    /// first thing, before any thread exists, so no thread is left where one of them could be delivered.
    public static func block() {
        // Nothing to report yet: the signalfd made when recording starts blocks them again, and says so if that fails.
        _ = CTprofLinux_block_stop_signals()
    }

    /// Blocks SIGWINCH for the whole process, for a live view that reads it from the recorder's signalfd
    /// (`RecordingMonitor.watchesResize`); call it first thing, as `block()`.
    public static func blockResize() {
        _ = CTprofLinux_block_resize_signal()
    }

    /// The next stop signal waiting on the signalfd `fd`, without blocking; nil when none is (SIGCHLD, also read
    /// from it, only wakes the wait for the command and is passed over).
    static func pending(on fd: Int32) -> Int32? {
        while true {
            let signal = CTprofLinux_read_signalfd(fd)
            if signal <= 0 { return nil }
            if signal != SIGCHLD { return signal }
        }
    }

    /// The conventional name of `signal`, such as SIGINT.
    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        case SIGUSR1: return "SIGUSR1"
        case SIGUSR2: return "SIGUSR2"
        default: return "signal \(signal)"
        }
    }
}

/// A stop signal that arrived while the file was being finished: the rest of unwinding and symbol resolution is
/// skipped.
struct FinishingStopped: Error {
    var signal: Int32
}

/// How a recording ended: the run's status and reason, and the tool's exit status.
public struct RecordingEnd {
    var status: RunStatus
    var reason: String?
    var exitCode: Int32
}

extension Recorder {
    /// Waits for the command to exit, the duration to pass, the -p processes to end, a signal, or a writer failure.
    func waitForEnd(_ recording: LiveRecording) -> RecordingEnd {
        // -d counts from here, once the events are enabled: the snapshot of every process that -a takes before
        // can last a good part of a second on a loaded machine.
        let enabled = monotonicNanoseconds()
        let deadline = options.duration.map { enabled + UInt64($0 * 1e9) }
        let statusLine = self.statusLine
        let start = recording.startMonotonic
        var nextStatus = start
        while true {
            let now = monotonicNanoseconds()
            if let statusLine, now >= nextStatus {
                statusLine.showProgress(recording.counters, elapsed: now - start)
                nextStatus = now + StatusLine.interval
            }
            var timeout = statusLine == nil ? 250_000_000 : nextStatus - min(now, nextStatus)
            if let deadline {
                if now >= deadline { return recording.stop(reason: "duration elapsed") }
                timeout = min(timeout, deadline - now)
            }
            var pollSet = [pollfd(fd: recording.signalDescriptor, events: Int16(POLLIN), revents: 0)]
            _ = retryingEINTR { poll(&pollSet, 1, Int32(max(1, (timeout + 999_999) / 1_000_000))) }
            if let signal = recording.nextSignal() { return recording.stop(signal: signal) }
            if let end = recording.ended() { return end }
        }
    }

    /// Ends the command with `signal` through `RecordingEnd.stopping`, as this tool.
    func stopCommand(_ command: HeldCommand?, with signal: Int32, end: RecordingEnd) -> RecordingEnd {
        end.stopping(command, with: signal, tool: options.toolName, stderr: stderr)
    }
}

extension RecordingEnd {
    /// Seconds a command gets to exit after its stop signal before it is killed.
    static let commandGrace = 2.0

    /// Ends the command with `signal` (SIGKILL after the grace period) and completes this end: the exit status
    /// becomes the command's own, and a command that had to be killed is said on stderr (as `tool`) and in the
    /// reason.
    func stopping(_ command: HeldCommand?, with signal: Int32, tool: String, stderr: StandardError) -> RecordingEnd {
        guard let command else { return self }
        var end = self
        if command.terminate(with: signal, grace: Self.commandGrace) {
            let killed = "the command did not stop within \(Int(Self.commandGrace)) s of "
                + "\(StopSignals.name(signal)); killed it with SIGKILL"
            stderr.line("\(tool): \(killed)")
            end.reason = [end.reason, killed].compactMap { $0 }.joined(separator: "; ")
        }
        if end.exitCode == 0 { end.exitCode = command.exit?.status ?? 0 }
        return end
    }
}

extension ProcSnapshot {
    /// True once `pid` is gone or a zombie: a process that has exited but waits for its parent to reap it still
    /// answers kill(pid, 0).
    static func hasExited(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let stat = readSmallFile("/proc/\(pid)/stat"), let nameEnd = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: nameEnd)...].first(where: { $0 != " " }) == "Z"
    }
}
