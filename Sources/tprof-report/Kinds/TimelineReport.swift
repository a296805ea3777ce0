import ArgumentParser
import Foundation
import TprofCLI
import TprofExport
import TprofReport
import TprofStore

/// `--timeline`: samples per time bucket per process (CPU, symbol), as a table or, to a file, an SVG chart.
struct TimelineReport: ParsableArguments, ReportKind {
    @Flag(help: ArgumentHelp("Samples per time bucket per process (per CPU with --by-cpu, per symbol with "
                             + "--by-symbol); '--timeline FILE.svg' draws the chart instead."))
    var timeline = false
    @Option(help: ArgumentHelp("Write the timeline as an SVG chart to this file (also '--timeline FILE.svg').",
                               valueName: "file.svg"))
    var timelineSvg: BytePath?
    @Option(help: ArgumentHelp("Timeline bucket width (default: about 50 buckets over the run).",
                               valueName: "seconds"))
    var bucket: Double?

    var name: String { "--timeline" }
    var isSelected: Bool { timeline || timelineSvg != nil }
    var ownOptionsGiven: [String] { bucket != nil ? ["--bucket"] : [] }
    var takes: SharedInputs { SharedInputs(groupings: [.pid, .cpu, .symbol], maximumGroupings: 1) }
    var outputOption: String? { "--timeline FILE.svg" }
    var outputFile: BytePath? { timelineSvg }
    // '--timeline NAME' without .svg leaves NAME among the databases (it is not rewritten to --timeline-svg).
    var severalDatabasesRefusal: String? {
        "--timeline takes a file name ending in .svg to draw the chart; without one it prints the table (of one "
            + "database)"
    }

    func validate() throws {
        if let bucket, !(bucket >= 0.000001 && bucket < 1e6) {
            throw ValidationError("bad value \(bucket) for --bucket: it must be a positive number of seconds")
        }
    }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.samples)
        let filter = try session.sampleFilter()
        // Time is drawn per thread (or CPU): an off-CPU interval's own symbol is always the scheduler's.
        if filter.weight.isTime && (session.groupings.first == .symbol || filter.symbol != nil || filter.dso != nil) {
            throw ToolFailure("--timeline draws off-CPU and wall-clock time (--off-cpu, --wall) per thread or CPU, "
                + "without --by-symbol, --symbol or --dso")
        }
        let series: Timeline.Series = switch session.groupings.first {
        case .cpu: .cpu
        case .symbol: .symbol
        default: filter.weight.isTime ? .thread : .process
        }
        let recorded = try run.database.connection.scalarInt("SELECT coalesce(max(time), 0) FROM samples") ?? 0
        let span = (session.filters.until ?? Double(recorded) / 1e9) - (session.filters.since ?? 0)
        let chart = Timeline(series: series, bucket: bucket ?? Timeline.bucket(forDuration: span),
                             filter: filter)
        let table = try chart.table(database: run.database)
        if table.rows.isEmpty { try session.nothingToShow(run) }
        if let timelineSvg {
            let svg = chart.svg(table, title: "tprof timeline: \(run.command ?? "")")
            try session.writeOutput(timelineSvg, Data(svg.utf8))
        }
        if timeline || timelineSvg == nil { session.printTable(table, of: run) }
        session.printWarnings(run)
    }

    /// The command line with `--timeline FILE.svg` spelled `--timeline-svg FILE.svg`: the argument parser has no
    /// option with an optional value, and `--timeline` alone prints the table.
    static func rewritingChartFile(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            if arguments[index] == "--timeline", index + 1 < arguments.count, arguments[index + 1].hasSuffix(".svg") {
                result += ["--timeline-svg", arguments[index + 1]]
                index += 2
            } else {
                result.append(arguments[index])
                index += 1
            }
        }
        return result
    }
}
