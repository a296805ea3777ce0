import ArgumentParser
import Foundation
import TprofCapture
import TprofCLI
import TprofRecorder
import TprofStore

/// `tprof-record`: sample a command, processes or the whole system into a SQLite database.
struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tprof-record",
        abstract: "Record CPU samples from the kernel's perf_event interface into a SQLite database.",
        // No empty lines: the man page is generated from this text, and mdoc warns about them.
        discussion: """
            Read the result with 'tprof-report run.db --by-pid' or 'sqlite3 run.db'.
            Ctrl-C, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 stop recording cleanly;
            the command gets the signal too (and SIGKILL if it has not stopped 2 s later).
            Exit status: the command's own (128+N when signal N ended it), 127 when it
            is not found, 126 when it cannot be run, 64 for a bad option, 1 otherwise.
            Examples:
              tprof-record -o run.db -- ./myprogram args     profile a command (and its children and threads)
              tprof-record -p 1234 -d 10 -o run.db            attach to running processes for 10 seconds
              tprof-record -a -d 5 -o run.db                  the whole system for 5 seconds
              tprof-record -e cpu-clock -e page-faults:u -F 4000 -- make -j2
              tprof-record --off-cpu -g -o run.db -- ./prog   also where it waits off CPU
            """,
        version: tprofVersion)

    @Option(name: [.short, .customLong("output")],
            help: ArgumentHelp("Database file to write (default: tprof.db; a previous tprof.db is kept as "
                                   + "tprof.db.old).", valueName: "file"))
    var output: BytePath?

    @Flag(help: "Replace an existing output file (a regular file, or a symlink itself) once the command runs.")
    var force = false

    @OptionGroup var sampling: SamplingOptions

    @Option(name: [.short, .customLong("duration")], parsing: .unconditional,
            help: ArgumentHelp("Stop after this many seconds (a command still running gets SIGTERM).",
                               valueName: "seconds"))
    var duration: Double?

    @Option(name: [.customShort("m"), .customLong("mmap-pages")], parsing: .unconditional,
            help: ArgumentHelp("Data pages per perf ring buffer, a power of two.", valueName: "pages"))
    var ringPagesOption: Int?

    /// Data pages per ring: -m, else 128 (512 with --call-graph dwarf, chosen by the recorder).
    var ringPages: Int { ringPagesOption ?? 128 }

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Hand a CPU's buffer to the writer at least this often.", valueName: "ms"))
    var flushInterval = 125

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Samples per per-CPU buffer (default: from the rate).", valueName: "n"))
    var bufferSamples: Int?

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Completed buffers queued for the writer before buffers are dropped "
                                   + "(default: as many as fit in 32 MB).", valueName: "n"))
    var bufferLimit: Int?

    @Flag(name: .customShort("g"), help: "Record call chains (frame pointers), as --call-graph fp.")
    var callGraphShort = false

    @Option(name: .customLong("call-graph"),
            help: ArgumentHelp("Record call chains: 'fp' (frame pointers), or 'dwarf[,SIZE]' (copy SIZE bytes of "
                                   + "user stack, default 8192, at most 65528, and unwind them after recording).",
                               valueName: "mode"))
    var callGraph: String?

    @Flag(help: "With --call-graph dwarf: keep the copied user stacks in the database after unwinding.")
    var keepStacks = false

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Call chains of at most this many frames (default 127).", valueName: "n"))
    var maxStack: Int?

    @Flag(name: .customLong("off-cpu"),
          help: ArgumentHelp("Also record where threads wait off CPU: each switch-out with its call chain and "
              + "state, its switch-in and its waker (the scheduler's tracepoints; tracefs is mounted if need be). "
              + "Reports take --off-cpu and --wall."))
    var offCPU = false

    @Flag(name: [.short, .long], help: "No live status line, no finishing progress bar and no summary.")
    var quiet = false

    @OptionGroup var debuginfod: DebuginfodOption

    @Flag(help: "List the events this machine can open, and exit.")
    var listEvents = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command to profile.", valueName: "command"))
    var command: [String] = []

    mutating func validate() throws {
        command = try passthroughCommand(command, version: tprofVersion)
        if listEvents { return }
        if let negative = numbers.first(where: { $0.value < 0 }) {
            throw ValidationError("bad value \(String(format: "%g", negative.value)) for \(negative.option): "
                + "it must be positive")
        }
        try sampling.validateEventNames()
        let targets = sampling.targetCount(command: command)
        if targets == 0 { throw ValidationError("nothing to profile: give a command after --, -p PID or -a") }
        if targets > 1 { throw ValidationError("give only one of: a command, -p PID, -a") }
        try sampling.validateRate()
        if ringPages < 1 || ringPages > 1 << 20 || ringPages & (ringPages - 1) != 0 {
            throw ValidationError("bad value \(ringPages) for -m: it must be a power of two from 1 to 1048576")
        }
        if !(1...60_000).contains(flushInterval) {
            throw ValidationError("bad value \(flushInterval) for --flush-interval: it must be 1 to 60000 ms")
        }
        if let bufferSamples, !(1...10_000_000).contains(bufferSamples) {
            throw ValidationError("bad value \(bufferSamples) for --buffer-samples: it must be 1 to 10000000")
        }
        if let callGraph, callGraph != "fp", userStackSize == nil {
            throw ValidationError("unknown call-graph mode '\(callGraph)': use fp or dwarf[,SIZE] with SIZE 8 to 65528")
        }
        if keepStacks && userStackSize == nil { throw ValidationError("--keep-stacks goes with --call-graph dwarf") }
        if let maxStack, !(1...1024).contains(maxStack) {
            throw ValidationError("bad value \(maxStack) for --max-stack: it must be 1 to 1024")
        }
        if let bufferLimit, !(1...100_000).contains(bufferLimit) {
            throw ValidationError("bad value \(bufferLimit) for --buffer-limit: it must be 1 to 100000")
        }
    }

    /// The numeric options that were given, by name, for the checks they share.
    private var numbers: [(option: String, value: Double)] {
        let given: [(String, Double?)] = [
            ("-d", duration),
            ("-m", ringPagesOption.map(Double.init)), ("--flush-interval", Double(flushInterval)),
            ("--buffer-samples", bufferSamples.map(Double.init)), ("--buffer-limit", bufferLimit.map(Double.init)),
            ("--max-stack", maxStack.map(Double.init)),
        ]
        return sampling.numbers + given.compactMap { option, value in value.map { (option, $0) } }
    }

    /// The SIZE of `--call-graph dwarf[,SIZE]`, rounded up to 8 bytes; nil for other modes or a bad size.
    var userStackSize: Int? {
        guard let callGraph else { return nil }
        let parts = callGraph.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.first == "dwarf" else { return nil }
        guard parts.count == 2 else { return 8192 }
        guard let size = Int(parts[1]), (8...65528).contains(size) else { return nil }
        return (size + 7) / 8 * 8
    }

    func run() throws {
        if listEvents {
            EventList.lines().forEach { print($0) }
            return
        }
        let target = try sampling.target(command: command)
        let cpus = try sampling.cpus()
        var options = RecordOptions(
            output: output ?? "tprof.db", force: force, events: sampling.eventNames,
            frequency: sampling.frequency.map(UInt64.init), period: sampling.period.map(UInt64.init), target: target,
            cpus: cpus, duration: duration, flushIntervalMs: flushInterval, bufferSamples: bufferSamples,
            bufferLimit: bufferLimit, ringPages: ringPages, quiet: quiet,
            maxStack: callGraphShort || callGraph != nil || maxStack != nil ? (maxStack ?? 127) : nil,
            commandLine: CommandLine.arguments)
        options.outputIsDefault = output == nil
        options.userStackSize = userStackSize
        options.keepStacks = keepStacks
        options.usesDebuginfod = !debuginfod.disabled
        options.offCPU = offCPU
        options.ringPagesGiven = ringPagesOption != nil
        let status = Recorder(options: options).run()
        if status != 0 { throw ExitCode(status) }
    }
}

StopSignals.block()
// The arguments with their bytes, not CommandLine.arguments, which replaces bytes that are not UTF-8.
CommandLineTool.main(Record.self, name: "tprof-record", arguments: ArgumentBytes.arguments())
