import TprofCapture
import TprofDatabase

/// The samples committed since the last read of a database being written, grouped: what a live view adds at each
/// refresh. A read is a rowid range on `samples`, so it costs in proportion to the new samples, not to the
/// recording (`queryPlan` shows it).
public final class SampleTail {
    /// The new samples of one process, CPU, mode, address and event.
    public struct Group {
        public var pid: Int32
        public var cpu: Int
        public var kernelMode: Bool
        public var pc: UInt64
        public var event: Int
        public var samples: Int
    }

    private static let sql = """
        SELECT pid, cpu, mode, pc, event, count(*), max(rowid) FROM samples WHERE rowid > ?1
        GROUP BY pid, cpu, mode, pc, event
        """
    private let connection: SQLiteDatabase
    private let statement: SQLiteStatement
    private var lastRow: Int64 = 0

    public init(database: ReportDatabase) throws {
        connection = database.connection
        statement = try connection.prepare(Self.sql)
    }

    /// The groups of the samples committed since the last call.
    public func next() throws -> [Group] {
        var groups: [Group] = []
        try statement.bind([.integer(lastRow)])
        while try statement.step() {
            let mode = SampleMode(rawValue: UInt8(truncatingIfNeeded: statement.int64(2))) ?? .unknown
            groups.append(Group(pid: Int32(truncatingIfNeeded: statement.int64(0)), cpu: Int(statement.int64(1)),
                                kernelMode: KernelModes.modes.contains(mode),
                                pc: UInt64(bitPattern: statement.int64(3)), event: Int(statement.int64(4)),
                                samples: Int(statement.int64(5))))
            lastRow = max(lastRow, statement.int64(6))
        }
        return groups
    }

    /// SQLite's plan for a read, one line a step (`EXPLAIN QUERY PLAN`).
    public func queryPlan() throws -> [String] {
        let plan = try connection.prepare("EXPLAIN QUERY PLAN " + Self.sql)
        try plan.bind([.integer(0)])
        var lines: [String] = []
        while try plan.step() { lines.append(plan.text(3) ?? "") }
        return lines
    }
}
