import Foundation
import TprofDatabase

/// Samples per time bucket per process (or CPU, or symbol): a table in long form (`TimelineSVG` draws it).
public struct Timeline {
    /// What the series are.
    public enum Series: String, Sendable {
        case process, cpu, symbol
        /// Each thread: the series of off-CPU and wall-clock time.
        case thread

        var expression: String {
            switch self {
            case .process: return "pid || ' ' || coalesce(comm, '?')"
            case .cpu: return "'cpu ' || cpu"
            case .symbol: return "symbol"
            case .thread: return "tid || ' ' || coalesce(thread_comm, '?')"
            }
        }
    }

    public var series: Series
    /// Bucket width in seconds.
    public var bucket: Double
    public var filter: SampleFilter

    public init(series: Series, bucket: Double, filter: SampleFilter) {
        self.series = series
        self.bucket = bucket
        self.filter = filter
    }

    /// A bucket width giving about 50 buckets over `duration` seconds, rounded to 1, 2 or 5 times a power of ten.
    public static func bucket(forDuration duration: Double) -> Double {
        let raw = max(duration, 0.001) / 50
        let power = pow(10, floor(log10(raw)))
        for step in [1.0, 2.0, 5.0, 10.0] where raw <= step * power { return step * power }
        return 10 * power
    }

    /// Rows of (second, series, samples): the bucket's start in seconds from the start of the run; off-CPU or
    /// wall-clock time (second, series, milliseconds) when the filter weighs it.
    public func table(database: ReportDatabase) throws -> ResultTable {
        if filter.weight.isTime { return try timeTable(database: database) }
        let view = series == .symbol ? "sample_symbol_facts" : "sample_facts"
        let (whereSQL, bindings) = filter.whereClause()
        let width = Int64(max(1, bucket * 1e9))
        return try database.query("""
            SELECT (time / ?) * ? / 1e9 AS second, \(series.expression) AS series, count(*) AS samples
            FROM \(view) \(whereSQL)
            GROUP BY time / ?, series ORDER BY second, samples DESC, series
            """, [.integer(width), .integer(width)] + bindings + [.integer(width)])
    }
}
