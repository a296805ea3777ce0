import CSQLite
import Foundation
import Glibc
import TprofCapture
// The store writes through the reading side's SQLite wrapper and schema; re-exported so that its users (the
// recorder, the finishing stage, tests) need not import both.
@_exported import TprofDatabase

/// Why the output database could not be created.
public enum OutputError: Error, CustomStringConvertible, Equatable {
    case exists(BytePath)
    case notWritable(BytePath, errno: Int32)
    /// Something other than a regular file or a symlink is in the way; it is never replaced.
    case notRegularFile(BytePath, FileKind)
    /// Another tprof-record holds its claim on the file (or on the temporary file of this output).
    case beingWritten(BytePath)
    /// The temporary file of a recorder killed before its command started.
    case leftover(BytePath)
    /// The output is the command's own executable.
    case isCommand(BytePath)
    /// SQLite opened another file than the one created (the path was replaced meanwhile).
    case openedAnotherFile(BytePath)
    /// A -wal or -journal with content stands at the output path without its database.
    case orphanJournal(BytePath)

    public var description: String {
        switch self {
        case .exists(let path):
            return "\(path) already exists; use --force to overwrite it or -o to choose another file"
        case .notWritable(let path, let errno):
            return "cannot create \(path): \(String(cString: strerror(errno)))"
        case .notRegularFile(let path, let kind):
            return "\(path) is a \(kind.rawValue): --force replaces only a regular file (or a symlink itself)"
        case .beingWritten(let path):
            return "\(path) is being written by another tprof-record"
        case .leftover(let path):
            return "\(path) is left from a tprof-record killed before its command started; "
                + "remove it (or read it with tprof-report) and record again"
        case .isCommand(let path):
            return "\(path) is the command's own executable; choose another output with -o"
        case .openedAnotherFile(let path):
            return "\(path) was replaced by another file while it was opened; nothing was recorded"
        case .orphanJournal(let path):
            return "\(path) stands without its database (it may hold the last transactions of a database moved "
                + "elsewhere); move it away, or use --force to remove it"
        }
    }
}

/// Metadata of a run, stored in the one row of `run`.
public struct RunInfo {
    /// The tool that wrote the file: tprof-record, or tprof-count for a file of counts.
    public var tool = "tprof-record"
    public var toolVersion: String
    public var target: RunTarget
    public var commandLine: [String]
    public var command: [String]?
    public var targetPIDs: [Int32]?
    public var cpus: [Int]
    public var backend: String
    public var host: String
    public var kernelRelease: String
    /// Where the kernel's text started (`_stext`), when readable: KASLR moves it at every boot.
    public var kernelTextStart: UInt64?
    public var machine: String
    public var cpuModel: String?
    public var cpuCount: Int
    public var maxSampleRate: Int?
    public var paranoid: Int?
    public var userOnlyFallback: Bool
    public var ringPages: Int?
    /// 'fp' for frame-pointer call chains, nil without.
    public var callGraph: String?
    public var maxStack: Int?
    public var flushIntervalMs: Int
    public var bufferSamples: Int
    public var bufferLimit: Int
    public var startTimeNs: Int64
    public var startMonotonicNs: UInt64

    public init(toolVersion: String, target: RunTarget, commandLine: [String], command: [String]?,
                targetPIDs: [Int32]?, cpus: [Int], backend: String, host: String, kernelRelease: String,
                machine: String, cpuModel: String?, cpuCount: Int, maxSampleRate: Int?, paranoid: Int?,
                userOnlyFallback: Bool, ringPages: Int?, callGraph: String? = nil, maxStack: Int? = nil,
                flushIntervalMs: Int, bufferSamples: Int, bufferLimit: Int,
                startTimeNs: Int64, startMonotonicNs: UInt64, kernelTextStart: UInt64? = nil) {
        self.toolVersion = toolVersion
        self.target = target
        self.commandLine = commandLine
        self.command = command
        self.targetPIDs = targetPIDs
        self.cpus = cpus
        self.backend = backend
        self.host = host
        self.kernelRelease = kernelRelease
        self.machine = machine
        self.cpuModel = cpuModel
        self.cpuCount = cpuCount
        self.maxSampleRate = maxSampleRate
        self.paranoid = paranoid
        self.userOnlyFallback = userOnlyFallback
        self.ringPages = ringPages
        self.callGraph = callGraph
        self.maxStack = maxStack
        self.flushIntervalMs = flushIntervalMs
        self.bufferSamples = bufferSamples
        self.bufferLimit = bufferLimit
        self.startTimeNs = startTimeNs
        self.startMonotonicNs = startMonotonicNs
        self.kernelTextStart = kernelTextStart
    }
}

