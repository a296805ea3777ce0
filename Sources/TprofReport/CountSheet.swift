import Foundation
import TprofCLI
import TprofDatabase

/// A metric perf stat derives from a count and the others of its interval, CPU and thread: CPUs utilized, a rate
/// per second of task-clock, GHz, instructions per cycle, the share of branches missed.
public struct CountMetric: Equatable {
    public var value: Double
    /// What the value is, as perf stat words it: "CPUs utilized", "K/sec", "insn per cycle", "of all branches".
    public var unit: String
    /// True when the value is a percentage (printed with %).
    public var isPercent = false

    public init(value: Double, unit: String, isPercent: Bool = false) {
        self.value = value
        self.unit = unit
        self.isPercent = isPercent
    }
}

/// tprof-count's counts as rows with perf stat's units and derived metrics: what its output formats and
/// `tprof-report --counts` print.
public enum CountSheet {
    /// The columns of the csv and json output, one row per event (and interval, CPU, thread).
    public static let columns = [
        "interval", "cpu", "tid", "comm", "event", "value", "unit", "status", "time_enabled", "time_running",
        "percent_running", "metric", "metric_unit",
    ]

    /// Events counted in nanoseconds, which perf stat shows in msec.
    static let clockEvents: Set<String> = ["task-clock", "cpu-clock"]

    /// The unit the value of `row` is shown in: msec for the clocks, none for counts.
    public static func unit(of row: CountRow) -> String { clockEvents.contains(row.baseName) ? "msec" : "" }

    /// The scaled value of `row` in its unit, nil when it was not counted.
    public static func value(of row: CountRow) -> Double? {
        guard let value = row.scaledValue else { return nil }
        return clockEvents.contains(row.baseName) ? value / 1e6 : value
    }

    /// The count as perf stat prints it (clocks in msec with two decimals), or why there is none.
    public static func countText(_ row: CountRow) -> String {
        switch row.status {
        case .notSupported: return "<not supported>"
        case .notCounted: return "<not counted>"
        case .counted:
            let count = value(of: row) ?? 0
            return unit(of: row).isEmpty ? String(format: "%.0f", count) : String(format: "%.2f", count)
        }
    }

    /// The metric perf stat prints beside `row`, from the rows of the same interval, CPU and thread (`group`).
    public static func metric(for row: CountRow, in group: [CountRow]) -> CountMetric? {
        guard let value = row.scaledValue else { return nil }
        func scaled(_ name: String) -> Double? {
            group.first { $0.baseName == name }?.scaledValue.flatMap { $0 > 0 ? $0 : nil }
        }
        let taskClock = scaled("task-clock")
        let seconds = (taskClock ?? Double(row.intervalEnd - row.intervalStart)) / 1e9
        switch row.baseName {
        case "task-clock", "cpu-clock":
            let elapsed = Double(row.intervalEnd - row.intervalStart)
            return elapsed > 0 ? CountMetric(value: value / elapsed, unit: "CPUs utilized") : nil
        case "cycles":
            return taskClock.map { CountMetric(value: value / $0, unit: "GHz") }
        case "instructions":
            return scaled("cycles").map { CountMetric(value: value / $0, unit: "insn per cycle") }
        case "branch-misses":
            return scaled("branch-instructions").map {
                CountMetric(value: value * 100 / $0, unit: "of all branches", isPercent: true)
            }
        default:
            guard seconds > 0 else { return nil }
            return rate(value / seconds)
        }
    }

    /// A rate per second with perf stat's prefixes: 98.824 K/sec.
    static func rate(_ perSecond: Double) -> CountMetric {
        for (scale, prefix) in [(1e9, "G"), (1e6, "M"), (1e3, "K")] where perSecond >= scale {
            return CountMetric(value: perSecond / scale, unit: "\(prefix)/sec")
        }
        return CountMetric(value: perSecond, unit: "/sec")
    }

    /// The rows grouped as metrics see them: by interval, CPU and thread, in order.
    public static func groups(_ rows: [CountRow]) -> [[CountRow]] {
        var order: [GroupKey] = []
        var members: [GroupKey: [CountRow]] = [:]
        for row in rows {
            let key = GroupKey(end: row.intervalEnd, cpu: row.cpu, tid: row.tid)
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(row)
        }
        return order.map { members[$0]! }
    }

