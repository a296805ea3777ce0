import ArgumentParser
import TprofExport
import TprofReport

/// The report kind a command line asks for, refusing what that kind does not take.
struct ReportSelection {
    /// Every kind that a flag selects, in the order messages list them.
    var kinds: [any ReportKind]
    /// The kind when no flag selects one: a grouped report, or its comparison with a base run.
    var fallback: any ReportKind
    /// Every kind, the fallbacks included, for messages saying where an option goes.
    var allKinds: [any ReportKind]

    /// The selected kind; a `ValidationError` names the first option it does not take.
    func kind(databases: Int, filters: [String], groupings: [Grouping], base: Bool, output: OutputOptions) throws
        -> any ReportKind {
        let selected = kinds.filter(\.isSelected)
        if selected.count > 1 { throw ValidationError("give only one of \(Self.list(selected.map(\.name), "and"))") }
        for other in kinds where !other.isSelected {
            if let option = other.ownOptionsGiven.first { throw ValidationError("\(option) goes with \(other.name)") }
        }
        let kind = selected.first ?? fallback
        let takes = kind.takes
        if !takes.filters, let filter = filters.first {
            throw ValidationError("\(kind.name) takes no filters such as \(filter)")
        }
        if let grouping = groupings.first(where: { !takes.groupings.contains($0) }) {
            throw ValidationError(takes.groupings.isEmpty ? "\(kind.name) takes no groupings such as \(grouping.flag)"
                : Self.groupingRefusal(kind))
        }
        if groupings.count > takes.maximumGroupings { throw ValidationError(Self.groupingRefusal(kind)) }
        if databases > 1 && !takes.severalDatabases {
            throw ValidationError(kind.severalDatabasesRefusal
                ?? "several databases go with \(kindNames { $0.takes.severalDatabases }) only")
        }
        if base && !takes.base {
            throw ValidationError("\(kind.name) takes no --diff, which goes with \(kindNames { $0.takes.base })")
        }
        if !takes.formats.contains(output.format) {
            throw ValidationError(takes.formats == [.table] ? "\(kind.name) takes no --format"
                : "\(kind.name) prints in --format \(Self.list(takes.formats.map(\.rawValue), "or")), not "
                    + output.format.rawValue)
        }
        if output.force && kind.outputFile == nil {
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
