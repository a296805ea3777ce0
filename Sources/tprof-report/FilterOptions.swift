import ArgumentParser
import TprofCapture
import TprofCLI
import TprofReport

/// Which samples a report counts, and how many rows it prints: every report of samples takes these.
struct FilterOptions: ParsableArguments {
    @Option(name: .customLong("pid"), parsing: .singleValue,
            help: ArgumentHelp("Only these processes (repeatable, or comma-separated).", valueName: "pid"))
    var pids: [String] = []
    @Option(name: .customLong("tid"), parsing: .singleValue,
            help: ArgumentHelp("Only these threads.", valueName: "tid"))
    var tids: [String] = []
    @Option(name: .customLong("comm"), parsing: .singleValue,
            help: ArgumentHelp("Only these command names.", valueName: "name"))
    var comms: [String] = []
    @Option(name: .customLong("cpu"), parsing: .singleValue,
            help: ArgumentHelp("Only these CPUs, as 0-3,6.", valueName: "cpulist"))
    var cpus: [String] = []
    @Flag(help: "Only kernel-mode samples.") var kernel = false
    @Flag(help: "Only user-mode samples.") var user = false
    @Option(name: .customLong("event"), parsing: .singleValue,
            help: ArgumentHelp("Only these events.", valueName: "name"))
    var events: [String] = []
    @Option(help: ArgumentHelp("Only samples from this many seconds after the start (of an off-CPU interval, the part after it).",
                               valueName: "seconds"))
    var since: Double?
    @Option(help: ArgumentHelp("Only samples before this many seconds after the start (of an off-CPU interval, the part before "
                               + "it).", valueName: "seconds"))
    var until: Double?
    @Option(help: ArgumentHelp("Only symbols matching this regular expression.", valueName: "regex"))
    var symbol: String?
    @Option(help: ArgumentHelp("Only this library or executable (path or file name).", valueName: "name"))
    var dso: String?
    @Flag(name: .customLong("off-cpu"),
          help: "Time threads spent off CPU (tprof-record --off-cpu), in ms (µs in --folded); as --event off-cpu.")
    var offCPU = false
    @Flag(help: ArgumentHelp("Wall-clock time: cpu-clock or task-clock samples by their period plus off-CPU "
              + "time (tprof-record --off-cpu -e cpu-clock), in ms (µs in --folded)."))
    var wall = false
    @Option(help: ArgumentHelp("Print at most N rows.", valueName: "n")) var limit: Int?
    @Option(help: ArgumentHelp("Leave out rows below P percent.", valueName: "p")) var percentLimit: Double?

    /// The filters given, by their flags.
    var given: [String] {
        [("--pid", !pids.isEmpty), ("--tid", !tids.isEmpty), ("--comm", !comms.isEmpty), ("--cpu", !cpus.isEmpty),
         ("--kernel", kernel), ("--user", user), ("--event", !events.isEmpty), ("--since", since != nil),
         ("--until", until != nil), ("--symbol", symbol != nil), ("--off-cpu", offCPU), ("--wall", wall), ("--dso", dso != nil), ("--limit", limit != nil),
         ("--percent-limit", percentLimit != nil)].filter(\.1).map(\.0)
    }

    /// True when a filter needs the resolved symbols.
    var needsSymbols: Bool { symbol != nil || dso != nil }

    func validate() throws {
        let lists = [("--pid", pids), ("--tid", tids), ("--comm", comms), ("--cpu", cpus), ("--event", events)]
        for (flag, values) in lists where values.contains(where: { $0.isEmpty }) {
            throw ValidationError("empty value for \(flag)")
        }
        if symbol == "" || dso == "" { throw ValidationError("empty value for --symbol or --dso") }
        if kernel && user { throw ValidationError("give --kernel or --user, not both") }
        if offCPU && wall { throw ValidationError("give --off-cpu or --wall, not both") }
        if wall && !events.isEmpty { throw ValidationError("--wall reads its own events: give it without --event") }
        if let limit, limit < 1 { throw ValidationError("bad value \(limit) for --limit: it must be at least 1") }
        if let percentLimit, !(percentLimit >= 0 && percentLimit <= 100) {
            throw ValidationError("bad value \(percentLimit) for --percent-limit: it must be 0 to 100")
        }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, !(value >= 0 && value < 1e9) {
                throw ValidationError("bad value \(value) for \(name): it must be a number of seconds, 0 or more")
            }
        }
        if let since, let until, since >= until {
            throw ValidationError("--since \(since) is not before --until \(until)")
        }
    }

    /// The filter as the report module takes it; a malformed number or CPU list is an error.
    func sampleFilter() throws -> SampleFilter {
        var filter = SampleFilter()
        filter.pids = try Self.numbers(pids, flag: "--pid")
        filter.tids = try Self.numbers(tids, flag: "--tid")
        filter.comms = comms
        for list in cpus {
            do { filter.cpus += try CPUList.parse(list).map(Int64.init) } catch { throw ToolFailure("\(error)") }
        }
        filter.kernel = kernel ? true : (user ? false : nil)
        filter.events = events.flatMap { $0.split(separator: ",").map(String.init) }
        // The off-CPU samples are only worth their time: `--event off-cpu` alone weighs them as --off-cpu does.
        if offCPU || filter.events == [SampleWeight.offCPUEvent] {
            filter.weight = .offCPU
        } else if wall {
            filter.weight = .wall
        }
        filter.since = since
        filter.until = until
        filter.symbol = symbol
        filter.dso = dso
        return filter
    }

    private static func numbers(_ values: [String], flag: String) throws -> [Int64] {
        try values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { part in
            guard let number = Int64(part), number >= 0 else {
                throw ToolFailure("bad value '\(part)' for \(flag): expected a number")
            }
            return number
        }
    }
}
