import TprofDatabase

/// `--stat`'s account of symbols: where each sampled file's symbols came from, and why unresolved samples are
/// unresolved. Needs schema 13's `dsos.file_source`; an older file has neither section.
enum SymbolSources {
    /// Why a sampled address has no symbol, from its `addresses` and `dsos` rows; the order in which they are said.
    static let causeSQL = """
        CASE
            WHEN a.dso_id IS NULL THEN 'outside any mapping'
            WHEN d.file_source IS NULL AND d.kind IN ('executable', 'library', 'anonymous', 'jit', 'unknown')
                THEN 'no file'
            WHEN d.symbol_source IN ('dynsym', 'none') AND d.file_source IS NOT NULL THEN 'stripped'
            ELSE 'no symbols'
        END
        """

    /// Files listed at most, the most sampled first: a system-wide recording samples hundreds.
    static let filesShown = 20

    static func text(database: ReportDatabase) throws -> String {
        let columns = try database.query("SELECT name FROM pragma_table_info('dsos')").rows.map { $0[0].text }
        guard columns.contains("file_source") else { return "" }
        var out = "symbol sources (sampled files: symbols, file, debug file, samples):\n"
        let files = try database.query("""
            SELECT d.path, d.symbol_source, coalesce(d.file_source, '-'), coalesce(d.debug_source, '-'),
                   sum(c.samples) AS samples
            FROM symbol_counts c JOIN addresses a ON a.id = c.address_id JOIN dsos d ON d.id = a.dso_id
            GROUP BY d.id ORDER BY samples DESC, d.path
            """)
        for row in files.rows.prefix(Self.filesShown) {
            out += "\t\(row[0].text): \(row[1].text), \(row[2].text), \(row[3].text), \(row[4].text)\n"
        }
        if files.rows.count > Self.filesShown {
            out += "\t(\(files.rows.count - Self.filesShown) more files: SELECT * FROM dsos)\n"
        }
        let causes = try database.query("""
            SELECT \(causeSQL) AS cause, count(DISTINCT a.id), sum(c.samples) AS samples
            FROM symbol_counts c JOIN addresses a ON a.id = c.address_id LEFT JOIN dsos d ON d.id = a.dso_id
            WHERE a.symbol_id IS NULL AND a.name != '[truncated]'
            GROUP BY cause ORDER BY samples DESC
            """)
        if !causes.rows.isEmpty {
            out += "unresolved samples by cause (distinct addresses, their samples):\n"
            for row in causes.rows { out += "\t\(row[0].text) \(row[1].text) addresses, \(row[2].text) samples\n" }
        }
        return out
    }
}
