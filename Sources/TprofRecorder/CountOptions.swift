import TprofCapture
import TprofStore

/// What `tprof-count` was asked to do, after argument parsing.
public struct CountOptions {
    /// Whose events are counted.
    public enum Scope: Equatable {
        /// The command tprof-count starts, with its children and threads, from its exec on.
        case command
        /// The threads of existing processes (`-p`).
        case pids([Int32])
        /// Every task on the CPUs (`-a`, `-C`), while a command runs or until a stop signal.
        case systemWide
    }

    /// perf stat's default events, counted without -e.
    public static let defaultEvents = [
        "task-clock", "context-switches", "cpu-migrations", "page-faults", "cycles", "instructions", "branches",
        "branch-misses",
    ]

    public var events: [EventSpec]
    public var scope: Scope
    /// The command to run: the target with `.command`, what bounds the counting with `.systemWide`.
    public var command: CommandArguments?
    /// The CPUs of a system-wide count (-C); nil is every online CPU.
    public var cpus: [Int]?
    /// Nanoseconds between interval counts (-I); nil prints the totals once.
    public var interval: UInt64?
    public var perCPU = false
    public var perThread = false
    /// The database to write the counts to (-o), refused when it exists unless `force`.
    public var output: BytePath?
    public var force = false
    /// The whole tprof-count command line, stored in the run.
    public var commandLine: [String]

    public init(events: [EventSpec], scope: Scope, command: CommandArguments?, commandLine: [String]) {
        self.events = events
        self.scope = scope
        self.command = command
        self.commandLine = commandLine
    }
}

/// What a count found, for printing once it ends.
public struct CountResult {
    /// The totals, or with -I the last interval's counts.
    public var rows: [CountRow]
    /// Nanoseconds from the start of counting to its end.
    public var elapsed: UInt64
    /// CPU seconds the command and its children spent in user and kernel mode (perf stat's user and sys).
    public var commandTimes: (user: Double, system: Double)?
    /// Each counted thread's name (--per-thread).
    public var threadNames: [Int32: String]
    /// tprof-count's exit status: the command's own, else 0.
    public var exitCode: Int32
}
