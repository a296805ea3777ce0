/// The tables of a file of an older schema, completed to this build's. Early builds changed `001-tables.sql` and
/// `003-symbols.sql` in place rather than adding steps, so a file can lack what its `user_version` says it has:
/// schema 1 has no `sample_counts`, 2 has it without `pc` and `stack_id`, 1-3 have no `run.call_graph` and
/// `max_stack`, 3 has no `symbol_counts.period`; and schema 1-4 files lack the tables later steps add. Tables and
/// columns are found by comparing the file with this build's schema rather than listed by version.
public enum OlderTables {
    /// `sample_counts` as the file's samples count them: for a file whose `sample_counts` lacks the sampled
    /// address (schema 1 and 2), which every report of symbols and stacks needs. Every sample is in `samples`.
    package static let countsFromSamples = """
        SELECT pid, tid, cpu, event, mode, pc, coalesce(stack_id, 0) AS stack_id, count(*) AS samples,
               sum(period) AS period
        FROM main.samples GROUP BY pid, tid, cpu, event, mode, pc, coalesce(stack_id, 0)
        """

    /// Makes a read-only connection read `db`'s file through this build's tables, in the temporary schema, without
    /// writing the file: a table the file lacks is an empty TEMP table (or, for `sample_counts`, one counted from
    /// the samples), and one lacking columns is a TEMP view of the same name adding them as NULL (not counted by
    /// the recorder that wrote the file, not zero), which hides the file's table for unqualified names.
    public static func shimTemporarily(_ db: SQLiteDatabase) throws {
        for table in try currentTables() {
            let fileColumns = try columns(of: table.name, in: db)
            if table.name == "sample_counts" && !fileColumns.contains(where: { $0.name == "pc" }) {
                // Counted once, not by every query of a report (several read it).
                try db.execute("CREATE TEMP TABLE sample_counts AS \(countsFromSamples)")
            } else if fileColumns.isEmpty {
                try db.execute(temporary(table.sql))
            } else if table.columns.contains(where: { column in !fileColumns.contains { $0.name == column.name } }) {
                let list = table.columns.map { column in
                    fileColumns.contains { $0.name == column.name } ? "\"\(column.name)\""
                        : "NULL AS \"\(column.name)\""
                }
                try db.execute("CREATE TEMP VIEW \"\(table.name)\" AS SELECT \(list.joined(separator: ", ")) "
                    + "FROM main.\"\(table.name)\"")
            }
        }
    }

    package struct Column {
        package var name: String
        package var type: String
        package var notNull: Bool
        package var defaultValue: String?
    }

    /// This build's tables, with the statements creating them, from the embedded schema's steps (up to `version`,
    /// or all) applied to a database in memory.
    package static func currentTables(upTo version: Int = .max) throws
        -> [(name: String, sql: String, columns: [Column])] {
        let reference = try SQLiteDatabase(path: ":memory:", mode: .create)
        for step in EmbeddedSchema.migrations where step.version <= version {
            try reference.execute(step.sql)
        }
        let statement = try reference.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        var tables: [(name: String, sql: String)] = []
        while try statement.step() { tables.append((statement.text(0) ?? "", statement.text(1) ?? "")) }
        return try tables.map { ($0.name, $0.sql, try columns(of: $0.name, in: reference)) }
    }

    /// The stored columns of a table of the main schema (generated ones left out); none when there is no such table.
    package static func columns(of table: String, in db: SQLiteDatabase) throws -> [Column] {
        let statement = try db.prepare("SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info(?, 'main')")
        try statement.bind([.text(table)])
        var result: [Column] = []
        while try statement.step() {
            result.append(Column(name: statement.text(0) ?? "", type: statement.text(1) ?? "",
                                 notNull: statement.int64(2) != 0, defaultValue: statement.text(3)))
        }
        return result
    }

    private static func temporary(_ sql: String) -> String {
        sql.hasPrefix("CREATE TABLE ") ? "CREATE TEMP TABLE " + sql.dropFirst("CREATE TABLE ".count) : sql
    }
}
