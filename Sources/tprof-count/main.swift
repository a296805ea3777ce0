import ArgumentParser
import Foundation
import TprofCapture
import TprofCLI
import TprofExport
import TprofRecorder
import TprofReport
import TprofStore

/// `tprof-count`: count events without sampling, as perf stat and NetBSD's tprof count.
struct Count: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tprof-count",
        abstract: "Count events without sampling (perf_event counting mode), as perf stat does.",
        // No empty lines: the man page is generated from this text, and mdoc warns about them.
        discussion: """
            Without -e, perf stat's default events are counted; those this machine cannot count show as
            <not supported>. The counts are printed on stderr, as perf stat prints them, so the command's own
            output stays apart. Ctrl-C, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 stop counting cleanly and
            still print the counts so far; the command gets the signal too (and SIGKILL if it has not stopped 2 s
            later). -a and -C count the whole system (those CPUs) until a stop signal, or while a command given
            after -- runs.
            Exit status: the command's own (128+N when signal N ended it), 127 when it
            is not found, 126 when it cannot be run, 64 for a bad option, 1 otherwise.
            Examples:
              tprof-count -- ./myprogram args                 perf stat's default events for a command
              tprof-count -e page-faults -I 1000 -p 1234      every second, for a running process
              tprof-count -a --per-cpu -- sleep 5             the whole system per CPU for 5 seconds
              tprof-count -o counts.db -- make -j2            keep them (tprof-report counts.db --counts)
            """,
        version: tprofVersion)

    @Option(name: [.short, .customLong("event")], parsing: .singleValue,
            help: ArgumentHelp("Event to count, repeatable or comma-separated; NAME:u user only, NAME:k kernel only. "
                + "Default: task-clock, context-switches, cpu-migrations, page-faults, cycles, instructions, "
                + "branches, branch-misses.", valueName: "event"),
            completion: .list(EventSpec.catalog.flatMap { [$0.name] + $0.aliases }))
    var events: [String] = []

    @Flag(name: [.customShort("a"), .customLong("all-cpus")], help: "Count the whole system.")
    var systemWide = false

    @Option(name: [.short, .customLong("pid")], parsing: .unconditional,
            help: ArgumentHelp("Count these processes (all their threads).", valueName: "pid,..."))
    var pids: String?

    @Option(name: [.customShort("C"), .customLong("cpu")], parsing: .unconditional,
            help: ArgumentHelp("Count the whole system on these CPUs only, as 0-3,6.", valueName: "cpulist"))
    var cpuList: String?

    @Option(name: [.customShort("I"), .customLong("interval-print")], parsing: .unconditional,
            help: ArgumentHelp("Print the counts of each interval of this many milliseconds (at least 10).",
                               valueName: "ms"))
    var intervalMs: Int?

    @Flag(name: [.customShort("A"), .customLong("per-cpu")],
          help: "One count per CPU, as NetBSD's tprof count table: a column per event, a row per CPU; with -a or -C.")
    var perCPU = false

    @Flag(help: ArgumentHelp("One count per thread: each thread of -p's processes, of the system (-a), or of the "
                             + "command and its children (each counted apart from when it ends)."))
    var perThread = false

    @Option(help: ArgumentHelp("Output format: table (perf stat's layout), csv or json (one row per event, "
                                   + "interval, CPU and thread, with named columns).", valueName: "format"))
    var format: OutputFormat = .table

    @Option(name: [.short, .customLong("output")],
            help: ArgumentHelp("Also write the counts into this tprof database (read with "
                                   + "'tprof-report FILE --counts').", valueName: "file"))
    var output: BytePath?

    @Flag(help: "Replace an existing output file (a regular file, or a symlink itself) once the command runs.")
    var force = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command to count.", valueName: "command"))
    var command: [String] = []

    mutating func validate() throws {
        command = try passthroughCommand(command, version: tprofVersion)
        if pids != nil && (systemWide || cpuList != nil || !command.isEmpty) {
            throw ValidationError("give only one of: a command, -p PID, -a (or -C)")
        }
        if command.isEmpty && pids == nil && !systemWide && cpuList == nil {
            throw ValidationError("nothing to count: give a command after --, -p PID, -a or -C CPULIST")
        }
        if let intervalMs, !(10...3_600_000).contains(intervalMs) {
            throw ValidationError("bad value \(intervalMs) for -I: it must be 10 to 3600000 ms")
        }
        if perCPU && perThread { throw ValidationError("give either --per-cpu or --per-thread, not both") }
        // As perf stat: per-CPU counts are system-wide ones.
        if perCPU && !isSystemWide {
            throw ValidationError("--per-cpu goes with -a or -C (per-CPU counts are system-wide, as perf stat -A)")
        }
        if perThread && cpuList != nil {
            throw ValidationError("--per-thread counts every CPU: give -a rather than -C")
        }
        if force && output == nil { throw ValidationError("--force goes with -o FILE") }
        _ = try eventSpecs()
        _ = try cpus()
        _ = try pidList()
    }

    private var isSystemWide: Bool { systemWide || cpuList != nil }

    /// The events of every -e, split at commas, or perf stat's default set.
    private func eventSpecs() throws -> [EventSpec] {
        let names = events.isEmpty ? CountOptions.defaultEvents
            : events.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        if names.contains(where: \.isEmpty) {
            throw ValidationError("empty event name in -e: give names such as task-clock or cycles:u, comma-separated")
        }
        do { return try names.map(EventSpec.parse) } catch { throw ValidationError("\(error)") }
    }

    private func cpus() throws -> [Int]? {
        guard let cpuList else { return nil }
        do { return try CPUList.parse(cpuList) } catch { throw ValidationError("\(error)") }
    }

    private func pidList() throws -> [Int32]? {
        try pids.map(Self.processIDs)
    }

    func run() throws {
        let arguments = command.isEmpty ? nil : CommandArguments(command.map(ArgumentBytes.bytes(of:)))
        let scope: CountOptions.Scope
        if let pids = try pidList() { scope = .pids(pids) } else if isSystemWide { scope = .systemWide } else {
            scope = .command
        }
        var options = CountOptions(events: try eventSpecs(), scope: scope, command: arguments,
                                   commandLine: CommandLine.arguments)
        options.cpus = try cpus()
        options.interval = intervalMs.map { UInt64($0) * 1_000_000 }
        options.perCPU = perCPU
        options.perThread = perThread
        options.output = output
        options.force = force
        var printer = CountPrinter(format: format, text: PerfStatText(title: title, threadNames: [:]),
                                   intervals: intervalMs != nil, perCPU: perCPU)
        let result = try CountSession(options: options).run { rows, threadNames in
            printer.text.threadNames = threadNames
            printer.interval(rows)
        }
        printer.text.threadNames = result.threadNames
        printer.finish(result)
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }

    /// What perf stat's title says was counted.
    private var title: String {
        if let pids { return "process id '\(pids)'" }
        if let cpuList { return "'CPU(s) \(cpuList)'" }
        if systemWide { return "'system wide'" }
        return "'\(command.joined(separator: " "))'"
    }
}

