import ArgumentParser
import TprofReport

/// `--by-pid`, `--by-tid`, ...: one flag per grouping, which combine.
extension Grouping: EnumerableFlag {
    public static func name(for value: Grouping) -> NameSpecification {
        .customLong("by-\(value.rawValue)")
    }

    public static func help(for value: Grouping) -> ArgumentHelp? {
        switch value {
        case .pid: return "Group by process (pid and command)."
        case .tid: return "Group by thread."
        case .comm: return "Group by command name."
        case .cpu: return "Group by CPU."
        case .mode: return "Group by mode (kernel, user)."
        case .event: return "Group by event."
        case .state: return "Off-CPU time by the state threads left in: sleeping, uninterruptible (I/O), preempted."
        case .dso: return "Group by library or executable."
        case .symbol: return "Group by symbol ([k] kernel, [.] user) with its library."
        case .line: return "Group by source line (DWARF)."
        case .address: return "NetBSD tprof analyze layout: pid, lwp, cpu, k flag, address, symbol+offset."
        }
    }

    /// The flag as it is typed.
    var flag: String { "--by-\(rawValue)" }
}

/// The groupings of a grouped report.
struct GroupingOptions: ParsableArguments {
    @Flag(help: nil) var given: [Grouping] = []

    /// The groupings given, each once, in a fixed order (the order of the columns), whatever the command line's.
    var groupings: [Grouping] { Grouping.allCases.filter(given.contains) }
}
