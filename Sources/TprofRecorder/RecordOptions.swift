import TprofCapture
import TprofStore

/// What `tprof-record` was asked to do, after argument parsing.
public struct RecordOptions {
    /// What to profile.
    public enum Target: Equatable {
        case command(CommandArguments)
        case pids([Int32])
        case systemWide
    }

    /// The database to write, byte for byte as given (`-o`).
    public var output: BytePath
    /// True when -o was not given: an existing file of the default name is kept as FILE.old.
    public var outputIsDefault = false
    public var force: Bool
    /// Events as given with -e; empty means the default (cycles where the CPU has it, else cpu-clock).
    public var events: [String]
    public var frequency: UInt64?
    public var period: UInt64?
    public var target: Target
    public var cpus: [Int]?
    /// Seconds to record; nil records until the command ends or Ctrl-C.
    public var duration: Double?
    public var flushIntervalMs: Int
    /// Samples per per-CPU buffer; nil sizes it from the rate.
    public var bufferSamples: Int?
    /// Completed buffers the list holds before it drops; nil sizes the list to a memory budget.
    public var bufferLimit: Int?
    /// Data pages per perf ring buffer (a power of two).
    public var ringPages: Int
    /// No live status line and no summary.
    public var quiet: Bool
    /// Frame-pointer call chains of at most this many entries (`-g`, `--max-stack`); nil records none.
    public var maxStack: Int?
    /// Bytes of user stack copied with each sample for DWARF unwinding (`--call-graph dwarf[,SIZE]`).
    public var userStackSize: Int?
    /// Keep the copied user stacks in the database after unwinding (`--keep-stacks`).
    public var keepStacks = false
    /// True when -m was given; otherwise DWARF call graphs get larger rings.
    public var ringPagesGiven = true
    /// The whole tprof-record command line, stored in the run.
    public var commandLine: [String]
    /// The tool that records, as its messages on stderr start.
    public var toolName = "tprof-record"
    /// The command's stdin, stdout and stderr are /dev/null: a full-screen view owns the terminal.
    public var detachesCommand = false
    /// Also record where threads wait: the scheduler's switches and wake-ups (`--off-cpu`).
    public var offCPU = false
    /// Names the sampled addresses when the recording ends; off for a recording that is removed at exit.
    public var resolvesSymbols = true
    /// Fetches missing debug files from the debuginfod servers of `DEBUGINFOD_URLS` (off: `--no-debuginfod`).
    public var usesDebuginfod = true

    public static let defaultFrequency: UInt64 = 999

    /// Bytes the sample buffers may take at most, so tprof-record's memory stays bounded however long it runs,
    /// whatever the rate and the capture flags (see `BufferPlan`).
    public static let bufferMemoryBudget = 32 << 20

    public init(output: BytePath, force: Bool, events: [String], frequency: UInt64?, period: UInt64?, target: Target,
                cpus: [Int]?, duration: Double?, flushIntervalMs: Int, bufferSamples: Int?, bufferLimit: Int?,
                ringPages: Int, quiet: Bool, maxStack: Int? = nil, commandLine: [String]) {
        self.maxStack = maxStack
        self.output = output
        self.force = force
        self.events = events
        self.frequency = frequency
        self.period = period
        self.target = target
        self.cpus = cpus
        self.duration = duration
        self.flushIntervalMs = flushIntervalMs
        self.bufferSamples = bufferSamples
        self.bufferLimit = bufferLimit
        self.ringPages = ringPages
        self.quiet = quiet
        self.commandLine = commandLine
    }

    /// The sampling rate asked for: -c, else -F, else 999 Hz.
    public var rate: SamplingRate {
        if let period { return .period(period) }
        return .frequency(frequency ?? Self.defaultFrequency)
    }
}
