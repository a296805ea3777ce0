/// A perf event as the user names it (`cycles`, `cpu-clock:u`), resolved to its type and config.
public struct EventSpec: Equatable, Sendable {
    /// The name as given, modifiers included.
    public var name: String
    /// The canonical event name without modifiers.
    public var baseName: String
    /// PERF_TYPE_HARDWARE (0) or PERF_TYPE_SOFTWARE (1).
    public var type: UInt32
    public var config: UInt64
    public var excludeUser: Bool
    public var excludeKernel: Bool
    /// For the scheduler tracepoints of `--off-cpu`, what the event reports; nil for the catalog's events.
    public var offCPU: OffCPURole?

    /// The canonical names and their aliases, in `--list-events` order.
    public static let catalog: [(name: String, aliases: [String], type: UInt32, config: UInt64, about: String)] = [
        ("cycles", ["cpu-cycles"], 0, 0, "CPU cycles (hardware)"),
        ("instructions", [], 0, 1, "retired instructions (hardware)"),
        ("cache-references", [], 0, 2, "last-level cache accesses (hardware)"),
        ("cache-misses", [], 0, 3, "last-level cache misses (hardware)"),
        ("branch-instructions", ["branches"], 0, 4, "retired branch instructions (hardware)"),
        ("branch-misses", [], 0, 5, "mispredicted branches (hardware)"),
        ("bus-cycles", [], 0, 6, "bus cycles (hardware)"),
        ("ref-cycles", [], 0, 9, "reference cycles, not scaled by frequency (hardware)"),
        ("cpu-clock", [], 1, 0, "CPU clock timer (software)"),
        ("task-clock", [], 1, 1, "clock of the task's own running time (software)"),
        ("page-faults", ["faults"], 1, 2, "page faults (software)"),
        ("context-switches", ["cs"], 1, 3, "context switches (software)"),
        ("cpu-migrations", ["migrations"], 1, 4, "moves of a task to another CPU (software)"),
        ("minor-faults", [], 1, 5, "page faults served without I/O (software)"),
        ("major-faults", [], 1, 6, "page faults that needed I/O (software)"),
    ]

    /// Why an event name could not be parsed.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unknownEvent(String)
        case badModifier(event: String, modifier: String)
        /// `subsystem:name`, a tracepoint: not a sampling event tprof can open.
        case tracepoint(String)

        public var description: String {
            switch self {
            case .unknownEvent(let name):
                return "unknown event '\(name)' (run 'tprof-record --list-events' for the events this machine has)"
            case .badModifier(let event, let modifier):
                return "bad modifier ':\(modifier)' in event '\(event)' (use :u for user, :k for kernel, :uk for both)"
            case .tracepoint(let name):
                return "tracepoints are not supported: '\(name)' (run 'tprof-record --list-events' for the events "
                    + "tprof can sample)"
            }
        }
    }

    public init(name: String, baseName: String, type: UInt32, config: UInt64, excludeUser: Bool,
                excludeKernel: Bool, offCPU: OffCPURole? = nil) {
        self.offCPU = offCPU
        self.name = name
        self.baseName = baseName
        self.type = type
        self.config = config
        self.excludeUser = excludeUser
        self.excludeKernel = excludeKernel
    }

    /// Parses `NAME[:MODIFIERS]` where modifiers are `u` (user) and `k` (kernel).
    public static func parse(_ text: String) throws -> EventSpec {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let base = parts[0].lowercased()
        guard let entry = catalog.first(where: { $0.name == base || $0.aliases.contains(base) }) else {
            let modifiers = parts.count == 2 ? parts[1] : ""
            if !modifiers.isEmpty && !modifiers.allSatisfy({ $0 == "u" || $0 == "k" }) {
                throw ParseError.tracepoint(text)
            }
            throw ParseError.unknownEvent(text)
        }
        var user = true
        var kernel = true
        if parts.count == 2 {
            let modifiers = String(parts[1])
            guard !modifiers.isEmpty, modifiers.allSatisfy({ $0 == "u" || $0 == "k" }) else {
                throw ParseError.badModifier(event: text, modifier: modifiers)
            }
            user = modifiers.contains("u")
            kernel = modifiers.contains("k")
        }
        return EventSpec(name: text, baseName: entry.name, type: entry.type, config: entry.config,
                         excludeUser: !user, excludeKernel: !kernel)
    }

    /// True when the name gives the modes (`:u`, `:k`, `:uk`): such an event is opened as asked or not at all.
    public var modesGiven: Bool { name.contains(":") }

    /// The same event restricted to user mode, as used when kernel samples are not permitted.
    public var userOnly: EventSpec {
        var spec = self
        spec.excludeKernel = true
        spec.excludeUser = false
        spec.name = baseName + ":u"
        return spec
    }

    /// True for hardware events, which a virtual machine may lack.
    public var isHardware: Bool { type == 0 }
}
