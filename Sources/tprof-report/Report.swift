import ArgumentParser
import TprofCapture
import TprofCLI
import TprofReport
import TprofStore

/// `tprof-report`: reports over a tprof database, through the SQL views of its schema. Each kind of report is an
/// option group (`ReportKind`); the command picks the one its flags select and refuses what that kind does not take.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tprof-report",
        abstract: "Report on a tprof database: samples by process, thread, command, CPU, mode, event, symbol, "
            + "library or source line; call graphs, flame graphs, exports, diffs.",
        // No empty lines: the man page is generated from this text, and mdoc warns about them.
        discussion: """
            Groupings combine: '--by-pid --by-cpu' counts samples per process and CPU. Filters apply to every \
            report. The database is opened read-only and may still be being recorded; without one, tprof.db is \
            read. Output files (--flamegraph, --pprof, --speedscope, --timeline FILE.svg) are never a database \
            read; an existing one is replaced only with --force, and '-' writes to standard output.
            Examples:
              tprof-report run.db --by-pid
              tprof-report run.db --by-symbol --children --user --since 1 --until 3
              tprof-report run.db --tree --depth 6
              tprof-report run.db --annotate '^leaf$'
              tprof-report run.db --flamegraph fg.svg
              tprof-report run.db --pprof run.pb.gz
              tprof-report new.db --diff base.db --by-symbol
              tprof-report run.db --stat
              tprof-report run.db --counts
              tprof-report run.db --sql 'SELECT * FROM by_process LIMIT 5' --format csv
            """,
        version: tprofVersion)

    @OptionGroup var inputs: DatabaseArguments
    @OptionGroup var groupings: GroupingOptions
    @OptionGroup var filters: FilterOptions

    @OptionGroup var inclusive: InclusiveReport
    @OptionGroup var neighbours: NeighbourReport
    @OptionGroup var tree: CallTreeReport
    @OptionGroup var folded: FoldedReport
    @OptionGroup var flameGraph: FlameGraphReport
    @Option(help: ArgumentHelp("Compare with this base run: shares in both and the change; with --folded the "
                                   + "two-count format, with --flamegraph a differential flame graph.",
                               valueName: "base.db"))
    var diff: BytePath?
    @OptionGroup var timeline: TimelineReport
    @OptionGroup var annotate: AnnotateReport
    @OptionGroup var pprof: PprofReport
    @OptionGroup var speedscope: SpeedscopeReport
    @OptionGroup var header: HeaderReport
    @OptionGroup var resymbolize: ResymbolizeReport
    @OptionGroup var stat: StatReport
    @OptionGroup var countsReport: CountsReport
    @OptionGroup var sql: SQLReport

    @OptionGroup var output: OutputOptions

    private var selection: ReportSelection {
        ReportSelection(selectable: [inclusive, neighbours, tree, folded, flameGraph, timeline, annotate, pprof,
                                     speedscope, header, resymbolize, stat, countsReport, sql])
    }

    private var session: ReportSession {
        ReportSession(inputs: inputs, filters: filters, groupings: groupings.groupings, output: output, base: diff)
    }

    func validate() throws {
        _ = try selection.kind(for: session)
    }

    func run() throws {
        let session = session
        let kind = try selection.kind(for: session)
        do {
            try inputs.check()
            if let file = kind.outputFile { try session.destination(file).check() }
            try kind.run(session)
        } catch let error as SQLiteError {
            throw ToolFailure("\(inputs.first): \(error.message)")
        }
    }
}
