import ArgumentParser
import TprofExport
import TprofReport

/// `--tree`: the call tree with percentages, as indented text or nested JSON.
struct CallTreeReport: ParsableArguments, ReportKind {
    @Flag(help: "The call tree, top-down, with percentages.") var tree = false
    @Option(help: ArgumentHelp("With --tree: at most N levels.", valueName: "n")) var depth: Int?
    @Flag(help: "With --tree: bottom-up, from the leaves.") var inverted = false

    var name: String { "--tree" }
    var isSelected: Bool { tree }
    var ownOptionsGiven: [String] { [("--depth", depth != nil), ("--inverted", inverted)].filter(\.1).map(\.0) }
    var takes: SharedInputs { SharedInputs(formats: [.table, .json]) }

    func validate() throws {
        if let depth, depth < 1 { throw ValidationError("bad value \(depth) for --depth: it must be at least 1") }
    }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.symbols)
        let profile = try StackProfile.load(database: run.database, filter: try session.filters.sampleFilter())
        if profile.stacks.isEmpty { try session.nothingToShow(run) }
        let percentLimit = session.filters.percentLimit ?? 0
        if session.output.format == .json {
            session.write(profile.treeJSON(inverted: inverted, depth: depth, percentLimit: percentLimit))
        } else {
            session.printHeader(of: run)
            session.write(profile.treeText(inverted: inverted, depth: depth, percentLimit: percentLimit))
        }
        session.printWarnings(run)
    }
}
