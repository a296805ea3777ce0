import ArgumentParser
import TprofExport
import TprofReport

/// The report kind a command line asks for, refusing what that kind does not take.
struct ReportSelection {
    /// Every kind that a flag selects, in the order messages list them.
    var selectable: [any ReportKind]

    /// Every kind, those chosen without a flag included, for messages saying where an option goes.
    private var allKinds: [any ReportKind] { [GroupedReport(), DiffReport()] + selectable }

    /// The selected kind; a `ValidationError` names the first option it does not take. Without a flag selecting
    /// one, the report is grouped, or its comparison with the base run.
    func kind(for session: ReportSession) throws -> any ReportKind {
        let selected = selectable.filter(\.isSelected)
        if selected.count > 1 { throw ValidationError("give only one of \(Self.list(selected.map(\.name), "and"))") }
        for other in selectable where !other.isSelected {
            if let option = other.ownOptionsGiven.first { throw ValidationError("\(option) goes with \(other.name)") }
        }
        let kind: any ReportKind = selected.first ?? (session.base == nil ? GroupedReport() : DiffReport())
        let takes = kind.takes
        if !takes.filters, let filter = session.filters.given.first {
            throw ValidationError("\(kind.name) takes no filters such as \(filter)")
        }
        let groupings = session.groupings
        if let grouping = groupings.first(where: { !takes.groupings.contains($0) }) {
            throw ValidationError(takes.groupings.isEmpty ? "\(kind.name) takes no groupings such as \(grouping.flag)"
                : Self.groupingRefusal(kind))
        }
        if groupings.count > takes.maximumGroupings { throw ValidationError(Self.groupingRefusal(kind)) }
        if session.inputs.paths.count > 1 && !takes.severalDatabases {
            throw ValidationError(kind.severalDatabasesRefusal
                ?? "several databases go with \(kindNames { $0.takes.severalDatabases }) only")
        }
        if session.base != nil && !takes.base {
            throw ValidationError("\(kind.name) takes no --diff, which goes with \(kindNames { $0.takes.base })")
        }
        if !takes.formats.contains(session.output.format) {
            throw ValidationError(takes.formats == [.table] ? "\(kind.name) takes no --format"
                : "\(kind.name) prints in --format \(Self.list(takes.formats.map(\.rawValue), "or")), not "
                    + session.output.format.rawValue)
        }
        if session.output.force && kind.outputFile == nil {
            throw ValidationError("--force goes with an output file: "
                + Self.list(allKinds.compactMap(\.outputOption), "or"))
        }
        return kind
    }

    /// The kinds that take something, for messages: "a grouped report, --folded or --flamegraph".
    private func kindNames(taking takes: (any ReportKind) -> Bool) -> String {
        var names: [String] = []
        for kind in allKinds where takes(kind) && !names.contains(kind.name) { names.append(kind.name) }
        return Self.list(names, "or")
    }

    private static func groupingRefusal(_ kind: any ReportKind) -> String {
        let flags = kind.takes.groupings.map(\.flag)
        return flags.count == 1 ? "\(kind.name) goes with \(flags[0]) alone"
            : "\(kind.name) groups by one of \(list(flags, "or"))"
    }

    private static func list(_ names: [String], _ conjunction: String) -> String {
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " \(conjunction) " + names[names.count - 1]
    }
}
