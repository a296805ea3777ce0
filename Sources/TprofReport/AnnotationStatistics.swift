/// The `--stat` block on what the recording keeps for `--annotate`: code, source text, and what the bounds left out.
enum AnnotationStatistics {
    static func text(database: ReportDatabase) throws -> String {
        guard database.schemaVersion >= AnnotationSchema.firstVersion else {
            return "annotate: no code kept (recorded before schema \(AnnotationSchema.firstVersion))\n"
        }
        let code = try database.query("""
            SELECT count(*), count(bytes), coalesce(sum(length(bytes)), 0) FROM code
            """).rows.first ?? []
        let source = try database.query("""
            SELECT count(*), coalesce(sum(length(CAST(text AS BLOB))), 0), count(DISTINCT file) FROM source_lines
            """).rows.first ?? []
        var out = "annotate (code and source text kept for --annotate):\n"
        out += "\tfunctions \(code[0].text) (\(code[1].text) with code, \(code[2].text) bytes)\n"
        out += "\tsource \(source[0].text) lines of \(source[2].text) files (\(source[1].text) bytes)\n"
        let limits = try database.query("""
            SELECT function_cap, total_cap, functions_cut, functions_left_out, code_bytes_left_out,
                   source_lines_left_out FROM annotation_limits
            """)
        if let row = limits.rows.first {
            out += "\tleft out: \(row[2].text) functions cut, \(row[3].text) functions without code, "
                + "\(row[4].text) bytes of code, \(row[5].text) source lines (bounds: \(row[0].text) bytes per "
                + "function, \(row[1].text) in all)\n"
        }
        let missing = try database.query("""
            SELECT note, count(*) FROM code WHERE bytes IS NULL GROUP BY note ORDER BY count(*) DESC LIMIT 5
            """)
        for row in missing.rows { out += "\tno code for \(row[1].text) functions: \(row[0].text)\n" }
        return out
    }
}
