import CTprofLinux
import Foundation
import Glibc
import TprofCapture
import TprofCLI
import TprofStore

/// One `tprof-count` session: counts without sampling, with tprof-record's command launcher, stop signals, exit
/// statuses and output rules.
///
/// The phases: the target checked and the output created (nothing started yet), the counters opened disabled, the
/// command released, the counts read at each interval until the command ends, the processes exit or a stop signal
/// comes, then the last reading, written to the database when there is one.
public final class CountSession {
    let options: CountOptions
    let host = HostInfo.current()
    let stderr = StandardError()

    public init(options: CountOptions) {
        self.options = options
    }

    /// Counts, handing each interval's rows to `interval` as it ends (-I), and returns what was counted; throws a
    /// `ToolFailure` with tprof-count's exit status for anything that keeps it from counting.
    /// The interval's threads are named in the second argument (--per-thread).
    public func run(interval: ([CountRow], [Int32: String]) -> Void) throws -> CountResult {
        let executable = try options.command.map { try HeldCommand.resolve($0) }
        let threads = try countedThreads()
        var threadNames = Dictionary(threads.map { ($0.tid, $0.comm) }, uniquingKeysWith: { first, _ in first })
        let signals = CTprofLinux_block_signals_to_fd(0)
        guard signals >= 0 else { throw ToolFailure("cannot block signals: \(SystemError("signalfd"))") }
        defer { close(signals) }

        let output = try options.output.map { path in
            try OutputSteps.create(path, existing: options.force ? .replace : .refuse, protecting: executable)
        }
        var command: HeldCommand?
        var started = false
        defer {
            if !started {
                command?.abandon()
                output?.discard()
            }
        }
        if let arguments = options.command { command = try HeldCommand(arguments: arguments) }
        let counters = try openCounters(threads: threads.map(\.tid), command: command)
        let startWall = Int64(Date().timeIntervalSince1970 * 1e9)
        let start = monotonicNanoseconds()
        if let output {
            do {
                try RecordingDatabase.prepare(output, run: runInfo(counters, start: start, wall: startWall),
                                              events: counters.events.map { EventInfo(spec: $0, rate: nil, note: nil) })
            } catch {
                throw ToolFailure("cannot write \(output.path): \(error)")
            }
        }
        if options.scope != .command {
            do { try counters.enable() } catch { throw ToolFailure("cannot start counting: \(error)") }
        }
        if let command, let failure = command.release() { throw HeldCommand.cannotRun(command.arguments, errno: failure) }
        let database = try output.map(OutputSteps.publish)
        started = true

        var grouping = CountGrouping(counters: counters, perCPU: options.perCPU, perThread: options.perThread,
                                     cpus: counters.cpus, threads: threads.map(\.tid))
        let end = waitForEnd(signals: signals, command: command, counters: counters, start: start,
                             grouping: &grouping, interval: { interval($0, commandThreadNames(counters, threadNames)) })
        counters.disable()
        let stopped = monotonicNanoseconds()
        counters.drainThreadReports()
        let readings = counters.read()
        threadNames = commandThreadNames(counters, threadNames)
        reportLosses(counters.threadReports)
        var rows: [CountRow] = []
        // With -I, the part of an interval after the last tick, as perf stat prints it; without, the totals.
        if options.interval == nil || stopped - start > grouping.intervalStart {
            rows = grouping.rows(readings, start: start, end: stopped)
            if options.interval != nil { interval(rows, threadNames) }
        }
        var usage = rusage()
        let times = command.map { _ -> (user: Double, system: Double) in
            getrusage(RUSAGE_CHILDREN.rawValue, &usage)
            return (Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
                    Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
        }
        var exitCode = end.exitCode
        if let database, let output {
            do {
                try database.insertCounts(grouping.stored, eventIDs: Dictionary(
                    counters.events.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first }),
                    threads: threads.map { ($0.tid, $0.pid, $0.comm) } + reportedThreads(counters, command: command,
                                                                                       names: threadNames))
                try database.finish(RunOutcome(
                    status: end.status, reason: end.reason, endTimeNs: Int64(Date().timeIntervalSince1970 * 1e9),
                    durationNs: Int64(stopped - start), exitStatus: command?.exit?.status,
                    exitSignal: command?.exit?.signal, eventTotals: grouping.eventTotals(readings)),
                    samplesPerEvent: Array(repeating: 0, count: counters.events.count), sampled: false)
            } catch {
                try? database.markFailed(reason: "cannot finish the database: \(error)")
                stderr.line("tprof-count: cannot finish \(output.path): \(error)")
                if exitCode == 0 { exitCode = 1 }
            }
            if let loss = output.loss {
                stderr.line("tprof-count: " + loss.message(output: output.path, contents: "the counts written to it",
                                                          while: "counting"))
                if exitCode == 0 { exitCode = 1 }
            }
        }
        return CountResult(rows: rows, elapsed: stopped - start, commandTimes: times, threadNames: threadNames,
                           exitCode: exitCode)
    }

    /// The threads counted one by one: each thread of the -p processes, or of every process with -a --per-thread
    /// (as perf stat counts them); none otherwise.
    private func countedThreads() throws -> [CountedThread] {
        var pids: [Int32]
        switch options.scope {
        case .pids(let given): pids = given
        case .systemWide where options.perThread: pids = ProcSnapshot.allProcesses()
        default: return []
        }
        var threads: [CountedThread] = []
        for pid in pids {
            guard let tids = ProcSnapshot.threads(of: pid) else {
                if case .pids = options.scope { throw ToolFailure("no such process: \(pid)", exitStatus: 127) }
                continue
            }
            for tid in tids {
                let comm = readSmallFile("/proc/\(pid)/task/\(tid)/comm")?.trimmingCharacters(in: .newlines)
                threads.append(CountedThread(tid: tid, pid: pid, comm: comm ?? "?"))
            }
        }
        return threads
    }

