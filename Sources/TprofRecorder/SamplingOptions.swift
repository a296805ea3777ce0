import ArgumentParser
import TprofCapture
import TprofCLI

/// The options tprof-record and tprof-top share: what to sample (-e, -F, -c) and where (-p, -a, -C).
public struct SamplingOptions: ParsableArguments {
    @Option(name: [.short, .customLong("event")], parsing: .singleValue,
            help: ArgumentHelp("Event to sample, repeatable or comma-separated; NAME:u user only, NAME:k kernel only. "
                + "Default: cycles where the CPU has it, else cpu-clock.", valueName: "event"),
            completion: .list(EventSpec.catalog.flatMap { [$0.name] + $0.aliases }))
    public var events: [String] = []

    // Numbers are read whatever they start with, so '-F -5' is a bad value rather than a missing one.
    @Option(name: [.customShort("F"), .customLong("freq")], parsing: .unconditional,
            help: ArgumentHelp("Samples per second per CPU (default 999).", valueName: "hz"))
    public var frequency: Int64?

    @Option(name: [.customShort("c"), .customLong("count")], parsing: .unconditional,
            help: ArgumentHelp("Sample every N events instead of at a frequency.", valueName: "period"))
    public var period: Int64?

    @Option(name: [.short, .customLong("pid")], parsing: .unconditional,
            help: ArgumentHelp("Attach to these processes (all their threads).", valueName: "pid,..."))
    public var pids: String?

    @Flag(name: [.customShort("a"), .customLong("all-cpus")], help: "Record the whole system.")
    public var systemWide = false

    @Option(name: [.customShort("C"), .customLong("cpu")], parsing: .unconditional,
            help: ArgumentHelp("Only these CPUs, as 0-3,6.", valueName: "cpulist"))
    public var cpuList: String?

    public init() {}

    /// The events of every -e, split at commas; an empty name stays, to be refused.
    public var eventNames: [String] {
        events.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// -F and -c as given, by name, for the checks of numeric options.
    public var numbers: [(option: String, value: Double)] {
        [("-F", frequency.map(Double.init)), ("-c", period.map(Double.init))]
            .compactMap { option, value in value.map { (option, $0) } }
    }

    /// How many of a command, -p and -a are given.
    public func targetCount(command: [String]) -> Int {
        (command.isEmpty ? 0 : 1) + (pids == nil ? 0 : 1) + (systemWide ? 1 : 0)
    }

    /// Refuses an empty name in -e (called by the command's own validate, in its order of checks).
    public func validateEventNames() throws {
        if eventNames.contains(where: \.isEmpty) {
            throw ValidationError("empty event name in -e: give names such as cycles or cpu-clock:u, comma-separated")
        }
    }

    /// Refuses -F with -c.
    public func validateRate() throws {
        if frequency != nil && period != nil { throw ValidationError("give either -F or -c, not both") }
    }

    /// What to profile: the -p processes, the whole system (-a, or nothing else given), or `command`.
    public func target(command: [String]) throws -> RecordOptions.Target {
        if let pids { return .pids(try Self.processIDs(pids)) }
        if systemWide || command.isEmpty { return .systemWide }
        return .command(CommandArguments(command.map(ArgumentBytes.bytes(of:))))
    }

    /// The CPUs of -C, nil for every online CPU.
    public func cpus() throws -> [Int]? {
        guard let cpuList else { return nil }
        do { return try CPUList.parse(cpuList) } catch { throw ValidationError("\(error)") }
    }
}
