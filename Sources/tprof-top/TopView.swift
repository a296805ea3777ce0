/// What the rows are grouped by; `s` cycles through them in this order.
enum Grouping: CaseIterable {
    case symbol, process, command, library

    var name: String {
        switch self {
        case .symbol: return "symbol"
        case .process: return "process"
        case .command: return "command"
        case .library: return "library"
        }
    }
}

/// Which samples are shown; `k` cycles through them in this order.
enum ModeFilter: CaseIterable {
    case both, kernel, user

    var name: String {
        switch self {
        case .both: return "kernel+user"
        case .kernel: return "kernel only"
        case .user: return "user only"
        }
    }

    func keeps(kernel: Bool) -> Bool {
        switch self {
        case .both: return true
        case .kernel: return kernel
        case .user: return !kernel
        }
    }
}

/// How the view is set, by the keys.
struct ViewSettings {
    /// Totals since the start (or `z`) rather than the last interval.
    var accumulate = false
    var perCPU = false
    var modes = ModeFilter.both
    var grouping = Grouping.symbol
    var paused = false

    /// The next value of a case list, wrapping around.
    static func next<T: CaseIterable & Equatable>(_ value: T) -> T {
        let all = Array(T.allCases)
        return all[((all.firstIndex(of: value) ?? 0) + 1) % all.count]
    }

    /// Applies a key; false when the key means nothing here.
    mutating func apply(_ key: Character) -> Bool {
        switch key {
        case "a": accumulate.toggle()
        case "c": perCPU.toggle()
        case "k": modes = Self.next(modes)
        case "s": grouping = Self.next(grouping)
        case "p": paused.toggle()
        default: return false
        }
        return true
    }
}

/// One row: its names (by grouping), its samples in all and per CPU.
struct TopRow {
    var names: [String]
    var kernel: Bool?
    var counts: Counts
}

extension TopTotals {
    /// The rows of `settings`' grouping, hottest first, and the samples they share.
    func rows(_ settings: ViewSettings) -> (rows: [TopRow], total: Int) {
        var grouped: [[String]: TopRow] = [:]
        var total = 0
        for (key, counts) in settings.accumulate ? accumulated : interval where settings.modes.keeps(kernel: key.kernel) {
            let names: [String]
            var kernel: Bool?
            switch settings.grouping {
            case .symbol:
                names = [key.symbol, key.library]
                kernel = key.kernel
            case .process: names = [String(key.pid), key.command]
            case .command: names = [key.command]
            case .library: names = [key.library]
            }
            let group = kernel == true ? names + ["[k]"] : names
            grouped[group, default: TopRow(names: names, kernel: kernel,
                                           counts: Counts(perCPU: Array(repeating: 0, count: cpus.count)))]
                .counts.add(counts)
            total += counts.total
        }
        let rows = grouped.values.sorted {
            $0.counts.total != $1.counts.total ? $0.counts.total > $1.counts.total
                : $0.names.lexicographicallyPrecedes($1.names)
        }
        return (rows, total)
    }
}
