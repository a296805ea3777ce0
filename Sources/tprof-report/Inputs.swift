import Foundation
import TprofFinish
import TprofReport
import TprofStore

extension Report {
    /// Refuses a missing default database with its own message, and a database given twice (its samples would be
    /// counted twice). A database diffed against itself is a self-diff, which is allowed.
    func checkInputs() throws {
        if databases.isEmpty && Report.defaultDatabase.targetStatus() == nil {
            throw ReportError("no database given, and no \(Report.defaultDatabase) here (tprof-record writes it "
                + "by default): give the database to report on, such as run.db")
        }
        var seen: [FileIdentity: BytePath] = [:]
        for path in inputs {
            guard let identity = FileIdentity(path: path) else { continue }
            if let first = seen[identity] {
                throw ReportError("\(first) and \(path) are the same database: give each database once")
            }
            seen[identity] = path
        }
    }

    /// `--resymbolize`: the summary on stdout, one line on stderr per file skipped for its build id.
    func runResymbolize() throws {
        // The checks every report makes (a tprof database, a schema this tool knows), before anything is written.
        _ = try ReportDatabase(path: database)
        let result: Resymbolization.Outcome
        do {
            result = try Resymbolization.run(path: database)
        } catch let failure as Resymbolization.Failure {
            throw ReportError(failure.description)
        }
        if let unwinding = result.unwinding {
            let complete = unwinding.outcomes["complete", default: 0]
            print("unwound \(unwinding.samples) stacks: \(complete) complete, \(unwinding.samples - complete) partial")
        }
        let outcome = result.symbols
        for skipped in outcome.skippedFiles {
            let found = skipped.foundBuildID.map { "build id \($0)" } ?? "no build id"
            FileHandle.standardError.write(Data(("tprof-report: skipped \(skipped.path): it has \(found), the "
                + "recording has \(skipped.recordedBuildID) (not the file that ran)\n").utf8))
        }
        let kept = outcome.kept > 0 ? ", \(outcome.kept) kept their earlier symbol" : ""
        print("resolved \(outcome.addresses) addresses: \(outcome.withSymbol) to symbols, "
            + "\(outcome.libraryOnly) to a library only, \(outcome.unknown) unknown\(kept)")
    }
}
