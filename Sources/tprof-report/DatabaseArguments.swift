import ArgumentParser
import TprofCLI
import TprofReport
import TprofStore

/// The databases a report reads.
struct DatabaseArguments: ParsableArguments {
    @Argument(help: ArgumentHelp("The database tprof-record wrote (default: tprof.db); several give one report "
                                 + "with a 'database' column, each read in place.", valueName: "database"))
    var databases: [BytePath] = []

    /// The database read when none is given, as perf report reads perf.data.
    static let defaultDatabase: BytePath = "tprof.db"

    /// The databases read: those given, or the default one.
    var paths: [BytePath] { databases.isEmpty ? [Self.defaultDatabase] : databases }

    /// The first (usually the only) database.
    var first: BytePath { paths[0] }

    /// Refuses a missing default database with its own message, and a database given twice (its samples would be
    /// counted twice). A database diffed against itself is a self-diff, which is allowed.
    func check() throws {
        if databases.isEmpty && Self.defaultDatabase.targetStatus() == nil {
            throw ToolFailure("no database given, and no \(Self.defaultDatabase) here (tprof-record writes it "
                + "by default): give the database to report on, such as run.db")
        }
        var seen: [FileIdentity: BytePath] = [:]
        for path in paths {
            guard let identity = FileIdentity(path: path) else { continue }
            if let first = seen[identity] {
                throw ToolFailure("\(first) and \(path) are the same database: give each database once")
            }
            seen[identity] = path
        }
    }
}
