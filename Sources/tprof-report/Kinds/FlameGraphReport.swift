import ArgumentParser
import Foundation
import TprofExport
import TprofReport
import TprofStore

/// `--flamegraph FILE`: an interactive SVG flame graph; with `--diff`, coloured by the change against the base.
struct FlameGraphReport: ParsableArguments, ReportKind {
    @Option(help: ArgumentHelp("Write an interactive SVG flame graph to this file.", valueName: "file"))
    var flamegraph: BytePath?
    @Flag(help: "With --flamegraph: the inverted (icicle) view, roots at the top.") var icicle = false

    var name: String { "--flamegraph" }
    var isSelected: Bool { flamegraph != nil }
    var ownOptionsGiven: [String] { icicle ? ["--icicle"] : [] }
    var takes: SharedInputs { SharedInputs(base: true, formats: [.table]) }
    var outputOption: String? { "--flamegraph" }
    var outputFile: BytePath? { flamegraph }

    func run(_ session: ReportSession) throws {
        guard let flamegraph else { return }
        let run = try session.open(.symbols)
        let filter = try session.filters.sampleFilter()
        let profile = try StackProfile.load(database: run.database, filter: filter)
        if profile.stacks.isEmpty { try session.nothingToShow(run) }
        let baseProfile = try session.openBase().map { try StackProfile.load(database: $0, filter: filter) }
        let events = run.header.fields.filter { $0.name == "event" }.map(\.value).joined(separator: "; ")
        let kind = baseProfile == nil ? ""
            : " (differential: red grew, blue shrank against \(session.base?.description ?? ""))"
        let measure = filter.weight == .samples ? "" : filter.weight == .offCPU ? " - off-CPU time (µs)"
            : " - wall-clock time (µs)"
        let title = "tprof: \(run.command ?? "")\(measure)\(kind)"
        let subtitle = "\(events) - \(profile.total) \(profile.weight.stackUnit)"
        let svg = FlameGraph(title: title, subtitle: subtitle, icicle: icicle).render(profile, base: baseProfile)
        try session.writeOutput(flamegraph, Data(svg.utf8), detail: "\(profile.total) \(profile.weight.stackUnit)")
        session.printWarnings(run)
    }
}
