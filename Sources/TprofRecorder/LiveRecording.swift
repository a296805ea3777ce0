import Glibc
import TprofCapture
import TprofStore

/// A recording while it captures, as a `RecordingMonitor` sees it: the database being written, the capture's
/// counters, the signals, and the ways the recording ends (the same as tprof-record's).
public final class LiveRecording {
    private let recorder: Recorder
    private let session: RecordingSession
    /// The CPUs sampled.
    public let cpus: [Int]

    init(recorder: Recorder, session: RecordingSession, cpus: [Int]) {
        self.recorder = recorder
        self.session = session
        self.cpus = cpus
    }

    /// The database the writer fills, for a read-only connection beside it (WAL).
    public var path: BytePath { recorder.options.output }
    /// The events opened, after any fallback to user mode.
    public var events: [EventSpec] { session.events }
    /// The sampling rate asked for.
    public var rate: SamplingRate { recorder.options.rate }
    /// CLOCK_MONOTONIC when the events were enabled.
    public var startMonotonic: UInt64 { session.startMonotonic }
    /// The signalfd of the stop signals (and SIGCHLD, and SIGWINCH when the monitor watches resizes), to poll.
    public var signalDescriptor: Int32 { recorder.signalFD }

    /// The capture's counters so far, summed over the CPUs.
    public var counters: CaptureCounters {
        session.list.statistics().reduce(CaptureCounters()) { $0 + $1.counters }
    }

    /// The next signal waiting on the signalfd, without blocking (SIGCHLD is passed over).
    public func nextSignal() -> Int32? {
        StopSignals.pending(on: signalDescriptor)
    }

    /// How the recording ended on its own, if it did: the command exited, the -p processes ended, the writer
    /// failed.
    public func ended() -> RecordingEnd? {
        if let command = session.command, command.waitForExit(blocking: false) {
            return RecordingEnd(status: .complete, reason: nil, exitCode: command.exit?.status ?? 0)
        }
        if case .pids(let pids) = recorder.options.target, pids.allSatisfy(ProcSnapshot.hasExited) {
            return RecordingEnd(status: .complete, reason: "the profiled processes exited", exitCode: 0)
        }
        if let failure = session.writer.failure { return fail("writing the database failed: \(failure)") }
        return nil
    }

    /// Ends the recording for a stop signal, which the command gets too.
    public func stop(signal: Int32) -> RecordingEnd {
        recorder.stopCommand(session.command, with: signal, end: RecordingEnd(
            status: .interrupted, reason: "stopped by signal \(signal) (\(StopSignals.name(signal)))", exitCode: 0))
    }

    /// Ends a recording that failed for `reason` (said on stderr when it is finished); a command gets SIGTERM.
    public func fail(_ reason: String) -> RecordingEnd {
        recorder.stopCommand(session.command, with: SIGTERM, end: RecordingEnd(
            status: .failed, reason: reason, exitCode: 1))
    }

    /// Ends a complete recording for `reason` (the duration elapsed, the user quit); a command gets SIGTERM.
    public func stop(reason: String) -> RecordingEnd {
        recorder.stopCommand(session.command, with: SIGTERM, end: RecordingEnd(
            status: .complete, reason: reason, exitCode: 0))
    }
}
