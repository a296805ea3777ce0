import TprofDatabase

extension Timeline {
    /// Time per bucket and series (`--off-cpu`, `--wall`): what each selected sample stands for (an off-CPU
    /// interval from its switch-out; with `--wall`, a clock sample's period up to it) split over the buckets it
    /// spans, so a 2 s sleep fills 2 s of buckets rather than the one it started in; cut to `--since`/`--until`.
    func timeTable(database: ReportDatabase) throws -> ResultTable {
        let (whereSQL, bindings) = filter.whereClause()
        let (start, end) = filter.span(onCPU: filter.weight == .wall)
        let width = Int64(max(1, bucket * 1e9))
        let last = try database.connection.prepare("SELECT coalesce(max(\(end)), 0) FROM sample_facts \(whereSQL)")
        try last.bind(bindings)
        let lastEnd = try last.step() ? last.int64(0) : 0
        return try database.query("""
            WITH RECURSIVE buckets (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM buckets WHERE i < ?1 / ?2),
            spans AS (SELECT *, \(start) AS t0, \(end) AS t1 FROM sample_facts \(whereSQL))
            SELECT b.i * ?2 / 1e9 AS second, \(series.expression) AS series,
                   round(sum(min(o.t1, (b.i + 1) * ?2) - max(o.t0, b.i * ?2)) / 1e6, 3) AS "\(filter.weight.column)"
            FROM spans o JOIN buckets b ON b.i BETWEEN o.t0 / ?2 AND o.t1 / ?2
            WHERE min(o.t1, (b.i + 1) * ?2) > max(o.t0, b.i * ?2)
            GROUP BY b.i, series ORDER BY second, 3 DESC, series
            """, [.integer(lastEnd), .integer(width)] + bindings)
    }
}
