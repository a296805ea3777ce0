import Foundation
import TprofCapture
import TprofStore

/// A thread counted on its own (`-p`, or `-a --per-thread`), with its process and name when counting started.
public struct CountedThread: Equatable {
    public var tid: Int32
    public var pid: Int32
    public var comm: String
}

/// The counters' readings summed into rows: per event, and per CPU or thread when asked; with intervals, what
/// each interval added.
struct CountGrouping {
    let counters: PerfCounters
    let perCPU: Bool
    let perThread: Bool
    /// The rows' keys besides the event, in output order: each CPU, each thread, or the one total.
    let keys: [Key]
    /// The readings at the end of the last interval.
    private var previous: [EventTotals]
    /// A command's threads' totals at the end of the last interval, by event (--per-thread -- command).
    private var threadTotals: [Int: [Key: EventTotals]] = [:]
    /// Nanoseconds since the start at which the current interval began.
    private(set) var intervalStart: UInt64 = 0
    /// Every row made so far, for the database.
    var stored: [CountRow] = []

    struct Key: Hashable {
        var cpu: Int?
        var tid: Int32?
    }

    init(counters: PerfCounters, perCPU: Bool, perThread: Bool, cpus: [Int], threads: [Int32]) {
        self.counters = counters
        self.perCPU = perCPU
        self.perThread = perThread
        if perCPU {
            keys = cpus.map { Key(cpu: $0) }
        } else if perThread {
            keys = threads.map { Key(tid: $0) }
        } else {
            keys = [Key()]
        }
        previous = Array(repeating: EventTotals(), count: counters.counters.count)
    }

    /// The rows of the interval from the last reading to `readings`, taken at `end` (monotonic); kept in `stored`
    /// when intervals are counted.
    mutating func rows(_ readings: [EventTotals], start: UInt64, end: UInt64) -> [CountRow] {
        var sums: [Int: [Key: EventTotals]] = [:]
        var keys = self.keys
        if counters.reportsThreads {
            (sums, keys) = commandThreadSums(readings)
        } else {
            for (counter, reading) in zip(counters.counters, zip(readings, previous)) {
                let key = Key(cpu: perCPU ? counter.cpu : nil, tid: perThread ? counter.tid : nil)
                sums[counter.event, default: [:]][key, default: EventTotals()].add(reading.0.since(reading.1))
            }
        }
        var rows: [CountRow] = []
        // Threads that never ran in the interval are left out, as perf stat --per-thread leaves them out.
        let shown = perThread ? keys.filter { key in sums.values.contains { ($0[key]?.timeEnabled ?? 0) > 0 } } : keys
        for (index, event) in counters.events.enumerated() {
            for key in shown {
                let supported = !counters.unsupported.contains(index)
                let totals = sums[index]?[key] ?? EventTotals()
                rows.append(CountRow(
                    intervalStart: intervalStart, intervalEnd: end - start, cpu: key.cpu, tid: key.tid,
                    event: event.name, baseName: event.baseName, value: supported ? totals.count : nil,
                    timeEnabled: totals.timeEnabled, timeRunning: totals.timeRunning))
            }
        }
        previous = readings
        intervalStart = end - start
        stored += rows
        return rows
    }

    /// A command's threads (--per-thread -- command), from what the kernel reported as each ended: an ended
    /// thread's count, and for the thread that holds the counters themselves (`ThreadReports.ownCounterThread`,
    /// with the threads still running, which are reported only when they end) the counters' sum less the reports.
    /// An interval's share is what each total gained since the last reading.
    private mutating func commandThreadSums(_ readings: [EventTotals]) -> ([Int: [Key: EventTotals]], [Key]) {
        let reports = counters.threadReports
        let own = Key(tid: reports.ownCounterThread(command: counters.commandPID ?? 0))
        // Each counter counts one task on one CPU: enabled while the task lives, running while it runs there. The
        // running time is not a multiplexed share of the enabled time, so these counts are not scaled.
        func unscaled(_ totals: EventTotals) -> EventTotals {
            EventTotals(count: totals.count, timeEnabled: totals.timeRunning, timeRunning: totals.timeRunning)
        }
        var totals: [Int: [Key: EventTotals]] = [:]
        for (counter, reading) in zip(counters.counters, readings) {
            totals[counter.event, default: [:]][own, default: EventTotals()].add(unscaled(reading))
        }
        for event in counters.events.indices {
            guard let sum = totals[event]?[own] else { continue }
            let ended = unscaled(reports.endedThreadsTotal(of: event))
            let running = sum.timeRunning - min(sum.timeRunning, ended.timeRunning)
            totals[event]?[own] = EventTotals(count: sum.count - min(sum.count, ended.count), timeEnabled: running,
                                              timeRunning: running)
        }
        for (key, value) in reports.totals where key.tid != own.tid {
            totals[key.event, default: [:]][Key(tid: key.tid), default: EventTotals()].add(unscaled(value))
        }
        var sums: [Int: [Key: EventTotals]] = [:]
        for (event, byKey) in totals {
            for (key, total) in byKey {
                // When a thread ends its count moves from the holder's row to its own: the holder's share of an
                // interval is then what is left, never below zero.
                let earlier = threadTotals[event]?[key] ?? EventTotals()
                sums[event, default: [:]][key] = EventTotals(
                    count: total.count - min(total.count, earlier.count),
                    timeEnabled: total.timeEnabled - min(total.timeEnabled, earlier.timeEnabled),
                    timeRunning: total.timeRunning - min(total.timeRunning, earlier.timeRunning))
            }
        }
        threadTotals = totals
        return (sums, Set(totals.values.flatMap { $0.keys.compactMap(\.tid) }).sorted().map { Key(tid: $0) })
    }

    /// Each event's totals over the whole count, for the `events` table.
    func eventTotals(_ readings: [EventTotals]) -> [EventTotals] {
        var totals = Array(repeating: EventTotals(), count: counters.events.count)
        for (counter, reading) in zip(counters.counters, readings) { totals[counter.event].add(reading) }
        return totals
    }
}

extension CountSession {
    /// The run's metadata, stored in `run` before counting starts: an ordinary run row, written by tprof-count
    /// (the sampling settings are 0 or NULL).
    func runInfo(_ counters: PerfCounters, start: UInt64, wall: Int64) -> RunInfo {
        var runTarget = RunTarget.system
        var pids: [Int32]?
        switch options.scope {
        case .command: runTarget = .command
        case .pids(let given):
            runTarget = .pid
            pids = given
        case .systemWide: break
        }
        var info = RunInfo(
            toolVersion: tprofVersion, target: runTarget, commandLine: options.commandLine,
            command: options.command?.displayed, targetPIDs: pids,
            cpus: counters.cpus.isEmpty ? host.onlineCPUs : counters.cpus, backend: "perf_event counting",
            host: host.host, kernelRelease: host.kernelRelease, machine: host.machine, cpuModel: host.cpuModel,
            cpuCount: host.onlineCPUs.count, maxSampleRate: nil, paranoid: kernelSetting("kernel/perf_event_paranoid"),
            userOnlyFallback: counters.fellBackToUserOnly, ringPages: nil, flushIntervalMs: 0, bufferSamples: 0,
            bufferLimit: 0, startTimeNs: wall, startMonotonicNs: start, kernelTextStart: runningKernelTextStart())
        info.tool = "tprof-count"
        return info
    }
}
