import ArgumentParser
import TprofExport
import TprofReport

/// `--header`: the run's metadata alone.
struct HeaderReport: ParsableArguments, ReportKind {
    @Flag(help: "Print the run's metadata alone.") var header = false

    var name: String { "--header" }
    var isSelected: Bool { header }
    var takes: SharedInputs { .noFilters }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.metadata)
        session.write(session.output.format == .table ? run.header.headerText(path: session.path)
            : session.output.format.render(run.header.table, width: terminalWidth()))
    }
}
