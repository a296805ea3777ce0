import CSQLite
import Foundation

/// An SQLite failure with the library's message.
public struct SQLiteError: Error, CustomStringConvertible, Equatable {
    /// The primary result code (SQLITE_FULL, SQLITE_CORRUPT, ...).
    public var code: Int32
    public var message: String

    public var description: String { message }

    /// True when the disk or the database file is full.
    public var isDiskFull: Bool { code & 0xff == SQLITE_FULL }
}

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer; it does not import.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection. Not shared between threads: each thread opens its own.
public final class SQLiteDatabase {
    let handle: OpaquePointer
    public let path: BytePath

    /// How to open the file.
    public enum Mode {
        case readWrite
        /// Creates the file; fails when it exists.
        case create
        case readOnly
        /// Read-only for a file that nothing writes any more (`immutable=1`): SQLite takes no locks and creates no
        /// -wal or -shm file beside it, so it needs no write access to the directory. Wrong for a file being written.
        case immutable
    }

    /// Opens the file named by `path` in UTF-8.
    /// - Parameter followingSymlink: false refuses a path that is a symlink (SQLITE_OPEN_NOFOLLOW).
    public convenience init(path: String, mode: Mode, followingSymlink: Bool = true) throws {
        try self.init(path: BytePath(path), mode: mode, followingSymlink: followingSymlink)
    }

