import ArgumentParser
import TprofExport
import TprofReport

/// `--counts`: the counts of `tprof-count -o`, or a sampling recording's event totals.
struct CountsReport: ParsableArguments, ReportKind {
    @Flag(help: ArgumentHelp("Print the counts tprof-count wrote (-o), as it printed them; for a sampling "
                             + "recording, each event's total count over the run."))
    var counts = false

    var name: String { "--counts" }
    var isSelected: Bool { counts }
    var takes: SharedInputs { .noFilters }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.metadata)
        let sheet = try CountSheet.read(run.database, path: session.path)
        guard session.output.format == .table else {
            session.write(session.output.format.render(CountSheet.table(
                sheet.rows, intervals: sheet.intervals, threadNames: sheet.threadNames)))
            return
        }
        session.printHeader(of: run)
        let text = PerfStatText(title: run.command.map { "'\($0)'" } ?? "'system wide'",
                                threadNames: sheet.threadNames)
        var cpuTable = CPUCountTable()
        let perCPU = sheet.rows.contains { $0.cpu != nil }
        if sheet.intervals {
            session.write(perCPU ? cpuTable.render(sheet.rows, time: true) : text.interval(sheet.rows, header: true))
        } else if perCPU {
            session.write(text.summary(body: cpuTable.render(sheet.rows, time: false),
                                       elapsed: sheet.rows.map(\.intervalEnd).max() ?? 0, commandTimes: nil))
        } else {
            session.write(text.summary(sheet.rows, elapsed: sheet.rows.map(\.intervalEnd).max() ?? 0,
                                       commandTimes: nil))
        }
        session.printWarnings(run)
    }
}
