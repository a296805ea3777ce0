import TprofCapture

/// The `process_roots` table: processes recorded in another mount namespace or under another root directory.
public enum ProcessRootsTable {
    /// Replaces the rows with `rows`.
    public static func write(_ rows: [ForeignRootProcess], to db: SQLiteDatabase) throws {
        try db.execute("DELETE FROM process_roots")
        let insert = try db.prepare("INSERT INTO process_roots (pid, mount_namespace, root) VALUES (?, ?, ?)")
        for row in rows {
            let namespace: SQLiteValue = row.mountNamespace.map { .integer(Int64(bitPattern: $0)) } ?? .null
            try insert.run([.integer(Int64(row.pid)), namespace, .text(row.root)])
        }
    }

    /// The rows, by pid.
    public static func read(_ db: SQLiteDatabase) throws -> [ForeignRootProcess] {
        var rows: [ForeignRootProcess] = []
        let select = try db.prepare("SELECT pid, mount_namespace, root FROM process_roots ORDER BY pid")
        while try select.step() {
            rows.append(ForeignRootProcess(pid: Int32(truncatingIfNeeded: select.int64(0)),
                                           mountNamespace: select.isNull(1) ? nil : UInt64(bitPattern: select.int64(1)),
                                           root: select.text(2) ?? "/"))
        }
        return rows
    }
}
