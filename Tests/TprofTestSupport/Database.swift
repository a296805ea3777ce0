import Foundation
import TprofStore

/// A recorded database opened read-only, with one-value and one-column queries for assertions.
public final class Database {
    public let connection: SQLiteDatabase

    /// Opens `path` read-only; throws when it is missing or not a database.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestSupportError("database \(path) does not exist")
        }
        connection = try SQLiteDatabase(path: path, mode: .readOnly)
    }

    /// Opens the file named by exactly these bytes read-only.
    public init(path: BytePath) throws {
        connection = try SQLiteDatabase(path: path, mode: .readOnly)
    }

    /// The first column of the first row as an integer; throws when there is no row or the value is NULL.
    public func scalarInt(_ sql: String) throws -> Int64 {
        guard let value = try connection.scalarInt(sql) else {
            throw TestSupportError("no integer from: \(sql)")
        }
        return value
    }

    /// The first column of the first row as text; nil when there is no row or the value is NULL.
    public func scalarText(_ sql: String) throws -> String? {
        let statement = try connection.prepare(sql)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }

    /// Every row of `sql`, each as its column values.
    public func rows(_ sql: String) throws -> [[SQLiteValue]] {
        let statement = try connection.prepare(sql)
        var rows: [[SQLiteValue]] = []
        while try statement.step() {
            rows.append((0..<statement.columnCount).map { statement.value($0) })
        }
        return rows
    }

    /// The first column of every row of `sql`, as integers (NULL rows are left out).
    public func ints(_ sql: String) throws -> [Int64] {
        try rows(sql).compactMap { row in
            if case .integer(let value) = row.first { return value }
            return nil
        }
    }
}
