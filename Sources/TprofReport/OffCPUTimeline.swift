import TprofDatabase

extension Timeline {
    /// Off-CPU time per bucket and series: each interval of `off_cpu_facts` split over the buckets it spans, so a
    /// 2 s sleep fills 2 s of buckets rather than the one it started in. Intervals are taken by their start, as
    /// `--since`/`--until` select them.
    func offCPUTable(database: ReportDatabase) throws -> ResultTable {
        let (whereSQL, bindings) = filter.whereClause()
        let width = Int64(max(1, bucket * 1e9))
        let end = try database.connection.scalarInt("SELECT coalesce(max(time + duration), 0) FROM off_cpu_facts")
            ?? 0
        return try database.query("""
            WITH RECURSIVE buckets (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM buckets WHERE i < ?1 / ?2),
            intervals AS (SELECT * FROM off_cpu_facts \(whereSQL))
            SELECT b.i * ?2 / 1e9 AS second, \(series.expression) AS series,
                   round(sum(min(o.time + o.duration, (b.i + 1) * ?2) - max(o.time, b.i * ?2)) / 1e6, 3)
                       AS "\(SampleWeight.offCPU.column)"
            FROM intervals o JOIN buckets b ON b.i BETWEEN o.time / ?2 AND (o.time + o.duration) / ?2
            WHERE min(o.time + o.duration, (b.i + 1) * ?2) > max(o.time, b.i * ?2)
            GROUP BY b.i, series ORDER BY second, 3 DESC, series
            """, [.integer(end), .integer(width)] + bindings)
    }
}
