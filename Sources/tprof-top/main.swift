import ArgumentParser
import Foundation
import TprofCapture
import TprofCLI
import TprofRecorder
import TprofStore

/// `tprof-top`: a live view of where the CPUs spend their time, refreshed from the recording being written.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tprof-top",
        abstract: "Show the hottest functions, processes, commands or libraries live, refreshed every interval.",
        // No empty lines: the man page is generated from this text, and mdoc warns about them.
        discussion: """
            It records as tprof-record does and shows a query over the database being written.
            Without -p or a command it watches the whole system (-a).
            Keys: q quit, a accumulate since the start / last interval only, c per-CPU columns,
            z clear, k kernel / user / both, s grouping (symbol, process, command, library), p pause.
            A command given after -- runs with its stdin, stdout and stderr on /dev/null while the
            screen is shown (its output would garble it); with -b it shares tprof-top's terminal.
            tprof-top ends when the command or the -p processes end; the exit status is then the command's,
            as under tprof-record. Ctrl-C, SIGTERM and SIGHUP end it cleanly and restore the terminal.
            Without -o the recording goes to a private temporary directory, removed on exit.
            Examples:
              tprof-top                                the whole system, refreshed every second
              tprof-top -p 1234 -i 2                   one process, every 2 seconds
              tprof-top -b -n 5 -o run.db -- make -j2  five refreshes as text; keep the recording
            """,
        version: tprofVersion)

    @OptionGroup var sampling: SamplingOptions

    @Option(name: [.customShort("i"), .customLong("interval")], parsing: .unconditional,
            help: ArgumentHelp("Seconds between refreshes (default 1).", valueName: "seconds"))
    var interval: Double = 1

    @Flag(name: [.customShort("b"), .customLong("batch")],
          help: "Print each refresh as plain text on stdout instead of the full-screen view.")
    var batch = false

    @Option(name: [.customShort("n"), .customLong("iterations")], parsing: .unconditional,
            help: ArgumentHelp("Stop after this many refreshes.", valueName: "count"))
    var count: Int?

    @Option(name: [.short, .customLong("output")],
            help: ArgumentHelp("Keep the recording in this database, finished as tprof-record finishes it "
                                   + "(default: a temporary file, removed on exit).", valueName: "file"))
    var output: BytePath?

    @Flag(help: "Replace an existing output file (a regular file, or a symlink itself).")
    var force = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command to profile.", valueName: "command"))
    var command: [String] = []

    mutating func validate() throws {
        command = try passthroughCommand(command, version: tprofVersion)
        let numbers = sampling.numbers + [("-i", interval), ("-n", count.map(Double.init))]
            .compactMap { option, value in value.map { (option, $0) } }
        if let negative = numbers.first(where: { $0.value < 0 }) {
            throw ValidationError("bad value \(String(format: "%g", negative.value)) for \(negative.option): "
                + "it must be positive")
        }
        try sampling.validateEventNames()
        if sampling.targetCount(command: command) > 1 {
            throw ValidationError("give only one of: a command, -p PID, -a")
        }
        try sampling.validateRate()
        if !(0.1...3600).contains(interval) {
            throw ValidationError("bad value \(String(format: "%g", interval)) for -i: it must be 0.1 to 3600 seconds")
        }
        if let count, count < 1 { throw ValidationError("bad value \(count) for -n: it must be at least 1") }
        if force && output == nil { throw ValidationError("--force goes with -o FILE") }
        if !batch && (isatty(STDIN_FILENO) != 1 || isatty(STDOUT_FILENO) != 1) {
            throw ValidationError("the live view needs a terminal on stdin and stdout: use -b for text output")
        }
    }

    func run() throws {
        let temporary = output == nil ? try TemporaryRecording() : nil
        defer { temporary?.remove() }
        var options = RecordOptions(
            output: output ?? temporary!.path, force: force, events: sampling.eventNames,
            frequency: sampling.frequency.map(UInt64.init), period: sampling.period.map(UInt64.init),
            target: try sampling.target(command: command), cpus: try sampling.cpus(), duration: nil,
            flushIntervalMs: 125, bufferSamples: nil, bufferLimit: nil, ringPages: 128, quiet: true,
            commandLine: CommandLine.arguments)
        options.toolName = "tprof-top"
        options.detachesCommand = !batch
        options.resolvesSymbols = temporary == nil
        let monitor = TopMonitor(interval: interval, refreshes: count,
                                 display: batch ? BatchDisplay() : CursesDisplay())
        let status = Recorder(options: options).run(monitor: monitor)
        if status != 0 { throw ExitCode(status) }
    }
}

StopSignals.block()
// SIGWINCH too, before any thread exists: it is read from the recorder's signalfd to redraw the screen.
StopSignals.blockResize()
// The arguments with their bytes, not CommandLine.arguments, which replaces bytes that are not UTF-8.
CommandLineTool.main(Top.self, name: "tprof-top", arguments: ArgumentBytes.arguments())
