import Foundation
import TprofDatabase

/// Comparisons of two runs, each normalised by its own total (`FoldedFormat` compares folded stacks).
public enum ReportDiff {
    /// Joins two `SampleReport` results on their key columns: each key's share in both runs and the change in
    /// percentage points, largest change first.
    public static func compare(base: ResultTable, new: ResultTable) -> ResultTable {
        // The weight follows the percent: samples, or a time (`SampleWeight.column`).
        let weight = new.columns.count > 1 ? new.columns[1] : "samples"
        let keyColumns = new.columns.filter { $0 != "percent" && $0 != weight }
        func index(_ table: ResultTable) -> [[String]: (share: Double, samples: SQLiteValue)] {
            var result: [[String]: (Double, SQLiteValue)] = [:]
            for row in table.rows.indices {
                let key = keyColumns.map { table.value($0, row: row)?.text ?? "" }
                var share = 0.0
                if case .real(let v)? = table.value("percent", row: row) { share = v }
                result[key] = (share, table.value(weight, row: row) ?? .integer(0))
            }
            return result
        }
        let baseRows = index(base)
        let newRows = index(new)
        let keys = Set(baseRows.keys).union(newRows.keys)
        let rows: [[SQLiteValue]] = keys.map { key in
            let b = baseRows[key] ?? (0, .integer(0))
            let n = newRows[key] ?? (0, .integer(0))
            return key.map { SQLiteValue.text($0) } + [
                .real(b.share), .real(n.share), .real(n.share - b.share), b.samples, n.samples,
            ]
        }
        let changeColumn = keyColumns.count + 2
        let sorted = rows.sorted { lhs, rhs in
            guard case .real(let l) = lhs[changeColumn], case .real(let r) = rhs[changeColumn] else { return false }
            if abs(l) != abs(r) { return abs(l) > abs(r) }
            return lhs.map(\.text).joined(separator: "\u{0}") < rhs.map(\.text).joined(separator: "\u{0}")
        }
        return ResultTable(columns: keyColumns + ["base percent", "new percent", "change", "base \(weight)",
                                                  "new \(weight)"], rows: sorted)
    }
}
