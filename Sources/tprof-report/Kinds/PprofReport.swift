import ArgumentParser
import TprofExport
import TprofStore

/// `--pprof FILE`: a gzipped pprof profile (profile.proto) for go tool pprof, Pyroscope and Parca.
struct PprofReport: ParsableArguments, ReportKind {
    @Option(help: ArgumentHelp("Write a gzipped pprof profile (profile.proto) to this file.", valueName: "file"))
    var pprof: BytePath?

    var name: String { "--pprof" }
    var isSelected: Bool { pprof != nil }
    var takes: SharedInputs { .filtersOnly }
    var outputOption: String? { "--pprof" }
    var outputFile: BytePath? { pprof }

    func run(_ session: ReportSession) throws {
        guard let pprof else { return }
        let run = try session.open(.symbols)
        let filter = try session.filters.sampleFilter()
        try session.writeOutput(pprof, try PprofExport.gzippedData(database: run.database, filter: filter))
        session.printWarnings(run)
    }
}
