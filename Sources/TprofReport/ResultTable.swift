import Foundation
import TprofDatabase

/// Rows of a query with their column names: what every output format prints.
public struct ResultTable: Equatable {
    public var columns: [String]
    public var rows: [[SQLiteValue]]

    public init(columns: [String], rows: [[SQLiteValue]]) {
        self.columns = columns
        self.rows = rows
    }

    /// Steps `statement` to the end, collecting every row.
    public init(collecting statement: SQLiteStatement) throws {
        let count = statement.columnCount
        columns = (0..<count).map { statement.columnName($0) }
        rows = []
        while try statement.step() {
            rows.append((0..<count).map { statement.value($0) })
        }
    }

    /// The value of `column` in `row`, if there is such a column.
    public func value(_ column: String, row: Int) -> SQLiteValue? {
        guard let index = columns.firstIndex(of: column), row < rows.count else { return nil }
        return rows[row][index]
    }
}

extension SQLiteValue {
    /// The value as text for output; NULL is empty, reals keep two decimals.
    public var text: String {
        switch self {
        case .integer(let v): return String(v)
        case .real(let v): return String(format: "%.2f", v)
        case .text(let v): return v
        case .null: return ""
        }
    }

    public var isNumber: Bool {
        switch self {
        case .integer, .real: return true
        default: return false
        }
    }
}