/// One row of `events`, as known when recording starts.
public struct EventInfo {
    public var spec: EventSpec
    /// The sampling rate asked for; nil for an event that was counted, not sampled (tprof-count).
    public var rate: SamplingRate?
    public var note: String?

    public init(spec: EventSpec, rate: SamplingRate?, note: String?) {
        self.spec = spec
        self.rate = rate
        self.note = note
    }
}

/// How a run ended.
public struct RunOutcome {
    public var status: RunStatus
    public var reason: String?
    public var endTimeNs: Int64
    public var durationNs: Int64
    public var exitStatus: Int32?
    public var exitSignal: Int32?
    public var eventTotals: [EventTotals]

    public init(status: RunStatus, reason: String?, endTimeNs: Int64, durationNs: Int64, exitStatus: Int32?,
                exitSignal: Int32?, eventTotals: [EventTotals]) {
        self.status = status
        self.reason = reason
        self.endTimeNs = endTimeNs
        self.durationNs = durationNs
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.eventTotals = eventTotals
    }
}

/// The database a recording writes: prepared with the schema (and the run) under the output's temporary name,
/// opened at the output path once published, filled by `SampleWriter`, finished by `finish`.
public final class RecordingDatabase {
    public let connection: SQLiteDatabase
    public let path: BytePath

    /// Creates `path` (mode 0600, never following a symlink) with the whole schema, at once: for tools that start
    /// no command (the synthetic backend, benchmarks).
    /// - Parameter force: replace an existing regular file (or symlink) instead of refusing.
    public convenience init(creating path: BytePath, force: Bool) throws {
        let output = try RecordingOutput(creating: path, existing: force ? .replace : .refuse)
        try RecordingDatabase.prepare(output)
        let connection: SQLiteDatabase
        do {
            try output.publish()
            connection = try RecordingDatabase.openInWALMode(output)
        } catch {
            output.discard()
            throw error
        }
        self.init(connection: connection, path: path)
    }

    /// Opens the published output, in WAL mode, and checks it is the file the output created.
    public convenience init(opening output: RecordingOutput) throws {
        self.init(connection: try RecordingDatabase.openInWALMode(output), path: output.path)
    }

    /// Creates the file named by `path` in UTF-8, as `init(creating:force:)` does.
    public convenience init(creating path: String, force: Bool) throws {
        try self.init(creating: BytePath(path), force: force)
    }

    private init(connection: SQLiteDatabase, path: BytePath) {
        self.connection = connection
        self.path = path
    }

    private static func openInWALMode(_ output: RecordingOutput) throws -> SQLiteDatabase {
        let connection = try open(output)
        try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        // SQLite creates the -wal at the first transaction, taking its mode from the database file by path: create
        // it now, while the path surely leads to the file, so that moving the output later cannot fail the writes.
        _ = try connection.scalarInt("SELECT COUNT(*) FROM sqlite_master")
        return connection
    }

    /// Writes the schema, and `run` when given, into the output's temporary file, and closes it; on failure the
    /// temporary file is removed.
    public static func prepare(_ output: RecordingOutput, run: RunInfo? = nil, events: [EventInfo] = []) throws {
        do {
            let connection = try open(output)
            try connection.execute("PRAGMA journal_mode = WAL; PRAGMA application_id = \(tprofApplicationID)")
            try applySchema(to: connection)
            if let run { try insertRun(run, events: events, into: connection) }
            // Back to a rollback journal: SQLite checkpoints the -wal into the file and removes the -wal and -shm,
            // so nothing under the temporary name can be separated from the file when it moves. WAL mode has taken
            // its space once by now, before the command starts: a disk too full for it fails here.
            try connection.execute("PRAGMA journal_mode = DELETE")
        } catch {
            // The connection is closed by now; SQLite may have left a -wal and a -shm beside the file (a disk too
            // full for the schema, for example).
            output.discard()
            throw error
        }
    }

    /// Opens the file at the output's current path, never following a symlink, and checks that SQLite opened the
    /// file the output created: it has not moved from the path, and the path leads to the created file.
    private static func open(_ output: RecordingOutput) throws -> SQLiteDatabase {
        let path = output.currentPath
        let connection = try SQLiteDatabase(path: path, mode: .readWrite, followingSymlink: false)
        guard connection.isUnmoved(), output.isCreatedFile(at: path) else {
            throw OutputError.openedAnotherFile(path)
        }
        return connection
    }

