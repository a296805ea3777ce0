import ArgumentParser
import Foundation
import TprofCLI
import TprofFinish
import TprofReport

/// `--resymbolize`: resolves the symbols again with the files available now, writing them into the database. The
/// summary goes to stdout, one line to stderr per file skipped for its build id.
struct ResymbolizeReport: ParsableArguments, ReportKind {
    @Flag(help: "Resolve the symbols again with the files available now (writes to the database).")
    var resymbolize = false

    @OptionGroup var debuginfod: DebuginfodOption

    var name: String { "--resymbolize" }
    var isSelected: Bool { resymbolize }
    var takes: SharedInputs { SharedInputs(filters: false, formats: [.table]) }

    func run(_ session: ReportSession) throws {
        // The checks every report makes (a tprof database, a schema this tool knows), before anything is written;
        // the connection is closed again before the file is rewritten.
        _ = try session.openDatabase()
        let result: Resymbolization.Outcome
        do {
            result = try Resymbolization.run(path: session.path,
                                             usesDebuginfod: !debuginfod.disabled) { path, buildID in
                FileHandle.standardError.write(Data(
                    "tprof-report: debuginfod: fetching the debug file of \(path) (build id \(buildID))\n".utf8))
            }
        } catch let failure as Resymbolization.Failure {
            throw ToolFailure(failure.description)
        }
        if let unwinding = result.unwinding {
            let complete = unwinding.outcomes["complete", default: 0]
            print("unwound \(unwinding.samples) stacks: \(complete) complete, \(unwinding.samples - complete) partial")
        }
        if let failure = result.debuginfodFailure {
            FileHandle.standardError.write(Data(
                "tprof-report: debuginfod: \(failure); no more debug files were asked for\n".utf8))
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
