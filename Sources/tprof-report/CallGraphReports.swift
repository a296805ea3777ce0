import Foundation
import TprofCLI
import TprofExport
import TprofReport

extension Report {
    /// The reports built from whole stacks.
    func callGraph(_ db: ReportDatabase, filter: SampleFilter, header runHeader: RunHeader,
                           format: OutputFormat, width: Int?, base: ReportDatabase?) throws {
        let profile = try StackProfile.load(database: db, filter: filter)
        if profile.stacks.isEmpty && callers == nil && callees == nil { try nothingToShow(runHeader) }
        let baseProfile = try base.map { try StackProfile.load(database: $0, filter: filter) }
        if folded {
            write(baseProfile.map { ReportDiff.folded(base: $0, new: profile) } ?? profile.folded())
            return
        }
        if let flamegraph {
            let command = runHeader.fields.first { $0.name == "command" }?.value ?? ""
            let events = runHeader.fields.filter { $0.name == "event" }.map(\.value).joined(separator: "; ")
            let against = diff?.description ?? ""
            let kind = baseProfile == nil ? "" : " (differential: red grew, blue shrank against \(against))"
            let svg = FlameGraph(title: "tprof: \(command)\(kind)", subtitle: "\(events) - \(profile.total) samples",
                                 icicle: icicle).render(profile, base: baseProfile)
            try writeOutput(flamegraph, Data(svg.utf8), detail: "\(profile.total) samples")
            return
        }
        if tree && format == .json {
            write(profile.treeJSON(inverted: inverted, depth: depth, percentLimit: percentLimit ?? 0))
            return
        }
        if format == .table { write(runHeader.headerText(path: database) + "\n") }
        if tree {
            write(profile.treeText(inverted: inverted, depth: depth, percentLimit: percentLimit ?? 0))
            return
        }
        var table: ResultTable
        if let symbol = callers ?? callees {
            table = profile.neighbours(of: symbol, callers: callers != nil)
            if table.rows.isEmpty { throw ToolFailure("no sampled stack holds the symbol '\(symbol)'") }
        } else {
            table = profile.inclusiveTable()
        }
        if let percentLimit, let column = table.columns.firstIndex(where: { $0 == "percent" || $0 == "children" }) {
            table.rows = table.rows.filter { row in
                if case .real(let share) = row[column] { return share >= percentLimit }
                return true
            }
        }
        if let limit { table.rows = Array(table.rows.prefix(limit)) }
        write(render(table, format: format, width: width))
    }
}
