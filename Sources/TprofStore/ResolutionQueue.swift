/// The addresses the finishing stage names, in the order it names them: by file, then by place in the file, then by
/// process. Kept in the connection's temp schema rather than in memory, so that a recording with millions of
/// distinct addresses is sorted by SQLite (which spills to its temp file) and read back a row at a time. The entries
/// are appended unsorted and sorted once when drained: a keyed table cost a B-tree search an entry.
public final class ResolutionQueue {
    /// One address to name.
    public struct Entry {
        /// The file whose symbols name it, numbered by the caller.
        public var group: Int32
        /// Where in its file: addresses at one place in several processes come together.
        public var place: UInt64
        public var pid: Int32
        public var pc: UInt64
        /// The caller's index of the mapping that covers it, or one of its own markers.
        public var mapping: Int32

        public init(group: Int32, place: UInt64, pid: Int32, pc: UInt64, mapping: Int32) {
            self.group = group
            self.place = place
            self.pid = pid
            self.pc = pc
            self.mapping = mapping
        }
    }

    private let db: SQLiteDatabase
    private let insert: SQLiteStatement
    /// Places are stored with their top bit flipped, so SQLite's signed order is their unsigned order.
    private static let signBit: UInt64 = 1 << 63

    public init(database: SQLiteDatabase) throws {
        db = database
        try db.execute("""
            DROP TABLE IF EXISTS temp.finish_queue;
            CREATE TEMP TABLE finish_queue (
                grp INTEGER NOT NULL, place INTEGER NOT NULL, pid INTEGER NOT NULL, pc INTEGER NOT NULL,
                mapping INTEGER NOT NULL);
            """)
        insert = try db.prepare("INSERT INTO temp.finish_queue VALUES (?, ?, ?, ?, ?)")
    }

    /// Adds an entry; each (pid, pc) is appended once.
    public func append(_ entry: Entry) throws {
        insert.bind(1, Int64(entry.group))
        insert.bind(2, Int64(bitPattern: entry.place ^ Self.signBit))
        insert.bind(3, Int64(entry.pid))
        insert.bind(4, Int64(bitPattern: entry.pc))
        insert.bind(5, Int64(entry.mapping))
        try insert.runBound()
    }

    /// Calls `body` with every entry in order. The table goes with the other scratch tables, in
    /// `SymbolTables.finish()`.
    public func drain(_ body: (Entry) throws -> Void) throws {
        let rows = try db.prepare(
            "SELECT grp, place, pid, pc, mapping FROM temp.finish_queue ORDER BY grp, place, pid, pc")
        while try rows.step() {
            try body(Entry(group: Int32(truncatingIfNeeded: rows.int64(0)),
                           place: UInt64(bitPattern: rows.int64(1)) ^ Self.signBit,
                           pid: Int32(truncatingIfNeeded: rows.int64(2)), pc: UInt64(bitPattern: rows.int64(3)),
                           mapping: Int32(truncatingIfNeeded: rows.int64(4))))
        }

    }
}
