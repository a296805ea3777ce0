import ArgumentParser
import TprofExport
import TprofReport
import TprofStore

/// `--speedscope FILE`: a speedscope JSON profile, one sampled profile per thread.
struct SpeedscopeReport: ParsableArguments, ReportKind {
    @Option(help: ArgumentHelp("Write a speedscope JSON profile to this file.", valueName: "file"))
    var speedscope: BytePath?

    var name: String { "--speedscope" }
    var isSelected: Bool { speedscope != nil }
    var takes: SharedInputs { .filtersOnly }
    var outputOption: String? { "--speedscope" }
    var outputFile: BytePath? { speedscope }

    func run(_ session: ReportSession) throws {
        guard let speedscope else { return }
        let run = try session.open(.symbols)
        let profile = try StackProfile.load(database: run.database, filter: try session.filters.sampleFilter())
        if profile.stacks.isEmpty { try session.nothingToShow(run) }
        let name = "tprof: \(run.command ?? session.path.description)"
        try session.writeOutput(speedscope, try SpeedscopeExport.json(profile, name: name))
        session.printWarnings(run)
    }
}
