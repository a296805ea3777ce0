import TprofDatabase

/// `--stat`: NetBSD tprof's statistics block (sample, overflow, buf, emptybuf, dropbuf, dropbuf_sample) plus the
/// kernel's losses and throttling, per CPU and in total.
public enum Statistics {
    static let columns = [
        "read", "written", "sample", "overflow", "buf", "emptybuf", "dropbuf", "dropbuf_sample", "kernel_lost",
        "kernel_lost_samples", "throttle", "unthrottle", "sideband_dropped", "unwritten", "ignored_records",
        "malformed_records", "malformed_bytes",
    ]

    /// One row per CPU and a total row. A column an older file lacks (schema 6 added the record accounting) is
    /// NULL: it was not counted.
    public static func table(database: ReportDatabase) throws -> ResultTable {
        let present = Set(try database.query("SELECT name FROM pragma_table_info('counters')").rows.map { $0[0].text })
        let list = columns.joined(separator: ", ")
        let values = columns.map { present.contains($0) ? $0 : "NULL AS \($0)" }.joined(separator: ", ")
        let sums = columns.map { "sum(\($0))" }.joined(separator: ", ")
        return try database.query("""
            WITH c AS (SELECT cpu, \(values) FROM counters)
            SELECT cpu, \(list) FROM (
                SELECT 0 AS ord, cast(cpu AS TEXT) AS cpu, \(list) FROM c
                UNION ALL
                SELECT 1, 'total', \(sums) FROM c HAVING count(*) > 0
            ) ORDER BY ord, cast(cpu AS INTEGER)
            """)
    }

    /// The tprof-monitor style block of totals, then how symbols resolved and how user stacks unwound.
    public static func text(database: ReportDatabase) throws -> String {
        let table = try self.table(database: database)
        guard let totalRow = table.rows.indices.last else { return "tprof statistics: no counters recorded\n" }
        var out = "tprof statistics:\n"
        for column in columns {
            let value = table.value(column, row: totalRow)
            if value == .null { continue } // not counted by the recorder that wrote an older file
            out += "\t\(column) \(value?.text ?? "0")\n"
        }
        let tables = try database.names(of: "table")
        if tables.contains("addresses") {
            out += "symbols (distinct addresses, their samples):\n"
            for row in try database.query("SELECT resolved, addresses, samples FROM symbol_stats").rows {
                out += "\t\(row[0].text) \(row[1].text) addresses, \(row[2].text) samples\n"
            }
            out += try SymbolSources.text(database: database)
        }
        if tables.contains("unwind_stats") {
            let unwinding = try database.query("SELECT reason, samples FROM unwind_stats ORDER BY samples DESC")
            if !unwinding.rows.isEmpty {
                out += "DWARF unwinding (samples per outcome):\n"
                for row in unwinding.rows { out += "\t\(row[0].text) \(row[1].text)\n" }
            }
        }
        return out + (try AnnotationStatistics.text(database: database))
    }
}