    /// Opens the counters, disabled, saying on stderr what had to be given up.
    private func openCounters(threads: [Int32], command: HeldCommand?) throws -> PerfCounters {
        let target: PerfTarget
        var cpus: [Int] = []
        switch options.scope {
        case .command:
            target = .command(pid: command?.pid ?? -1)
            // The kernel maps no ring for an inherited counter on every CPU: one per CPU then, each with its ring.
            if options.perThread { cpus = host.onlineCPUs }
        case .pids: target = .threads(threads)
        case .systemWide where options.perThread: target = .threads(threads)
        case .systemWide:
            target = .systemWide
            cpus = options.cpus ?? host.onlineCPUs
        }
        let counters = PerfCounters(events: options.events, target: target, cpus: cpus,
                                    reportsThreads: options.perThread && options.scope == .command)
        do {
            try counters.open()
        } catch {
            if case .noSuchProcess = error { throw ToolFailure(error.description, exitStatus: 127) }
            throw ToolFailure(error.description)
        }
        if counters.fellBackToUserOnly {
            stderr.line("tprof-count: kernel counting is not permitted (kernel.perf_event_paranoid is "
                + "\(kernelSetting("kernel/perf_event_paranoid").map(String.init) ?? "unknown") and no CAP_PERFMON); "
                + "counting user space only (events :u)")
        }
        return counters
    }

    /// Reads an interval's counts at each tick (-I) until the command exits, the -p processes end or a stop signal
    /// comes (which the command gets too, as under tprof-record).
    private func waitForEnd(signals: Int32, command: HeldCommand?, counters: PerfCounters, start: UInt64,
                            grouping: inout CountGrouping, interval: ([CountRow]) -> Void) -> RecordingEnd {
        var nextTick = options.interval.map { start + $0 }
        while true {
            let now = monotonicNanoseconds()
            // A command's ended threads, taken from the rings before they fill.
            counters.drainThreadReports()
            if let tick = nextTick, let length = options.interval, now >= tick {
                interval(grouping.rows(counters.read(), start: start, end: now))
                nextTick = tick + length * max(1, (now - tick) / length + 1)
            }
            var timeout: UInt64 = 250_000_000
            if let tick = nextTick { timeout = min(timeout, tick - min(tick, monotonicNanoseconds())) }
            var pollSet = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            _ = retryingEINTR { poll(&pollSet, 1, Int32(max(1, (timeout + 999_999) / 1_000_000))) }
            if let signal = StopSignals.pending(on: signals) {
                return RecordingEnd(status: .interrupted, reason: "stopped by signal \(signal) "
                                        + "(\(StopSignals.name(signal)))", exitCode: 0)
                    .stopping(command, with: signal, tool: "tprof-count", stderr: stderr)
            }
            if let command, command.waitForExit(blocking: false) {
                return RecordingEnd(status: .complete, reason: nil, exitCode: command.exit?.status ?? 0)
            }
            if case .pids(let pids) = options.scope, pids.allSatisfy(ProcSnapshot.hasExited) {
                return RecordingEnd(status: .complete, reason: "the counted processes exited", exitCode: 0)
            }
        }
    }
}

extension CountSession {
    /// `names` with the names of a command's threads (--per-thread -- command): the name a thread took (exec or
    /// rename), else its process's, else the command's file name (a new thread has its creator's name, and the
    /// kernel reports a name only when it changes).
    func commandThreadNames(_ counters: PerfCounters, _ names: [Int32: String]) -> [Int32: String] {
        guard counters.reportsThreads else { return names }
        let reports = counters.threadReports
        let command = counters.commandPID ?? 0
        let fallback = options.command.map { String($0.name.split(separator: "/").last ?? "") } ?? "?"
        var named = names
        for tid in Set(reports.processes.keys).union([command, reports.ownCounterThread(command: command)]) {
            named[tid] = reports.names[tid] ?? reports.processes[tid].flatMap { reports.names[$0] }
                ?? reports.names[command] ?? fallback
        }
        return named
    }

    /// A command's counted threads, for the database's `threads` table.
    func reportedThreads(_ counters: PerfCounters, command: HeldCommand?, names: [Int32: String])
        -> [(tid: Int32, pid: Int32, comm: String)] {
        guard counters.reportsThreads, let pid = command?.pid else { return [] }
        let reports = counters.threadReports
        var processes = reports.processes
        // The thread that held the counters themselves has no report; its process is the command's.
        let own = reports.ownCounterThread(command: pid)
        if processes[own] == nil { processes[own] = pid }
        return processes.sorted { $0.key < $1.key }.map { tid, process in (tid, process, names[tid] ?? "?") }
    }

    /// Says on stderr when thread reports were lost or unreadable: those threads' counts stay with the thread that
    /// holds the counters.
    func reportLosses(_ reports: ThreadReports) {
        if reports.lost > 0 {
            stderr.line("tprof-count: the kernel lost \(reports.lost) thread reports (ring full): those threads' "
                + "counts are in another thread's row")
        }
        if reports.malformed > 0 {
            stderr.line("tprof-count: \(reports.malformed) thread reports could not be read: those threads' "
                + "counts are in another thread's row")
        }
    }
}
