import Foundation
import Glibc
import TprofCLI
import TprofDatabase

/// A tprof database opened read-only for reports, checked to be one, with the report views available.
public final class ReportDatabase {
    public let connection: SQLiteDatabase
    public let path: BytePath
    /// The file's `PRAGMA user_version`.
    public let schemaVersion: Int

    /// Opens `path` read-only. Views the file lacks (an older schema) are created in the temporary schema, and so
    /// are the tables and columns it lacks (`OlderTables`), so the file itself is never written.
    public init(path: BytePath) throws {
        self.path = path
        guard let info = path.targetStatus() else {
            let error = errno
            if error == ENOENT { throw ToolFailure("cannot open \(path): no such file") }
            throw ToolFailure("cannot open \(path): \(String(cString: strerror(error)))")
        }
        if info.st_mode & S_IFMT == S_IFDIR { throw ToolFailure("\(path) is a directory, not a tprof database") }
        if access(path.cString, R_OK) != 0 {
            throw ToolFailure("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_size == 0 { throw ToolFailure("\(path) is empty, not a tprof database") }
        guard ReportDatabase.hasSQLiteHeader(path) else {
            throw ToolFailure("\(path) is not a tprof database (not an SQLite file)")
        }
        let finished = ReportDatabase.isFinished(path)
        do {
            // A finished recording has no -wal (or rollback -journal) beside it: it is opened immutable, so reading
            // it creates no -wal and -shm files and works in a directory the user may not write. A file that is
            // still being recorded, or whose recorder was killed, has its -wal: SQLite's locking then reads it too.
            connection = try SQLiteDatabase(path: path, mode: finished ? .immutable : .readOnly)
            let applicationID = try connection.scalarInt("PRAGMA application_id") ?? 0
            guard applicationID == Int64(tprofApplicationID) else {
                throw ToolFailure("\(path) is not a tprof database (an SQLite file written by another program)")
            }
            schemaVersion = Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
        } catch let error as ToolFailure {
            throw error
        } catch {
            if !finished, let problem = ReportDatabase.logProblem(path) { throw ToolFailure(problem) }
            throw ToolFailure("\(path) is damaged or not a tprof database: \(error)")
        }
        let known = EmbeddedSchema.version
        if schemaVersion > known {
            throw ToolFailure("\(path) has schema version \(schemaVersion), newer than this tprof-report "
                + "understands (\(known)); use a newer tprof-report")
        }
        do {
            try connection.registerRegexp()
            if schemaVersion < known { try OlderTables.shimTemporarily(connection) }
            try createCurrentViews()
        } catch {
            throw ToolFailure("\(path) is damaged: \(error)")
        }
    }

    /// A finished recording has no -wal (or rollback -journal) beside it.
    static func isFinished(_ path: BytePath) -> Bool {
        (path + "-wal").targetStatus() == nil && (path + "-journal").targetStatus() == nil
    }

    /// Why SQLite cannot read the -wal of an unfinished file, when the reason lies beside it: the -wal or -shm is
    /// unreadable, or there is no -shm and the directory does not let this user create one (SQLite needs it to
    /// read the -wal; only a finished file, which has none, can be read without).
    static func logProblem(_ path: BytePath) -> String? {
        let unfinished = "\(path) was not finished (its recorder was killed or is still running)"
        for suffix in ["-wal", "-shm"]
        where access((path + suffix).cString, F_OK) == 0 && access((path + suffix).cString, R_OK) != 0 {
            return "\(unfinished), and its \(suffix) cannot be read: \(String(cString: strerror(errno)))"
        }
        let directory = path.split.directory
        if access((path + "-shm").cString, F_OK) != 0 && access(directory.cString, W_OK) != 0 {
            return "\(unfinished): reading its -wal needs a \(path)-shm file, which this user cannot create in "
                + "\(directory); copy \(path) and \(path)-wal to a directory you can write, or have its owner run "
                + "tprof-report --resymbolize on it"
        }
        return nil
    }

    /// Checks another database and attaches it read-only (immutable when finished) as `schema`, for reports over
    /// several runs. Its own views are used, so it must have them.
    public func attach(path: BytePath, as schema: String) throws {
        let other = try ReportDatabase(path: path)
        guard other.schemaVersion >= 2 else {
            throw ToolFailure("\(path) has schema version \(other.schemaVersion), too old to report together with "
                + "others; report on it alone")
        }
        let uri = SQLiteDatabase.uri(path, query: ReportDatabase.isFinished(path) ? "immutable=1" : "mode=ro")
        try connection.prepare("ATTACH DATABASE ? AS \(schema)").run([.text(uri)])
    }

    private static func hasSQLiteHeader(_ path: BytePath) -> Bool {
        let fd = path.open(O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let header = FileHandle(fileDescriptor: fd, closeOnDealloc: false).readData(ofLength: 16)
        return header == Data("SQLite format 3\0".utf8)
    }

    /// Creates, in `temp`, every view of the embedded schema in its latest definition, so that a report reads a
    /// file of any version through this build's views (a fixed view reaches old files too) and never writes it.
    /// TEMP views hide the file's own for unqualified names. An older file's table that a later version made a
    /// view (`stack_addresses`) stays the table.
    private func createCurrentViews() throws {
        let tables = try names(of: "table")
        var order: [String] = []
        var latest: [String: String] = [:]
        for step in EmbeddedSchema.migrations {
            for statement in SQLStatements.split(step.sql) {
                guard let name = SQLStatements.createdView(statement), !tables.contains(name) else { continue }
                if latest[name] == nil { order.append(name) }
                latest[name] = statement
            }
        }
        for name in order {
            guard let statement = latest[name] else { continue }
            try connection.execute(statement.replacingOccurrences(of: "CREATE VIEW ", with: "CREATE TEMP VIEW "))
        }
    }

    /// Names of schema objects of a kind in the main database.
    public func names(of type: String) throws -> Set<String> {
        let statement = try connection.prepare("SELECT name FROM sqlite_master WHERE type = ?")
        try statement.bind([.text(type)])
        var names = Set<String>()
        while try statement.step() {
            if let name = statement.text(0) { names.insert(name) }
        }
        return names
    }

    /// Runs a query and collects the result.
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> ResultTable {
        let statement = try connection.prepare(sql)
        try statement.bind(bindings)
        return try ResultTable(collecting: statement)
    }
}

/// Splitting the schema's SQL into statements, to pick out the views.
enum SQLStatements {
    /// Statements separated by `;` at the end of a line (the style of Schema/); comment lines are dropped.
    static func split(_ sql: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("--") { continue }
            current.append(line)
            if line.hasSuffix(";") {
                statements.append(current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines))
                current.removeAll()
            }
        }
        return statements.filter { !$0.isEmpty }
    }

    /// The view a `CREATE VIEW name AS` statement creates.
    static func createdView(_ statement: String) -> String? {
        guard statement.hasPrefix("CREATE VIEW ") else { return nil }
        return statement.dropFirst("CREATE VIEW ".count).split(separator: " ").first.map(String.init)
    }
}
