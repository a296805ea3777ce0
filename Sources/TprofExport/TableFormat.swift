import Foundation
import TprofReport
import TprofDatabase

/// Aligned columns for a terminal: numbers right-aligned, shares with a percent sign, the widest text column
/// shortened when the table would not fit `maximumWidth`.
struct TableFormat {
    var maximumWidth: Int?
    let gap = "  "

    func render(_ table: ResultTable) -> String {
        let cells = table.rows.map { row in
            row.enumerated().map { index, value in cell(value, column: table.columns[index]) }
        }
        let numeric = table.columns.indices.map { column in
            !table.rows.isEmpty && table.rows.allSatisfy { $0[column].isNumber || $0[column] == .null }
        }
        var widths = table.columns.indices.map { column in
            cells.reduce(table.columns[column].count) { max($0, $1[column].count) }
        }
        if let maximumWidth {
            let total = widths.reduce(0, +) + gap.count * max(0, widths.count - 1)
            let textColumns = widths.indices.filter { !numeric[$0] }
            if total > maximumWidth, let widest = textColumns.max(by: { widths[$0] < widths[$1] }) {
                widths[widest] = max(8, widths[widest] - (total - maximumWidth))
            }
        }
        func line(_ values: [String]) -> String {
            var text = ""
            for (index, value) in values.enumerated() {
                let fitted = value.count > widths[index] ? String(value.prefix(widths[index] - 1)) + "…" : value
                let padding = max(0, widths[index] - fitted.count)
                if index > 0 { text += gap }
                if numeric[index] {
                    text += String(repeating: " ", count: padding) + fitted
                } else {
                    text += fitted
                    // The last column is not padded: with a long name in it, padding every row to its width and
                    // trimming it again took most of a large report's time.
                    if index < values.count - 1 { text += String(repeating: " ", count: padding) }
                }
            }
            while let last = text.last, last.isWhitespace { text.removeLast() }
            return text
        }
        var out = line(table.columns) + "\n"
        out += line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for row in cells { out += line(row) + "\n" }
        return out
    }

    private func cell(_ value: SQLiteValue, column: String) -> String {
        if ["percent", "children", "self"].contains(column), case .real(let share) = value {
            return String(format: "%.2f%%", share)
        }
        return value.text
    }
}
