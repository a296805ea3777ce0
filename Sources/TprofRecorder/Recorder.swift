import CTprofLinux
import Glibc
import TprofCapture
import TprofStore
import TprofSymbols
import TprofFinish
import TprofCLI

/// One recording session: checks the request, opens the events, runs the target, and leaves a finished database.
///
/// The phases: a pure `RecordingPlan` (checks and sizes), `start` (output, events, command, writer), `waitForEnd`
/// (the capture), and `finish` (the run's outcome, symbols, the summary).
public final class Recorder {
    let options: RecordOptions
    let host = HostInfo.current()
    let stderr = StandardError()
    /// The progress line on stderr, where it cannot mix with the profiled program's output.
    lazy var statusLine = StatusLine.make(for: options)
    var symbolOutcome: SymbolOutcome?
    /// The signalfd the stop signals are read from while recording; a stop signal during finishing skips the rest
    /// of unwinding and symbol resolution.
    var signalFD: Int32 = -1
    var unwindOutcome: StackUnwinding.Outcome?
    /// The files of processes in other mount namespaces or chroots, opened while they run, for the symbols.
    let processRoots = ProcessRootFiles()

    public init(options: RecordOptions) {
        self.options = options
    }

    /// Records and returns the exit status for tprof-record: the command's own, 127 when it cannot start,
    /// non-zero with one line on stderr for any error.
    /// - Parameter monitor: waits out the capture instead of tprof-record's own loop (a live view).
    public func run(monitor: RecordingMonitor? = nil) -> Int32 {
        do {
            return try record(monitor: monitor)
        } catch let error as ToolFailure {
            stderr.line("\(options.toolName): \(error.message)")
            return error.exitStatus
        } catch {
            stderr.line("\(options.toolName): \(error)")
            return 1
        }
    }

    private func record(monitor: RecordingMonitor?) throws -> Int32 {
        let plan = try RecordingPlan(options, on: .init(
            onlineCPUs: host.onlineCPUs, maxSampleRate: kernelSetting("kernel/perf_event_max_sample_rate"),
            probe: PerfEventBackend.probe, offCPUEvents: SchedTracepoints.events))
        let target = try ResolvedTarget(options.target)
        let signals = CTprofLinux_block_signals_to_fd(monitor?.watchesResize == true ? 1 : 0)
        guard signals >= 0 else { throw ToolFailure("cannot block signals: \(SystemError("signalfd"))") }
        signalFD = signals
        defer { close(signals) }

        let session = try start(plan, target: target)
        let recording = LiveRecording(recorder: self, session: session, cpus: plan.cpus)
        let end = monitor?.monitor(recording) ?? waitForEnd(recording)
        return finish(session, end: end)
    }
}

/// Waits out a recording's capture in place of tprof-record's own loop: a live view over the database being written.
public protocol RecordingMonitor: AnyObject {
    /// True when the signalfd of `LiveRecording.signalDescriptor` also reads SIGWINCH.
    var watchesResize: Bool { get }
    /// Runs until the recording is to end, and says how it ended.
    func monitor(_ recording: LiveRecording) -> RecordingEnd
}

/// The target checked before anything is created: the command's executable found, the -p processes' threads
/// listed.
struct ResolvedTarget {
    /// The command's executable, which the output must never replace.
    var executable: [UInt8]?
    /// Every thread of the -p processes.
    var threads: [Int32] = []

    init(_ target: RecordOptions.Target) throws {
        switch target {
        case .command(let arguments):
            executable = try HeldCommand.resolve(arguments)
        case .pids(let pids):
            for pid in pids {
                guard pid > 0, let tids = ProcSnapshot.threads(of: pid) else {
                    throw ToolFailure("no such process: \(pid)", exitStatus: 127)
                }
                threads.append(contentsOf: tids)
            }
        case .systemWide:
            break
        }
    }
}
