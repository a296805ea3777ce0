extension RecordingDatabase {
    /// Brings a file of an older schema to this build's, in one transaction (`tprof-report --resymbolize`, the one
    /// command that rewrites a finished file): first what the steps up to its own `user_version` define today and
    /// the file lacks, then the later steps, then the indexes. Returns the version the file had.
    @discardableResult
    public static func upgrade(_ db: SQLiteDatabase) throws -> Int {
        let version = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
        guard version < schemaVersion else { return version }
        try db.execute("BEGIN")
        do {
            // Files of schema 1-3 lack tables and columns that were added to their own steps later; the later steps
            // (schema 9 copies whole tables) need them.
            try complete(db, upTo: version)
            try OffCPUIntervals.pairRecorded(db)
            for step in EmbeddedSchema.migrations where step.version > version {
                try db.execute(step.sql)
            }
            try db.execute(EmbeddedSchema.indexes)
            try db.execute("PRAGMA user_version = \(schemaVersion); COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
        return version
    }

    /// Adds to `db`'s file (within the caller's transaction) the tables and columns that this build's steps up to
    /// `version` define and the file lacks; `sample_counts` without `pc` is counted again from the samples.
    private static func complete(_ db: SQLiteDatabase, upTo version: Int) throws {
        for table in try OlderTables.currentTables(upTo: version) {
            let fileColumns = try OlderTables.columns(of: table.name, in: db)
            if table.name == "sample_counts" && !fileColumns.contains(where: { $0.name == "pc" }) {
                try db.execute("DROP TABLE IF EXISTS sample_counts; \(table.sql);")
                try db.execute("INSERT INTO sample_counts (pid, tid, cpu, event, mode, pc, stack_id, samples, period) "
                    + OlderTables.countsFromSamples)
            } else if fileColumns.isEmpty {
                try db.execute(table.sql)
            } else {
                for column in table.columns where !fileColumns.contains(where: { $0.name == column.name }) {
                    // SQLite adds a NOT NULL column only with a default; the rows the file has get it.
                    let constraint = column.notNull ? " NOT NULL DEFAULT \(column.defaultValue ?? "0")"
                        : column.defaultValue.map { " DEFAULT \($0)" } ?? ""
                    try db.execute("ALTER TABLE \"\(table.name)\" ADD COLUMN \"\(column.name)\" \(column.type)"
                        + constraint)
                }
            }
        }
    }
}
