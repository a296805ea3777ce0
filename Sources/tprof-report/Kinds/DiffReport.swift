import TprofReport

/// A grouped report of two runs (`--diff base.db`): each group's share in both and the change, largest first.
struct DiffReport: ReportKind {
    var name: String { "a grouped report" }
    var isSelected: Bool { false }
    var takes: SharedInputs { SharedInputs(groupings: Grouping.allCases, base: true) }
    var severalDatabasesRefusal: String? {
        "--diff compares one database with its base; several databases go with a grouped report without --diff"
    }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.samples)
        guard let base = try session.openBase() else { return }
        var report = try GroupedReport.sampleReport(session)
        // The limits apply to the comparison, not to either run: a group may be small in one and large in the other.
        report.limit = nil
        report.percentLimit = nil
        var table = ReportDiff.compare(base: try report.run(on: base), new: try report.run(on: run.database))
        if let limit = session.filters.limit { table.rows = Array(table.rows.prefix(limit)) }
        if table.rows.isEmpty { try session.nothingToShow(run) }
        session.printTable(table, of: run)
        session.printWarnings(run)
    }
}
