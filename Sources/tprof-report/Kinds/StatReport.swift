import ArgumentParser
import TprofExport
import TprofReport

/// `--stat`: the capture statistics, NetBSD tprof's counters and the kernel's losses.
struct StatReport: ParsableArguments, ReportKind {
    @Flag(help: "Print the capture statistics (NetBSD tprof's counters and the kernel's losses).") var stat = false

    var name: String { "--stat" }
    var isSelected: Bool { stat }
    var takes: SharedInputs { .noFilters }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.metadata)
        if session.output.format == .table { session.write(try Statistics.text(database: run.database) + "\n") }
        let table = try Statistics.table(database: run.database)
        session.write(session.output.format.render(table, width: terminalWidth()))
        session.printWarnings(run)
    }
}
