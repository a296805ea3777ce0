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
    /// A command's threads counted one by one as they end (`ThreadReports`), with one ring per counter.
    public let reportsThreads: Bool
    /// What the rings reported so far (`drainThreadReports`).
    public private(set) var threadReports = ThreadReports()
    private var rings: [ThreadReportRing] = []
    /// The event that keeps a command's first thread's counters apart (`keepCountsWithTheirThreads`).
    private var placeholder: Int32 = -1

    /// Counts `events` for `target`; system-wide targets, and `reportsThreads`, need `cpus`. `reportsThreads`, for
    /// a command, also reports each of its threads' counts as the thread ends.
    public init(events: [EventSpec], target: PerfTarget, cpus: [Int], reportsThreads: Bool = false) {
        self.events = events
        self.target = target
        self.cpus = cpus
        self.reportsThreads = reportsThreads
    }

    deinit {
        for counter in counters { close(counter.fd) }
        if placeholder >= 0 { close(placeholder) }
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
        // Reporting threads, a CPU's counters are opened together: the kernel inherits them into a thread in that
        // order (by CPU, then as opened), and swaps two threads' counts in list order at a context switch, which
        // mixes events whose lists are not in the same order.
        let slots: [(index: Int, cpu: Int?, task: Int32?)] = reportsThreads
            ? cpuSlots.flatMap { cpu in events.indices.flatMap { index in tasks.map { (index, cpu, $0) } } }
            : events.indices.flatMap { index in cpuSlots.flatMap { cpu in tasks.map { (index, cpu, $0) } } }
        var opened: [Int: Int] = [:]
        for slot in slots where !unsupported.contains(slot.index) {
            do {
                guard let fd = try openOne(slot.index, task: slot.task, cpu: slot.cpu) else { continue }
                counters.append(Counter(event: slot.index, cpu: slot.cpu, tid: slot.task, fd: fd))
                opened[slot.index, default: 0] += 1
                if reportsThreads {
                    rings.append(try Self.ring(fd))
                    threadReports.eventsByID[Self.readOne(fd).id] = slot.index
                }
            } catch .eventNotSupported {
                unsupported.insert(slot.index)
            }
        }
        if case .threads(let tids) = target,
           events.indices.contains(where: { opened[$0] == nil && !unsupported.contains($0) }) {
            throw .noSuchProcess(tids.first ?? -1)
        }
        if reportsThreads, case .command(let pid) = target { try keepCountsWithTheirThreads(pid) }
    }

    /// Opens a placeholder event that the command's children do not inherit.
    ///
    /// At a context switch the kernel swaps the counters of two threads whose counters are clones of each other,
    /// and with `inherit_stat` swaps their counts back pairwise in list order. The counters opened here are listed
    /// in the order they were opened, their clones by CPU and PMU, so a swap with the command's first thread would
    /// mix the counts of different events. A counter that is not inherited keeps the clones from being equivalent
    /// to it (the clones of clones list theirs alike, and swap safely).
    private func keepCountsWithTheirThreads(_ pid: Int32) throws(PerfEventError) {
        // PERF_COUNT_SW_DUMMY: counts nothing; user-only, which every paranoia level allows for one's own child.
        var attr = PerfEventAttributes.event(EventSpec(name: "dummy", baseName: "dummy", type: 1, config: 9,
                                                       excludeUser: false, excludeKernel: true))
        let fd = CTprofLinux_perf_event_open(&attr, pid, -1, -1, UInt(PERF_FLAG_FD_CLOEXEC))
        guard fd >= 0 else { throw .system(SystemError("perf_event_open")) }
        placeholder = fd
    }

    /// Opens event `index` for `task` on `cpu`; nil when the thread has gone. A refused kernel mode, for an event
    /// whose modes were left to tprof, is retried user-only, as tprof-record falls back.
    private func openOne(_ index: Int, task: Int32?, cpu: Int?) throws(PerfEventError) -> Int32? {
        while true {
            // The names come with the first event of each CPU: a thread's end is written on the CPU it ends on.
            let first = events.indices.first { !unsupported.contains($0) }
            var attr = PerfEventAttributes.counting(events[index], target: target, reportsThreads: reportsThreads,
                                                    names: reportsThreads && index == first)
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

    private static func ring(_ fd: Int32) throws(PerfEventError) -> ThreadReportRing {
        do { return try ThreadReportRing(fd: fd) } catch { throw .system(error) }
    }

    /// The command's first thread, for a command's counters.
    public var commandPID: Int32? {
        if case .command(let pid) = target { return pid }
        return nil
    }

    /// Takes in what the command's threads that ended since the last call reported.
    public func drainThreadReports() {
        for ring in rings { ring.drain(into: &threadReports) }
    }

    /// Each counter's totals so far, in the order of `counters` (zero for one that could not be read).
    public func read() -> [EventTotals] {
        counters.map { Self.readOne($0.fd).totals }
    }

    /// One counter's totals, and its id when it reports threads (zero otherwise).
    private static func readOne(_ fd: Int32) -> (totals: EventTotals, id: UInt64) {
        var values: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let n = withUnsafeMutableBytes(of: &values) { buffer in
            retryingEINTR { Glibc.read(fd, buffer.baseAddress, buffer.count) }
        }
        guard n >= 24 else { return (EventTotals(), 0) }
        return (EventTotals(count: values.0, timeEnabled: values.1, timeRunning: values.2), values.3)
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
