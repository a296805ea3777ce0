import ArgumentParser
import TprofExport
import TprofReport

/// `--folded`: one line per distinct stack with its samples; with `--diff`, the base's count and the new one.
struct FoldedReport: ParsableArguments, ReportKind {
    @Flag(help: ArgumentHelp("Folded stacks (root;...;leaf count) for flamegraph.pl, speedscope, Pyroscope; with "
              + "--off-cpu or --wall the count is microseconds."))
    var folded = false

    var name: String { "--folded" }
    var isSelected: Bool { folded }
    var takes: SharedInputs { SharedInputs(base: true, formats: [.table]) }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.symbols)
        let filter = try session.filters.sampleFilter()
        let profile = try StackProfile.load(database: run.database, filter: filter)
        if profile.stacks.isEmpty { try session.nothingToShow(run) }
        if let base = try session.openBase() {
            session.write(ReportDiff.folded(base: try StackProfile.load(database: base, filter: filter), new: profile))
        } else {
            session.write(profile.folded())
        }
        session.printWarnings(run)
    }
}