/// Prints the counts on stderr as they come: each interval (-I), then the totals or, for csv and json, every row.
struct CountPrinter {
    let format: OutputFormat
    var text: PerfStatText
    let intervals: Bool
    /// --per-cpu: tables are NetBSD tprof count's, a column per event and a row per CPU.
    private var cpuTable: CPUCountTable?
    private var printedIntervals = 0
    /// Interval rows kept for one json document at the end.
    private var kept: [CountRow] = []

    init(format: OutputFormat, text: PerfStatText, intervals: Bool, perCPU: Bool) {
        self.format = format
        self.text = text
        self.intervals = intervals
        cpuTable = perCPU ? CPUCountTable() : nil
    }

    mutating func interval(_ rows: [CountRow]) {
        defer { printedIntervals += 1 }
        switch format {
        case .table where cpuTable != nil: write(cpuTable!.render(rows, time: true))
        case .table: write(text.interval(rows, header: printedIntervals == 0))
        case .csv:
            let lines = format.render(CountSheet.table(rows, intervals: true, threadNames: text.threadNames))
            write(printedIntervals == 0 ? lines : String(lines.drop { $0 != "\n" }.dropFirst()))
        case .json: kept += rows
        }
    }

    mutating func finish(_ result: CountResult) {
        switch format {
        case .table where !intervals && cpuTable != nil:
            write(text.summary(body: cpuTable!.render(result.rows, time: false), elapsed: result.elapsed,
                               commandTimes: result.commandTimes))
        case .table where !intervals:
            write(text.summary(result.rows, elapsed: result.elapsed, commandTimes: result.commandTimes))
        case .json:
            let rows = intervals ? kept : result.rows
            write(format.render(CountSheet.table(rows, intervals: intervals, threadNames: result.threadNames)))
        case .csv where !intervals:
            write(format.render(CountSheet.table(result.rows, intervals: false, threadNames: result.threadNames)))
        default: break
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

extension OutputFormat: ExpressibleByArgument {}

StopSignals.block()
// The arguments with their bytes, not CommandLine.arguments, which replaces bytes that are not UTF-8.
CommandLineTool.main(Count.self, name: "tprof-count", arguments: ArgumentBytes.arguments())