    /// Opens the file named by `path`, byte for byte: SQLite's unix VFS hands the name to open(2) unchanged (and a
    /// URI percent-encodes every byte).
    /// - Parameter followingSymlink: false refuses a path that is a symlink (SQLITE_OPEN_NOFOLLOW).
    public init(path: BytePath, mode: Mode, followingSymlink: Bool = true) throws {
        self.path = path
        var db: OpaquePointer?
        let flags: Int32
        switch mode {
        case .readWrite: flags = SQLITE_OPEN_READWRITE
        case .create: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readOnly: flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
        case .immutable: flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
        }
        // Read-only connections take URIs, so files attached to them can be opened read-only or immutable too.
        let name: [CChar]
        switch mode {
        case .immutable: name = Array(SQLiteDatabase.uri(path, query: "immutable=1").utf8CString)
        case .readOnly: name = Array(SQLiteDatabase.uri(path, query: "mode=ro").utf8CString)
        default: name = path.cString
        }
        let noFollow = followingSymlink ? 0 : SQLITE_OPEN_NOFOLLOW
        let rc = sqlite3_open_v2(name, &db, flags | noFollow | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
    }

    deinit { sqlite3_close_v2(handle) }

    /// `file:PATH?QUERY`, with every byte of the path but unreserved ones and '/' percent-encoded.
    public static func uri(_ path: BytePath, query: String) -> String {
        var encoded = ""
        for byte in path.bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"), UInt8(ascii: "/"):
                encoded.append(Character(Unicode.Scalar(byte)))
            default:
                encoded += String(format: "%%%02X", byte)
            }
        }
        // An absolute path gets an empty authority (file:///...), so a path starting with // is not read as a host.
        return (path.bytes.first == UInt8(ascii: "/") ? "file://" : "file:") + encoded + "?" + query
    }

    /// Attaches the database file at `path` as `schema`, by the bytes of its name: they are bound as a blob, which
    /// ATTACH reads back as text with the same bytes (a Swift string could not hold bytes that are not UTF-8).
    public func attach(_ path: BytePath, as schema: String) throws {
        let statement = try prepare("ATTACH DATABASE ? AS \(schema)")
        path.bytes.withUnsafeBytes { statement.bind(1, blob: $0) }
        try statement.runBound()
    }

    /// True while the path SQLite opened the file of `schema` by still leads to that file (SQLITE_FCNTL_HAS_MOVED).
    public func isUnmoved(schema: String = "main") -> Bool {
        var moved: Int32 = 0
        return sqlite3_file_control(handle, schema, SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved == 0
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: rc, message: message)
        }
    }

    public func prepare(_ sql: String) throws -> SQLiteStatement {
        try SQLiteStatement(database: self, sql: sql)
    }

    /// Prepares user-supplied SQL that must be exactly one statement.
    public func prepareSingle(_ sql: String) throws -> SQLiteStatement {
        let statement = try SQLiteStatement(database: self, sql: sql, requireSingle: true)
        return statement
    }

    /// Adds `x REGEXP pattern` (POSIX extended regular expressions, compiled once per statement).
    public func registerRegexp() throws {
        let rc = sqlite3_create_function_v2(handle, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil, { context, _, arguments in
            guard let arguments, let patternText = sqlite3_value_text(arguments[0]) else {
                sqlite3_result_null(context)
                return
            }
            var compiled = sqlite3_get_auxdata(context, 0)?.assumingMemoryBound(to: regex_t.self)
            if compiled == nil {
                let fresh = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
                let rc = patternText.withMemoryRebound(to: CChar.self, capacity: 1) {
                    regcomp(fresh, $0, REG_EXTENDED | REG_NOSUB)
                }
                if rc != 0 {
                    fresh.deallocate()
                    sqlite3_result_error(context, "invalid regular expression", -1)
                    return
                }
                sqlite3_set_auxdata(context, 0, fresh) { pointer in
                    guard let regex = pointer?.assumingMemoryBound(to: regex_t.self) else { return }
                    regfree(regex)
                    regex.deallocate()
                }
                compiled = sqlite3_get_auxdata(context, 0)?.assumingMemoryBound(to: regex_t.self)
            }
            guard let compiled, let subject = sqlite3_value_text(arguments[1]) else {
                sqlite3_result_int(context, 0)
                return
            }
            let matched = subject.withMemoryRebound(to: CChar.self, capacity: 1) { regexec(compiled, $0, 0, nil, 0) }
            sqlite3_result_int(context, matched == 0 ? 1 : 0)
        }, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    /// Makes the connection refuse every change, to any file: no writes, no ATTACH.
    public func makeQueryOnly() throws {
        try execute("PRAGMA query_only = ON")
        sqlite3_limit(handle, SQLITE_LIMIT_ATTACHED, 0)
    }

    /// The first column of the first row of `sql`, as an integer.
    public func scalarInt(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int64? {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int64(0)
    }

    func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// The rowid of the last row inserted on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }
}

/// A value bound to a statement parameter.
public enum SQLiteValue: Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null

    public init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}

/// A prepared statement, kept and reused for speed.
public final class SQLiteStatement {
    let handle: OpaquePointer
    private unowned let database: SQLiteDatabase

    init(database: SQLiteDatabase, sql: String, requireSingle: Bool = false) throws {
        var statement: OpaquePointer?
        var rest = ""
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(database.handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            if let tail { rest = String(cString: tail) }
            return rc
        }
        guard rc == SQLITE_OK, let statement else {
            if rc == SQLITE_OK { throw SQLiteError(code: SQLITE_MISUSE, message: "no SQL statement given") }
            throw database.error(rc)
        }
        if requireSingle && !rest.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\n;")).isEmpty {
            sqlite3_finalize(statement)
            throw SQLiteError(code: SQLITE_MISUSE, message: "give one SQL statement at a time")
        }
        self.handle = statement
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    /// The first bind that failed since the statement was last reset, with SQLite's message: the next step throws
    /// it. Kept rather than thrown so the writer's hot binding loops need no `try` per column.
    private var bindFailure: SQLiteError?

    @inline(__always)
    private func check(_ rc: Int32) {
        if rc != SQLITE_OK && bindFailure == nil { bindFailure = database.error(rc) }
    }

    /// Resets the statement for new bindings; a bind failure is forgotten with them.
    private func reset() {
        sqlite3_reset(handle)
        bindFailure = nil
    }

    /// Throws a bind failure, resetting the statement so it can be bound again.
    @inline(__always)
    private func throwBindFailure() throws {
        guard let failure = bindFailure else { return }
        reset()
        throw failure
    }

    @inline(__always)
    public func bind(_ index: Int32, _ value: Int64) {
        check(sqlite3_bind_int64(handle, index, value))
    }

    @inline(__always)
    public func bindNull(_ index: Int32) {
        check(sqlite3_bind_null(handle, index))
    }

    /// Binds bytes as a blob (copied by SQLite).
    public func bind(_ index: Int32, blob: UnsafeRawBufferPointer) {
        check(sqlite3_bind_blob(handle, index, blob.baseAddress, Int32(blob.count), transient))
    }

    public func bind(_ index: Int32, _ value: SQLiteValue) {
        switch value {
        case .integer(let v): check(sqlite3_bind_int64(handle, index, v))
        case .real(let v): check(sqlite3_bind_double(handle, index, v))
        case .text(let v): check(sqlite3_bind_text(handle, index, v, -1, transient))
        case .null: check(sqlite3_bind_null(handle, index))
        }
    }

    public func bind(_ values: [SQLiteValue]) throws {
        reset()
        for (i, value) in values.enumerated() { bind(Int32(i + 1), value) }
        try throwBindFailure()
    }

    /// Steps once: true when a row is available.
    @discardableResult
    public func step() throws -> Bool {
        try throwBindFailure()
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw database.error(rc)
    }

    /// Runs an INSERT/UPDATE once and resets.
    public func run(_ values: [SQLiteValue]) throws {
        try bind(values)
        defer { reset() }
        try step()
    }

    /// Steps to completion and resets, for a statement bound with `bind(_:_:)`.
    @inline(__always)
    public func runBound() throws {
        try throwBindFailure()
        let rc = sqlite3_step(handle)
        reset()
        if rc != SQLITE_DONE && rc != SQLITE_ROW { throw database.error(rc) }
    }

    public var columnCount: Int32 { sqlite3_column_count(handle) }
    public func columnName(_ i: Int32) -> String { String(cString: sqlite3_column_name(handle, i)) }
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
    public func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    public func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }
    /// The column's bytes, valid until the next step or reset.
    public func blob(_ i: Int32) -> UnsafeRawBufferPointer {
        let count = Int(sqlite3_column_bytes(handle, i))
        return UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, i), count: count)
    }
    public func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, i) else { return nil }
        return String(cString: p)
    }

    /// The column as a value of its stored type.
    public func value(_ i: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, i) {
        case SQLITE_INTEGER: return .integer(int64(i))
        case SQLITE_FLOAT: return .real(double(i))
        case SQLITE_NULL: return .null
        default: return .text(text(i) ?? "")
        }
    }
}
