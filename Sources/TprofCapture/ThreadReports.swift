import CTprofLinux
import Glibc

/// The counts a command's threads leave when they end, for `tprof-count --per-thread -- command`.
///
/// A command's counters follow its threads and children by inheritance, and read as their sum. With
/// `inherit_stat` the kernel also writes each inherited thread's own count into the counter's ring as it ends
/// (PERF_RECORD_READ, naming the counter by id), and with `comm` the names threads take and when they end
/// (PERF_RECORD_COMM, PERF_RECORD_EXIT): the threads are told apart only when they end.
public struct ThreadReports {
    /// A thread's count of one event.
    public struct Key: Hashable, Sendable {
        public var event: Int
        public var tid: Int32
    }

    /// Each ended thread's totals, summed when a thread id came back.
    public private(set) var totals: [Key: EventTotals] = [:]
    /// The process of each thread reported.
    public private(set) var processes: [Int32: Int32] = [:]
    /// The threads that ended (PERF_RECORD_EXIT).
    public private(set) var exited: Set<Int32> = []
    /// Names from the kernel's comm records, by thread.
    public private(set) var names: [Int32: String] = [:]
    /// Records the kernel could not write because a ring was full (PERF_RECORD_LOST): those threads' counts stay
    /// in the command's own row.
    public private(set) var lost: UInt64 = 0
    /// Records that did not hold what their type says, or named no counter of ours.
    public private(set) var malformed: UInt64 = 0
    /// The event of each counter, by the id the kernel gave it.
    var eventsByID: [UInt64: Int] = [:]

    public init() {}

    /// Takes in one record of a thread-report ring.
    mutating func take(_ record: UnsafeRawBufferPointer) {
        let type = record.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
        switch PerfRecordType(rawValue: type) {
        case .read:
            // pid, tid, then the read format: count, time enabled, time running, the counter's id.
            guard record.count >= 48,
                  let event = eventsByID[record.loadUnaligned(fromByteOffset: 40, as: UInt64.self)] else {
                malformed += 1
                return
            }
            let pid = record.loadUnaligned(fromByteOffset: 8, as: Int32.self)
            let tid = record.loadUnaligned(fromByteOffset: 12, as: Int32.self)
            let values = EventTotals(count: record.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                                     timeEnabled: record.loadUnaligned(fromByteOffset: 24, as: UInt64.self),
                                     timeRunning: record.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
            totals[Key(event: event, tid: tid), default: EventTotals()].add(values)
            processes[tid] = pid
        case .comm:
            guard record.count > 16 else { malformed += 1; return }
            let tid = record.loadUnaligned(fromByteOffset: 12, as: Int32.self)
            names[tid] = String(decoding: record[16...].prefix { $0 != 0 }, as: UTF8.self)
        case .exit:
            // pid, ppid, tid, ptid, time.
            guard record.count >= 24 else { malformed += 1; return }
            exited.insert(record.loadUnaligned(fromByteOffset: 16, as: Int32.self))
        case .lost:
            guard record.count >= 24 else { malformed += 1; return }
            lost &+= record.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        case .fork:
            // Written with the names (the kernel ties task records to comm).
            break
        default:
            malformed += 1
        }
    }

    /// Counts a ring whose records could not be walked (a bad header: the rest of that drain is skipped).
    mutating func countMalformed() { malformed += 1 }

    /// The thread whose counts are the counters' own rather than a report: the one that ended without a report,
    /// else the command's first thread (`command`).
    ///
    /// At a context switch between equivalent threads the kernel swaps their counters (the counts go with them,
    /// `inherit_stat`), so the counters opened on the command may be held by any of its threads when that thread
    /// ends, and only inherited counters are reported: the thread that ends holding them is the one without a
    /// report, or the command's first thread while it has not ended.
    public func ownCounterThread(command: Int32) -> Int32 {
        let unreported = exited.subtracting(processes.keys)
        if unreported.count == 1, let holder = unreported.first { return holder }
        return command
    }

    /// The sum of the ended threads' counts of `event`.
    public func endedThreadsTotal(of event: Int) -> EventTotals {
        totals.reduce(into: EventTotals()) { sum, entry in if entry.key.event == event { sum.add(entry.value) } }
    }
}

/// The ring of one counter that reports its command's threads: a control page and a small data area.
final class ThreadReportRing {
    /// 4 pages of 4 KiB hold some 340 reports of 48 bytes, one ring per event and CPU; the counting loop drains
    /// them at least every 250 ms.
    static let dataPages = 4
    private let base: UnsafeMutableRawPointer
    private let mapLength: Int
    private let dataSize: Int
    private var reader = RingBufferReader()

    init(fd: Int32) throws(SystemError) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        dataSize = page * Self.dataPages
        mapLength = dataSize + page
        guard let mapped = mmap(nil, mapLength, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw SystemError("mmap")
        }
        base = mapped
    }

    deinit { munmap(base, mapLength) }

    /// Hands every record up to the kernel's head to `reports` and gives the space back.
    func drain(into reports: inout ThreadReports) {
        let control = base.assumingMemoryBound(to: perf_event_mmap_page.self)
        let head = CTprofLinux_ring_load_head(control)
        let tail = control.pointee.data_tail
        guard head != tail else { return }
        let drained = reader.drain(data: UnsafeRawPointer(base + Int(control.pointee.data_offset)), size: dataSize,
                                   tail: tail, head: head) { reports.take($0) }
        if drained.malformed { reports.countMalformed() }
        CTprofLinux_ring_store_tail(control, drained.tail)
    }
}
