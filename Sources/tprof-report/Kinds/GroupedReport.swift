import TprofReport

/// Samples counted per group (`--by-pid --by-cpu` ...; per process when no grouping is given), over one database
/// or several read in place.
struct GroupedReport: ReportKind {
    var name: String { "a grouped report" }
    var isSelected: Bool { false }
    var takes: SharedInputs { SharedInputs(groupings: Grouping.allCases, severalDatabases: true) }

    func run(_ session: ReportSession) throws {
        let run = try session.open(.samples)
        var report = try Self.sampleReport(session)
        report.sources = try attachOthers(session, to: run.database)
        let table = try report.run(on: run.database)
        if table.rows.isEmpty { try session.nothingToShow(run) }
        session.printTable(table, of: run)
        session.printWarnings(run)
    }

    /// The report's query: its groupings (by process when none is given), filters and row limits.
    static func sampleReport(_ session: ReportSession) throws -> SampleReport {
        SampleReport(groupings: session.groupings.isEmpty ? [.pid] : session.groupings,
                     filter: try session.sampleFilter(), limit: session.filters.limit,
                     percentLimit: session.filters.percentLimit)
    }

    /// Attaches every further database read-only to `database`; returns the report's sources.
    private func attachOthers(_ session: ReportSession, to database: ReportDatabase) throws
        -> [(schema: String, label: String)] {
        var sources: [(schema: String, label: String)] = [("main", session.path.description)]
        for (index, path) in session.inputs.paths.enumerated().dropFirst() {
            let schema = "db\(index + 1)"
            try database.attach(path: path, as: schema)
            sources.append((schema, path.description))
        }
        return sources
    }
}