    /// Creates every table of `Schema/` in one transaction and sets `user_version`.
    static func applySchema(to db: SQLiteDatabase) throws {
        try db.execute("BEGIN")
        for step in EmbeddedSchema.migrations {
            try db.execute(step.sql)
        }
        try db.execute("PRAGMA user_version = \(EmbeddedSchema.migrations.last?.version ?? 0); COMMIT")
    }

    /// The schema version this build writes and reads.
    public static var schemaVersion: Int { EmbeddedSchema.version }

    public func insertRun(_ run: RunInfo, events: [EventInfo]) throws {
        try RecordingDatabase.insertRun(run, events: events, into: connection)
    }

    private static func insertRun(_ run: RunInfo, events: [EventInfo], into connection: SQLiteDatabase) throws {
        func json(_ items: [String]) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: items, options: [.withoutEscapingSlashes])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        try connection.execute("BEGIN")
        try connection.prepare("""
            INSERT INTO run (id, tool, tool_version, schema_version, status, target, command_line, command,
                target_pids, cpus, backend, host, kernel_release, machine, cpu_model, cpu_count,
                perf_event_max_sample_rate, perf_event_paranoid, user_only_fallback, ring_pages, call_graph, max_stack,
                flush_interval_ms, buffer_samples, buffer_limit, start_time_ns, start_monotonic_ns, kernel_text_start)
            VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).run([
                .text(run.tool), .text(run.toolVersion), .integer(Int64(RecordingDatabase.schemaVersion)),
                .text(RunStatus.recording.rawValue), .text(run.target.rawValue),
                .text(json(run.commandLine)), SQLiteValue(run.command.map(json)),
                SQLiteValue(run.targetPIDs.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }),
                .text("[" + run.cpus.map(String.init).joined(separator: ",") + "]"), .text(run.backend), .text(run.host),
                .text(run.kernelRelease), .text(run.machine), SQLiteValue(run.cpuModel),
                .integer(Int64(run.cpuCount)), SQLiteValue(run.maxSampleRate), SQLiteValue(run.paranoid),
                .integer(run.userOnlyFallback ? 1 : 0), SQLiteValue(run.ringPages), SQLiteValue(run.callGraph),
                SQLiteValue(run.maxStack), .integer(Int64(run.flushIntervalMs)),
                .integer(Int64(run.bufferSamples)), .integer(Int64(run.bufferLimit)), .integer(run.startTimeNs),
                .integer(Int64(bitPattern: run.startMonotonicNs)),
                run.kernelTextStart.map { .integer(Int64(bitPattern: $0)) } ?? .null,
            ])
        let insertEvent = try connection.prepare("""
            INSERT INTO events (id, name, base_name, type, config, exclude_user, exclude_kernel, requested_frequency,
                requested_period, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (id, event) in events.enumerated() {
            var frequency: SQLiteValue = .null
            var period: SQLiteValue = .null
            switch event.rate {
            case .frequency(let hz): frequency = .integer(Int64(hz))
            case .period(let p): period = .integer(Int64(p))
            case nil: break
            }
            try insertEvent.run([
                .integer(Int64(id)), .text(event.spec.name), .text(event.spec.baseName),
                .integer(Int64(event.spec.type)), .integer(Int64(event.spec.config)),
                .integer(event.spec.excludeUser ? 1 : 0), .integer(event.spec.excludeKernel ? 1 : 0), frequency,
                period, SQLiteValue(event.note),
            ])
        }
        try connection.execute("COMMIT")
    }

    /// Marks the run finished: indexes, process and thread names, event totals, then `resolveSymbols`, then the
    /// status. Runs after the writer. Events that were `sampled: false` (tprof-count's) get no achieved rate.
    public func finish(_ outcome: RunOutcome, samplesPerEvent: [UInt64], sampled: Bool = true,
                       resolveSymbols: (SQLiteDatabase) throws -> Void = { _ in }) throws {
        try connection.execute(EmbeddedSchema.indexes)
        try connection.execute("BEGIN")
        // Records from different CPUs reach the writer out of time order, so the name a thread ends with is that of
        // its latest COMM record, not of the last one written (an exec's name must not lose to the prctl before it).
        // The idle task (pid 0) has no COMM record and no /proc entry: perf calls it swapper, and so do the reports
        // and --comm.
        try connection.execute("""
            UPDATE threads SET comm = (
                SELECT c.comm FROM comm_records c WHERE c.tid = threads.tid AND c.pid = threads.pid
                ORDER BY c.time DESC LIMIT 1)
            WHERE EXISTS (SELECT 1 FROM comm_records c WHERE c.tid = threads.tid AND c.pid = threads.pid);
            UPDATE processes SET comm = (
                SELECT c.comm FROM comm_records c WHERE c.tid = processes.pid AND c.pid = processes.pid
                ORDER BY c.time DESC LIMIT 1)
            WHERE EXISTS (SELECT 1 FROM comm_records c WHERE c.tid = processes.pid AND c.pid = processes.pid);
            INSERT OR IGNORE INTO threads (tid, pid) SELECT DISTINCT tid, pid FROM sample_counts;
            INSERT OR IGNORE INTO processes (pid) SELECT DISTINCT pid FROM threads;
            UPDATE processes SET comm = 'swapper' WHERE pid = 0 AND comm IS NULL;
            UPDATE threads SET comm = 'swapper' WHERE pid = 0 AND comm IS NULL;
            UPDATE processes SET comm = (
                SELECT t.comm FROM threads t WHERE t.pid = processes.pid AND t.comm IS NOT NULL
                ORDER BY t.tid = t.pid DESC LIMIT 1)
            WHERE comm IS NULL;
            """)
        // A forked child keeps its parent's name until it execs; fill names down chains of forks.
        for _ in 0..<64 {
            try connection.execute("""
                UPDATE processes SET comm = (SELECT p.comm FROM processes p WHERE p.pid = processes.ppid)
                WHERE comm IS NULL AND ppid IS NOT NULL
                  AND (SELECT p.comm FROM processes p WHERE p.pid = processes.ppid) IS NOT NULL
                """)
            if connection.changes == 0 { break }
        }
        try connection.execute(
            "UPDATE threads SET comm = (SELECT p.comm FROM processes p WHERE p.pid = threads.pid) WHERE comm IS NULL")
        let updateEvent = try connection.prepare("""
            UPDATE events SET samples = ?, count = ?, time_enabled_ns = ?, time_running_ns = ?, achieved_rate = ?
            WHERE id = ?
            """)
        for id in samplesPerEvent.indices {
            let totals = id < outcome.eventTotals.count ? outcome.eventTotals[id] : nil
            let samples = samplesPerEvent[id]
            var rate: SQLiteValue = .null
            if sampled, let totals, totals.timeRunning > 0 {
                rate = .real(Double(samples) / (Double(totals.timeRunning) / 1e9))
            }
            try updateEvent.run([
                .integer(Int64(samples)), totals.map { .integer(Int64(bitPattern: $0.count)) } ?? .null,
                totals.map { .integer(Int64(bitPattern: $0.timeEnabled)) } ?? .null,
                totals.map { .integer(Int64(bitPattern: $0.timeRunning)) } ?? .null, rate, .integer(Int64(id)),
            ])
        }
        try OffCPUIntervals.attachSamples(connection)
        try connection.execute("COMMIT")
        try resolveSymbols(connection)
        try connection.execute("BEGIN")
        try connection.prepare("""
            UPDATE run SET status = ?, status_reason = ?, end_time_ns = ?, duration_ns = ?, exit_status = ?,
                exit_signal = ? WHERE id = 1
            """).run([
                .text(outcome.status.rawValue), SQLiteValue(outcome.reason), .integer(outcome.endTimeNs),
                .integer(outcome.durationNs), SQLiteValue(outcome.exitStatus.map(Int.init)),
                SQLiteValue(outcome.exitSignal.map(Int.init)),
            ])
        try connection.execute("COMMIT")
        try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Records that the run failed when `finish` itself could not complete (for example on a full disk): one
    /// small update, which may still fit where the indexes did not.
    public func markFailed(reason: String) throws {
        try? connection.execute("ROLLBACK")
        try connection.prepare("UPDATE run SET status = ?, status_reason = ? WHERE id = 1")
            .run([.text(RunStatus.failed.rawValue), .text(reason)])
    }

    /// Size of the database file and its WAL, in bytes.
    public var fileSize: Int64 {
        var total: Int64 = 0
        for suffix in ["", "-wal"] {
            if let info = (path + suffix).targetStatus() { total += Int64(info.st_size) }
        }
        return total
    }
}
