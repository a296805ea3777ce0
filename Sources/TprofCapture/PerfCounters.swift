import CTprofLinux
import Glibc

/// Counting events (tprof-count): perf_event_open without a sample period or a ring, each event read as its count
/// with the times it was enabled and running. Opened per task and CPU as the sampling backend opens its events, so
/// the counts can be summed, or shown per CPU or per thread.
public final class PerfCounters {
    /// One opened event: which event, on which CPU (nil: any CPU) for which thread (nil: every task).
    public struct Counter: Equatable, Sendable {
        public var event: Int
        public var cpu: Int?
        public var tid: Int32?
        fileprivate var fd: Int32
    }

    /// The events after any fallback to user mode, in the order given.
    public private(set) var events: [EventSpec]
    public let target: PerfTarget
    /// The CPUs each task is counted on, one event per CPU; empty counts a task on whichever CPU it runs.
    public let cpus: [Int]
    /// The events this machine cannot count (perf stat's `<not supported>`), by index in `events`.
    public private(set) var unsupported: Set<Int> = []
    public private(set) var counters: [Counter] = []
    /// True when kernel counting was refused and events whose modes were not given were opened `:u`.
    public private(set) var fellBackToUserOnly = false

    /// Counts `events` for `target`; system-wide targets need `cpus`.
    public init(events: [EventSpec], target: PerfTarget, cpus: [Int]) {
        self.events = events
        self.target = target
        self.cpus = cpus
    }

    deinit {
        for counter in counters { close(counter.fd) }
    }

    /// Opens every event, created disabled: an event the machine lacks is marked unsupported, any other failure
    /// is thrown. A process's thread that ended meanwhile is passed over.
    public func open() throws(PerfEventError) {
        let tasks: [Int32?]
        switch target {
        case .command(let pid): tasks = [pid]
        case .threads(let tids): tasks = tids
        case .systemWide: tasks = [nil]
        }
        let cpuSlots: [Int?] = cpus.isEmpty ? [nil] : cpus
        for index in events.indices {
            var opened = 0
            openEvent: for cpu in cpuSlots {
                for task in tasks {
                    do {
                        guard let fd = try openOne(index, task: task, cpu: cpu) else { continue }
                        counters.append(Counter(event: index, cpu: cpu, tid: task, fd: fd))
                        opened += 1
                    } catch .eventNotSupported {
                        unsupported.insert(index)
                        break openEvent
                    }
                }
            }
            if opened == 0, !unsupported.contains(index), case .threads(let tids) = target {
                throw .noSuchProcess(tids.first ?? -1)
            }
        }
    }

    /// Opens event `index` for `task` on `cpu`; nil when the thread has gone. A refused kernel mode, for an event
    /// whose modes were left to tprof, is retried user-only, as tprof-record falls back.
    private func openOne(_ index: Int, task: Int32?, cpu: Int?) throws(PerfEventError) -> Int32? {
        while true {
            var attr = PerfEventAttributes.counting(events[index], target: target)
            let fd = CTprofLinux_perf_event_open(&attr, task ?? -1, Int32(cpu ?? -1), -1,
                                                 UInt(PERF_FLAG_FD_CLOEXEC))
            if fd >= 0 { return fd }
            let error = errno
            if error == ESRCH, case .threads = target { return nil }
            let failure = PerfEventError(errno: error, event: events[index], cpu: cpu ?? -1, task: task ?? -1,
                                         systemWide: target == .systemWide,
                                         needed: events.count * max(1, cpus.count) * max(1, taskCount))
            if case .permissionDenied(_, _, false) = failure, !events[index].excludeKernel,
               !events[index].modesGiven {
                events[index] = events[index].userOnly
                fellBackToUserOnly = true
                continue
            }
            throw failure
        }
    }

    private var taskCount: Int {
        if case .threads(let tids) = target { return tids.count }
        return 1
    }

    /// Starts counting (a command's counters start by themselves at its exec).
    public func enable() throws(PerfEventError) {
        for counter in counters where CTprofLinux_ioctl_int(counter.fd, CTprofLinux_PERF_EVENT_IOC_ENABLE, 0) != 0 {
            throw .system(SystemError("ioctl(PERF_EVENT_IOC_ENABLE)"))
        }
    }

    /// Stops counting, before the last reading.
    public func disable() {
        for counter in counters { _ = CTprofLinux_ioctl_int(counter.fd, CTprofLinux_PERF_EVENT_IOC_DISABLE, 0) }
    }

    /// Each counter's totals so far, in the order of `counters` (zero for one that could not be read).
    public func read() -> [EventTotals] {
        counters.map { counter in
            var values: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let n = withUnsafeMutableBytes(of: &values) { buffer in
                retryingEINTR { Glibc.read(counter.fd, buffer.baseAddress, buffer.count) }
            }
            guard n == 24 else { return EventTotals() }
            return EventTotals(count: values.0, timeEnabled: values.1, timeRunning: values.2)
        }
    }
}

extension EventTotals {
    /// What was counted since `earlier`, a reading of the same counters.
    public func since(_ earlier: EventTotals) -> EventTotals {
        EventTotals(count: count &- earlier.count, timeEnabled: timeEnabled &- earlier.timeEnabled,
                    timeRunning: timeRunning &- earlier.timeRunning)
    }

    /// Adds `other`, another counter of the same event.
    public mutating func add(_ other: EventTotals) {
        count &+= other.count
        timeEnabled &+= other.timeEnabled
        timeRunning &+= other.timeRunning
    }
}