    private struct GroupKey: Hashable {
        var end: UInt64
        var cpu: Int?
        var tid: Int32?
    }

    /// The rows as a table with named columns; `intervals` gives each its interval's end in seconds (-I).
    public static func table(_ rows: [CountRow], intervals: Bool, threadNames: [Int32: String]) -> ResultTable {
        var metrics: [CountRow: CountMetric] = [:]
        for group in groups(rows) {
            for row in group { metrics[row] = metric(for: row, in: group) }
        }
        return ResultTable(columns: columns, rows: rows.map { row in
            let value = Self.value(of: row)
            let metric = metrics[row] ?? nil
            return [
                intervals ? .real(Double(row.intervalEnd) / 1e9) : .null, SQLiteValue(row.cpu),
                SQLiteValue(row.tid.map(Int.init)), SQLiteValue(row.tid.flatMap { threadNames[$0] }),
                .text(row.event),
                value.map { value in
                    clockEvents.contains(row.baseName) ? .real(value)
                        : Int64(exactly: value.rounded()).map { .integer($0) } ?? .real(value)
                } ?? .null,
                .text(unit(of: row)), .text(row.status.rawValue), .integer(Int64(bitPattern: row.timeEnabled)),
                .integer(Int64(bitPattern: row.timeRunning)), row.value == nil ? .null : .real(row.percentRunning),
                metric.map { .real($0.value) } ?? .null, SQLiteValue(metric?.unit),
            ]
        })
    }

    /// The counts of a database: its `counts` (tprof-count -o), or for a sampling recording each event's total
    /// over the run, which tprof-record keeps in `events`. Throws when it has neither. A recording's totals are
    /// shown as counted, unscaled: it opens an event per CPU for each task, so its summed enabled time exceeds
    /// the running time without any multiplexing.
    public static func read(_ database: ReportDatabase, path: BytePath) throws
        -> (rows: [CountRow], intervals: Bool, threadNames: [Int32: String]) {
        let counts = try database.query("""
            SELECT c.interval_start, c.interval_end, c.cpu, c.tid, e.name, e.base_name, c.value, c.time_enabled,
                   c.time_running, (SELECT t.comm FROM threads t WHERE t.tid = c.tid LIMIT 1)
            FROM counts c JOIN events e ON e.id = c.event ORDER BY c.interval_end, c.rowid
            """)
        var threadNames: [Int32: String] = [:]
        var rows = counts.rows.map { values -> CountRow in
            let tid = values[3].int64.map { Int32(truncatingIfNeeded: $0) }
            if let tid, case .text(let comm) = values[9] { threadNames[tid] = comm }
            return CountRow(
                intervalStart: UInt64(bitPattern: values[0].int64 ?? 0),
                intervalEnd: UInt64(bitPattern: values[1].int64 ?? 0), cpu: values[2].int64.map { Int($0) },
                tid: tid, event: values[4].text, baseName: values[5].text,
                value: values[6].int64.map { UInt64(bitPattern: $0) },
                timeEnabled: UInt64(bitPattern: values[7].int64 ?? 0),
                timeRunning: UInt64(bitPattern: values[8].int64 ?? 0))
        }
        let intervals = Set(rows.map(\.intervalStart)).count > 1
        if rows.isEmpty {
            let totals = try database.query("""
                SELECT e.name, e.base_name, e.count, coalesce(e.time_running_ns, 0), coalesce(e.time_running_ns, 0),
                       coalesce((SELECT duration_ns FROM run), 0)
                FROM events e WHERE e.count IS NOT NULL ORDER BY e.id
                """)
            rows = totals.rows.map { values in
                CountRow(intervalStart: 0, intervalEnd: UInt64(bitPattern: values[5].int64 ?? 0), cpu: nil,
                         tid: nil, event: values[0].text, baseName: values[1].text,
                         value: values[2].int64.map { UInt64(bitPattern: $0) },
                         timeEnabled: UInt64(bitPattern: values[3].int64 ?? 0),
                         timeRunning: UInt64(bitPattern: values[4].int64 ?? 0))
            }
        }
        guard !rows.isEmpty else {
            throw ToolFailure("\(path) holds no counts: it was not written by 'tprof-count -o', and its run kept no "
                + "event totals")
        }
        return (rows, intervals, threadNames)
    }
}

extension SQLiteValue {
    /// The value when it is an integer.
    fileprivate var int64: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}
