import TprofStore
import Foundation

/// A JSON array with one object per row, keyed by column name; numbers stay numbers, NULL is null.
struct JSONFormat {
    func render(_ table: ResultTable) -> String {
        let objects: [[String: Any]] = table.rows.map { row in
            var object: [String: Any] = [:]
            for (index, value) in row.enumerated() {
                switch value {
                case .integer(let v): object[table.columns[index]] = v
                case .real(let v): object[table.columns[index]] = v.isFinite ? v : NSNull()
                case .text(let v): object[table.columns[index]] = v
                case .null: object[table.columns[index]] = NSNull()
                }
            }
            return object
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .prettyPrinted]))
            ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
