/// The side-band rows written since the last read, in time order, for a reader beside the writer (a live view):
/// each read costs in proportion to the new rows (a rowid range on each table), not to the recording.
public final class SideBandChanges {
    /// One side-band row.
    public enum Change {
        case mapping(SideBandRecords.Mapping)
        /// A thread's name; `exec` when an exec gave it (the process's address space starts again).
        case comm(pid: Int32, tid: Int32, name: String, exec: Bool)
        case fork(pid: Int32, parent: Int32)
        case exit(pid: Int32)

        fileprivate var order: Int { if case .mapping = self { return 1 } else { return 0 } }
    }

    private let mappings: SQLiteStatement
    private let comms: SQLiteStatement
    private let tasks: SQLiteStatement
    private var lastMapping: Int64 = 0
    private var lastComm: Int64 = 0
    private var lastTask: Int64 = 0

    public init(database: SQLiteDatabase) throws {
        mappings = try database.prepare("""
            SELECT rowid, pid, time, start, length, pgoff, filename, build_id FROM mmap_records WHERE rowid > ?1
            """)
        comms = try database.prepare("SELECT rowid, time, pid, tid, comm, exec FROM comm_records WHERE rowid > ?1")
        // Only processes: a thread shares its process's address space and name.
        tasks = try database.prepare("SELECT rowid, time, kind, pid, ppid FROM task_records WHERE rowid > ?1 AND pid = tid")
    }

    /// The rows committed since the last call, by time (a comm, fork or exit before a mapping of the same time).
    public func next() throws -> [Change] {
        var timed: [(time: Int64, change: Change)] = []
        try mappings.bind([.integer(lastMapping)])
        while try mappings.step() {
            lastMapping = mappings.int64(0)
            timed.append((mappings.int64(2), .mapping(SideBandRecords.Mapping(
                pid: Int32(truncatingIfNeeded: mappings.int64(1)), time: mappings.int64(2),
                start: UInt64(bitPattern: mappings.int64(3)), length: UInt64(bitPattern: mappings.int64(4)),
                pageOffset: UInt64(bitPattern: mappings.int64(5)), filename: mappings.text(6) ?? "",
                buildID: mappings.text(7)))))
        }
        try comms.bind([.integer(lastComm)])
        while try comms.step() {
            lastComm = comms.int64(0)
            timed.append((comms.int64(1), .comm(pid: Int32(truncatingIfNeeded: comms.int64(2)),
                                                tid: Int32(truncatingIfNeeded: comms.int64(3)),
                                                name: comms.text(4) ?? "", exec: comms.int64(5) != 0)))
        }
        try tasks.bind([.integer(lastTask)])
        while try tasks.step() {
            lastTask = tasks.int64(0)
            let pid = Int32(truncatingIfNeeded: tasks.int64(3))
            let change: Change = tasks.text(2) == "fork"
                ? .fork(pid: pid, parent: Int32(truncatingIfNeeded: tasks.int64(4))) : .exit(pid: pid)
            timed.append((tasks.int64(1), change))
        }
        return timed.sorted { ($0.time, $0.change.order) < ($1.time, $1.change.order) }.map(\.change)
    }
}
