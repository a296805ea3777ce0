/// The `process_roots` table: processes recorded in another mount namespace or under another root directory.
public enum ProcessRootsTable {
    /// A row of `process_roots`.
    public struct Row: Equatable {
        public var pid: Int32
        public var mountNamespace: UInt64?
        public var root: String

        public init(pid: Int32, mountNamespace: UInt64?, root: String) {
            self.pid = pid
            self.mountNamespace = mountNamespace
            self.root = root
        }
    }

    /// Replaces the rows with `rows`.
    public static func write(_ rows: [Row], to db: SQLiteDatabase) throws {
        try db.execute("DELETE FROM process_roots")
        let insert = try db.prepare("INSERT INTO process_roots (pid, mount_namespace, root) VALUES (?, ?, ?)")
        for row in rows {
            try insert.run([.integer(Int64(row.pid)), row.mountNamespace.map { .integer(Int64(bitPattern: $0)) } ?? .null,
                            .text(row.root)])
        }
    }

    /// The rows, by pid.
    public static func read(_ db: SQLiteDatabase) throws -> [Row] {
        var rows: [Row] = []
        let select = try db.prepare("SELECT pid, mount_namespace, root FROM process_roots ORDER BY pid")
        while try select.step() {
            rows.append(Row(pid: Int32(truncatingIfNeeded: select.int64(0)),
                            mountNamespace: select.isNull(1) ? nil : UInt64(bitPattern: select.int64(1)),
                            root: select.text(2) ?? "/"))
        }
        return rows
    }
}
