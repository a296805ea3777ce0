import ArgumentParser
import TprofCLI
import TprofReport

/// `--callers SYMBOL` or `--callees SYMBOL`: the symbols next to one on the sampled stacks, with shares.
struct NeighbourReport: ParsableArguments, ReportKind {
    @Option(help: ArgumentHelp("Who calls this symbol, with shares.", valueName: "symbol")) var callers: String?
    @Option(help: ArgumentHelp("What this symbol calls, with shares.", valueName: "symbol")) var callees: String?

    var name: String { callees != nil ? "--callees" : "--callers" }
    var isSelected: Bool { callers != nil || callees != nil }
    var takes: SharedInputs { SharedInputs() }

    func validate() throws {
        if callers != nil && callees != nil { throw ValidationError("give only one of --callers and --callees") }
    }

    func run(_ session: ReportSession) throws {
        guard let symbol = callers ?? callees else { return }
        let run = try session.open(.symbols)
        let profile = try StackProfile.load(database: run.database, filter: try session.filters.sampleFilter())
        var table = profile.neighbours(of: symbol, callers: callers != nil)
        if table.rows.isEmpty { throw ToolFailure("no sampled stack holds the symbol '\(symbol)'") }
        table.keepRows(session.filters)
        session.printTable(table, of: run)
        session.printWarnings(run)
    }
}

extension ResultTable {
    /// Leaves out rows below --percent-limit (by the share column) and those past --limit.
    mutating func keepRows(_ filters: FilterOptions) {
        if let percentLimit = filters.percentLimit,
           let column = columns.firstIndex(where: { $0 == "percent" || $0 == "children" }) {
            rows = rows.filter { row in
                if case .real(let share) = row[column] { return share >= percentLimit }
                return true
            }
        }
        if let limit = filters.limit { rows = Array(rows.prefix(limit)) }
    }
}
