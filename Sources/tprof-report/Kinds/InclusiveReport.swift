import ArgumentParser
import TprofReport

/// `--by-symbol --children`: each symbol's inclusive share (anywhere on the stack) beside its self share.
struct InclusiveReport: ParsableArguments, ReportKind {
    @Flag(help: "With --by-symbol: inclusive shares (the symbol anywhere on the stack) beside self shares.")
    var children = false

    var name: String { "--children" }
    var isSelected: Bool { children }
    var takes: SharedInputs { SharedInputs(groupings: [.symbol], maximumGroupings: 1) }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.symbols)
        let profile = try StackProfile.load(database: run.database, filter: try session.filters.sampleFilter())
        if profile.stacks.isEmpty { try session.nothingToShow(run) }
        var table = profile.inclusiveTable()
        table.keepRows(session.filters)
        session.printTable(table, of: run)
        session.printWarnings(run)
    }
}
