import Foundation
import TprofExport
import TprofReport
import TprofStore

/// Where reports go: output files through `ReportOutput` (one mechanism for every format), tables on stdout.
extension Report {
    /// Every output file the options name, each checked against the databases this report reads.
    var outputs: [ReportOutput] {
        [flamegraph, pprof, speedscope, timelineSvg].compactMap { $0.map(output) }
    }

    func output(_ path: BytePath) -> ReportOutput {
        ReportOutput(path: path, replacing: force, databases: inputs + (diff.map { [$0] } ?? []))
    }

    /// Writes an output file whole, with one line on stderr saying so.
    func writeOutput(_ path: BytePath, _ data: Data, detail: String? = nil) throws {
        let destination = output(path)
        try destination.write(data)
        let what = detail ?? "\(data.count) bytes"
        FileHandle.standardError.write(Data("tprof-report: wrote \(destination.name) (\(what))\n".utf8))
    }

    /// A table as printed: in tables, libraries by their file name unless --full-paths.
    func render(_ table: ResultTable, format: OutputFormat, width: Int?) -> String {
        format.render(format == .table && !fullPaths ? table.withLibraryFileNames() : table, width: width)
    }

    /// `--timeline`: the table, or the SVG chart with --timeline-svg.
    func writeTimeline(_ db: ReportDatabase, filter: SampleFilter, header runHeader: RunHeader,
                               format: OutputFormat, width: Int?) throws {
        let series: Timeline.Series = groupings == [.cpu] ? .cpu : (groupings == [.symbol] ? .symbol : .process)
        let duration = Double(try db.connection.scalarInt("SELECT coalesce(max(time), 0) FROM samples") ?? 0) / 1e9
        let span = (until ?? duration) - (since ?? 0)
        let chart = Timeline(series: series, bucket: bucket ?? Timeline.bucket(forDuration: span), filter: filter)
        let table = try chart.table(database: db)
        if table.rows.isEmpty { try nothingToShow(runHeader) }
        if let timelineSvg {
            let command = runHeader.fields.first { $0.name == "command" }?.value ?? ""
            try writeOutput(timelineSvg, Data(chart.svg(table, title: "tprof timeline: \(command)").utf8))
            if !timeline { return }
        }
        if format == .table { write(runHeader.headerText(path: database) + "\n") }
        write(render(table, format: format, width: width))
    }
}
