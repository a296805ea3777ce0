import TprofCapture

/// What became of a switch-out of `--off-cpu` (`off_cpu_outcomes.outcome`).
public enum SwitchOutOutcome: String, CaseIterable, Sendable {
    /// Paired with the thread's next record, its switch-in: one `off_cpu` row.
    case interval
    /// The thread was still off CPU when recording stopped: one `off_cpu` row that ends at the stop.
    case offCPUAtStop = "off CPU at the stop"
    /// The thread's last switch-out, after its exit record: it never comes back.
    case exited
    /// The thread's next record was another switch-out: the ring lost the switch-in, and the interval is left out
    /// rather than stretched to a later one.
    case switchInLost = "switch-in lost"
    /// The idle task (tid 0), which is never off CPU.
    case idleTask = "idle task"
}

/// Pairs each thread's switch-outs with its switch-ins and wake-ups as the writer takes them, in memory.
///
/// Records reach the writer in time order per CPU but not across CPUs: a thread that leaves CPU 0 and comes back on
/// CPU 1 may have its switch-in written first. The records wait in a window until every CPU has handed on
/// everything older (`BufferList.Batch.completeUntil`), and are then taken in time order; what waits is bounded by
/// that window (about two flush intervals of records) and by one state per thread that lives (an exited thread's
/// is forgotten a second after its exit).
final class OffCPUPairing {
    /// One switch-out, switch-in, wake-up, exit or `off-cpu` sample, in the order the pairing takes records with
    /// the same time.
    struct Record {
        enum Kind: UInt8 {
            case exit, switchOut, sample, waking, switchIn
        }

        var time: UInt64
        var kind: Kind
        var tid: Int32
        var pid: Int32 = 0
        var cpu: UInt32 = 0
        /// A switch-out's state.
        var state: OffCPUState = .other
        /// A wake-up's waker.
        var wakerPID: Int32 = 0
        var wakerTID: Int32 = 0
        /// A sample's event, mode, address and interned call chain.
        var event: UInt16 = 0
        var mode: UInt8 = 0
        var pc: UInt64 = 0
        var stack: Int64 = 0
    }

    /// A thread's time off CPU: from its switch-out (with the sample taken there, unless it was dropped) to `end`.
    struct Interval {
        var switchOut: Record
        var sample: Record?
        var end: UInt64
        var waker: Record?
    }

    /// What a thread off CPU waits with.
    private struct ThreadState {
        var switchOut: Record?
        var sample: Record?
        var waker: Record?
        /// When its exit record was taken: its next switch-out is its last.
        var exited: UInt64?
    }

    // Unchecked for exclusive access: only the writer's thread touches a pairing, and the run-time checks took
    // about 5% of the writer's time at 400,000 switches a second.
    @exclusivity(unchecked) private var window: [Record] = []
    @exclusivity(unchecked) private var threads: [Int32: ThreadState] = [:]
    /// Records up to this time have been taken.
    private var pairedUntil: UInt64 = 0
    private var lastSweep: UInt64 = 0
    /// Switch-outs per outcome since `takeOutcomes`.
    private var outcomes: [SwitchOutOutcome: Int64] = [:]

    /// Exited threads are forgotten this long after their exit (nanoseconds): a task switches out for the last time
    /// right after its exit record, and, followed per task, not at all.
    static let exitedMemory: UInt64 = 1_000_000_000

    func add(_ record: Record) {
        window.append(record)
    }

    /// Takes, in time order, every record older than `time`; `interval` receives each interval that closes,
    /// `lone` each sample that has none (its switch-out record was dropped, or the switch-out has no interval).
    func pair(until time: UInt64, interval: (Interval) -> Void, lone: (Record) -> Void) {
        guard !window.isEmpty else { return }
        // Runs of each CPU's records are already sorted, which Swift's sort merges.
        window.sort { $0.time != $1.time ? $0.time < $1.time : $0.kind.rawValue < $1.kind.rawValue }
        var end = 0
        while end < window.count && window[end].time < time { end += 1 }
        for index in 0..<end { take(window[index], interval: interval, lone: lone) }
        window.removeFirst(end)
        // A record that comes after its time was paired (a CPU's record stamped long before it was written) is
        // taken with the next pass, after the records it should have preceded.
        if time > pairedUntil { pairedUntil = time }
        if pairedUntil > lastSweep + Self.exitedMemory {
            threads = threads.filter { $0.value.exited.map { $0 + Self.exitedMemory > pairedUntil } ?? true }
            lastSweep = pairedUntil
        }
    }

    /// Takes every record left, then ends at `stop` the intervals of the threads still off CPU.
    func finish(stop: UInt64, interval: (Interval) -> Void, lone: (Record) -> Void) {
        pair(until: .max, interval: interval, lone: lone)
        for (_, state) in threads.sorted(by: { $0.key < $1.key }) {
            guard let out = state.switchOut else { continue }
            outcomes[.offCPUAtStop, default: 0] += 1
            interval(Interval(switchOut: out, sample: state.sample, end: max(stop, out.time), waker: state.waker))
        }
        threads = [:]
    }

    /// The switch-outs per outcome counted since the last call.
    func takeOutcomes() -> [SwitchOutOutcome: Int64] {
        defer { outcomes = [:] }
        return outcomes
    }

    private func take(_ record: Record, interval: (Interval) -> Void, lone: (Record) -> Void) {
        // Each thread's state is found once and changed in place, and kept while the thread lives: this runs for
        // every record of every switch.
        switch record.kind {
        case .exit:
            update(record.tid) { state in
                abandon(&state, lone: lone)
                state.exited = record.time
            }
        case .switchOut:
            if record.tid == 0 {
                count(.idleTask)
                return
            }
            let last = update(record.tid) { state in
                if state.exited != nil { return true }
                abandon(&state, lone: lone)
                state.switchOut = record
                return false
            }
            if last {
                count(.exited)
                threads[record.tid] = nil
            }
        case .sample:
            if let index = threads.index(forKey: record.tid), threads.values[index].switchOut?.time == record.time,
               threads.values[index].sample == nil {
                threads.values[index].sample = record
            } else {
                lone(record)
            }
        case .waking:
            if let index = threads.index(forKey: record.tid), threads.values[index].switchOut != nil {
                threads.values[index].waker = record
            }
        case .switchIn:
            guard let index = threads.index(forKey: record.tid) else { return }
            let state = threads.values[index]
            // Coming back, the thread is alive: a tid reused after an exit starts afresh.
            threads.values[index] = ThreadState()
            guard let out = state.switchOut else { return }
            count(.interval)
            interval(Interval(switchOut: out, sample: state.sample, end: record.time, waker: state.waker))
        }
    }

    /// Changes the state of `tid` in place (a new one when it has none).
    private func update<Result>(_ tid: Int32, _ body: (inout ThreadState) -> Result) -> Result {
        body(&threads[tid, default: ThreadState()])
    }

    private func count(_ outcome: SwitchOutOutcome) {
        outcomes[outcome, default: 0] += 1
    }

    /// Gives up a switch-out that is followed by another record than its switch-in.
    private func abandon(_ state: inout ThreadState, lone: (Record) -> Void) {
        guard state.switchOut != nil else { return }
        count(.switchInLost)
        if let sample = state.sample { lone(sample) }
        state = ThreadState()
    }
}
