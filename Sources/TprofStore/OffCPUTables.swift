import TprofCapture

/// Writes the off-CPU time of `--off-cpu` as the writer takes the records: the switches, wake-ups and switch-out
/// samples are paired in memory (`OffCPUPairing`), and each interval becomes one `off_cpu` row and its switch-out
/// one sample of the event `off-cpu` whose period is already the interval's length, many rows a statement. A
/// program that switches 100,000 times a second sends three records and a sample a switch; two rows reach SQLite.
final class OffCPURecordWriter {
    private let db: SQLiteDatabase
    private let startMonotonic: UInt64
    /// The `off-cpu` event's index, when the recording has it.
    private let event: UInt16?
    /// Whether the `off-cpu` samples wait in memory for their intervals. Not with copied user stacks, whose samples
    /// are written as they come (their stacks are copied into `user_stacks` by sample id): their periods are set
    /// when recording ends (`OffCPUIntervals.attachSamples`).
    private let holdsSamples: Bool
    private let pairing = OffCPUPairing()
    private let intervals: RowInserter
    private let samples: RowInserter
    private let addOutcome: SQLiteStatement
    private var closed: [OffCPUPairing.Interval] = []
    private var lone: [OffCPUPairing.Record] = []
    /// Samples held in memory per CPU: taken from buffers the list counts as written, but not yet in `samples`.
    private(set) var heldSamples: [Int: UInt64] = [:]
    /// The latest time before which every CPU's records were taken: the stop, once the list is drained.
    private var completeUntil: UInt64 = 0

    /// The samples of a buffer that do not wait, with their frames, after `holdBack`.
    private var rest: (samples: [Sample], addresses: [UInt64], flags: [FrameFlags]) = ([], [], [])

    init(_ db: SQLiteDatabase, startMonotonic: UInt64, holdsSamples: Bool) throws {
        self.db = db
        self.startMonotonic = startMonotonic
        event = try db.scalarInt("SELECT id FROM events WHERE base_name = ?",
                                 [.text(SchedTracepoints.offCPUName)]).map(UInt16.init)
        self.holdsSamples = holdsSamples && event != nil
        intervals = try RowInserter(db, table: "off_cpu", columns: ["pid", "tid", "cpu", "start", "duration", "state",
                                                                    "stack_id", "sample_id", "waker_pid",
                                                                    "waker_tid"])
        samples = try RowInserter(db, table: "samples", columns: ["rowid"] + SampleWriter.sampleColumns
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        addOutcome = try db.prepare("""
            INSERT INTO off_cpu_outcomes (outcome, switches) VALUES (?, ?)
            ON CONFLICT (outcome) DO UPDATE SET switches = switches + excluded.switches
            """)
    }

    /// Takes the `off-cpu` samples of `buffer` (their call chains interned in `stacks`) to wait for their
    /// intervals, counting them in `perEvent`; returns how many. When it took some, the buffer's other samples are
    /// in `rest`.
    func holdBack(_ buffer: SampleBuffer, stacks: StackInterner, perEvent: inout [UInt64]) -> Int {
        guard holdsSamples, let event, buffer.samples.contains(where: { $0.event == event }) else { return 0 }
        let addresses = buffer.frameAddresses
        let flags = buffer.frameFlags
        rest.samples.removeAll(keepingCapacity: true)
        rest.addresses.removeAll(keepingCapacity: true)
        rest.flags.removeAll(keepingCapacity: true)
        var held = 0
        var frameOffset = 0
        for sample in buffer.samples {
            let end = min(addresses.count, frameOffset + Int(sample.frameCount))
            defer { frameOffset = end }
            guard sample.event == event else {
                rest.samples.append(sample)
                rest.addresses.append(contentsOf: addresses[frameOffset..<end])
                rest.flags.append(contentsOf: flags[frameOffset..<end])
                continue
            }
            let stack = end > frameOffset
                ? stacks.intern(UnsafeBufferPointer(rebasing: addresses[frameOffset..<end]),
                                flags: UnsafeBufferPointer(rebasing: flags[frameOffset..<end])) ?? 0 : 0
            pairing.add(.init(time: sample.time, kind: .sample, tid: sample.tid, pid: sample.pid, cpu: sample.cpu,
                              event: sample.event, mode: sample.mode.rawValue, pc: sample.pc, stack: stack))
            heldSamples[Int(sample.cpu), default: 0] += 1
            held += 1
        }
        if Int(event) < perEvent.count { perEvent[Int(event)] += UInt64(held) }
        return held
    }

    /// Calls `body` with the samples `holdBack` left in a buffer and their frames.
    func withRest(_ body: ([Sample], UnsafeBufferPointer<UInt64>, UnsafeBufferPointer<FrameFlags>) throws -> Void)
        rethrows {
        try rest.addresses.withUnsafeBufferPointer { addresses in
            try rest.flags.withUnsafeBufferPointer { try body(rest.samples, addresses, $0) }
        }
    }

    func add(_ record: SidebandRecord.ContextSwitch) {
        pairing.add(.init(time: record.time, kind: record.state == nil ? .switchIn : .switchOut, tid: record.tid,
                          pid: record.pid, cpu: record.cpu, state: record.state ?? .other))
    }

    func add(_ record: SidebandRecord.Waking) {
        pairing.add(.init(time: record.time, kind: .waking, tid: record.tid, wakerPID: record.wakerPID,
                          wakerTID: record.wakerTID))
    }

    /// A task's exit record: its next switch-out is its last.
    func addExit(time: UInt64, tid: Int32) {
        guard event != nil else { return }
        pairing.add(.init(time: time, kind: .exit, tid: tid))
    }

    /// Writes, in the batch's transaction, the intervals of the records older than `completeUntil` (every CPU's
    /// records before it have been taken), adding their samples to `rollup`. `UInt64.max`, once the list is
    /// drained, writes everything still waiting: a thread still off CPU has an interval up to the stop.
    func flush(completeUntil time: UInt64, rollup: SampleRollup) throws {
        guard event != nil else { return }
        if time == .max {
            pairing.finish(stop: completeUntil, interval: { closed.append($0) }, lone: { lone.append($0) })
        } else {
            completeUntil = max(completeUntil, time)
            pairing.pair(until: completeUntil, interval: { closed.append($0) }, lone: { lone.append($0) })
        }
        try write(rollup: rollup)
    }

    private func write(rollup: SampleRollup) throws {
        defer {
            closed.removeAll(keepingCapacity: true)
            lone.removeAll(keepingCapacity: true)
        }
        let start = startMonotonic
        var sampleID = Int64(0)
        if closed.contains(where: { $0.sample != nil }) || !lone.isEmpty {
            // Given explicitly: the rowids of a many-row INSERT are not promised to follow one another.
            sampleID = try db.scalarInt("SELECT coalesce(max(rowid), 0) + 1 FROM samples") ?? 1
        }
        // Each sample with its period and the id it is given, in the order inserted.
        var rows: [(sample: OffCPUPairing.Record, period: Int64)] = []
        rows.reserveCapacity(closed.count + lone.count)
        var sampleIDs: [Int64?] = []
        sampleIDs.reserveCapacity(closed.count)
        for interval in closed {
            if let sample = interval.sample {
                sampleIDs.append(sampleID + Int64(rows.count))
                rows.append((sample, Int64(bitPattern: interval.end &- interval.switchOut.time)))
            } else {
                sampleIDs.append(nil)
            }
        }
        for sample in lone { rows.append((sample, 0)) }
        try rows.withUnsafeBufferPointer { rows in
            try samples.insert(count: rows.count, columns: 10) { statement, parameter, row in
                let (s, period) = rows[row]
                statement.bind(parameter, sampleID + Int64(row))
                statement.bind(parameter + 1, Int64(bitPattern: s.time &- start))
                statement.bind(parameter + 2, Int64(s.cpu))
                statement.bind(parameter + 3, Int64(s.pid))
                statement.bind(parameter + 4, Int64(s.tid))
                statement.bind(parameter + 5, Int64(s.event))
                statement.bind(parameter + 6, Int64(s.mode))
                statement.bind(parameter + 7, Int64(bitPattern: s.pc))
                statement.bind(parameter + 8, period)
                statement.bind(parameter + 9, s.stack)
                rollup.add(SampleGroup(pid: s.pid, tid: s.tid, cpu: s.cpu, event: s.event, mode: s.mode, pc: s.pc,
                                       stack: s.stack), period: period)
                heldSamples[Int(s.cpu), default: 0] &-= 1
            }
        }
        try closed.withUnsafeBufferPointer { closed in
            try intervals.insert(count: closed.count, columns: 10) { statement, parameter, row in
                let interval = closed[row]
                let out = interval.switchOut
                statement.bind(parameter, Int64(out.pid))
                statement.bind(parameter + 1, Int64(out.tid))
                statement.bind(parameter + 2, Int64(out.cpu))
                statement.bind(parameter + 3, Int64(bitPattern: out.time &- start))
                statement.bind(parameter + 4, Int64(bitPattern: interval.end &- out.time))
                statement.bind(parameter + 5, .text(out.state.rawValue))
                statement.bind(parameter + 6, interval.sample?.stack ?? 0)
                statement.bind(parameter + 7, sampleIDs[row].map { .integer($0) } ?? .null)
                statement.bind(parameter + 8, interval.waker.map { .integer(Int64($0.wakerPID)) } ?? .null)
                statement.bind(parameter + 9, interval.waker.map { .integer(Int64($0.wakerTID)) } ?? .null)
            }
        }
        for (outcome, switches) in pairing.takeOutcomes() {
            try addOutcome.run([.text(outcome.rawValue), .integer(switches)])
        }
    }
}

/// A table's one-row and many-row INSERT statements.
struct RowInserter {
    var one: SQLiteStatement
    var many: SQLiteStatement

    init(_ db: SQLiteDatabase, table: String, columns: [String]) throws {
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let insert = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        one = try db.prepare(insert + row)
        many = try db.prepare(insert + Array(repeating: row, count: SampleWriter.rowsPerInsert)
            .joined(separator: ", "))
    }

    /// Inserts `count` rows, `bind(statement, firstParameter, row)` binding each.
    func insert(count: Int, columns: Int32, _ bind: (SQLiteStatement, Int32, Int) -> Void) throws {
        var row = 0
        while row < count {
            let rows = count - row >= SampleWriter.rowsPerInsert ? SampleWriter.rowsPerInsert : 1
            let statement = rows == 1 ? one : many
            for offset in 0..<rows { bind(statement, Int32(offset) * columns + 1, row + offset) }
            try statement.runBound()
            row += rows
        }
    }
}

/// The off-CPU intervals of a recording once it ends.
public enum OffCPUIntervals {
    /// With copied user stacks, whose `off-cpu` samples were written as they came: points each interval at its
    /// switch-out's sample and gives each sample its interval's length as its period (0 when it has none), in
    /// `samples` and `sample_counts`; within the caller's transaction, after `indexes.sql` (the samples are found
    /// by time). Without them the writer did all this already.
    public static func attachSamples(_ db: SQLiteDatabase) throws {
        guard try db.scalarInt("SELECT count(*) FROM run WHERE call_graph LIKE 'dwarf%'") == 1,
              let event = try db.scalarInt("SELECT id FROM events WHERE base_name = ?",
                                           [.text(SchedTracepoints.offCPUName)]) else { return }
        let statements = """
            UPDATE off_cpu SET sample_id = (SELECT s.rowid FROM samples s
                WHERE s.time = off_cpu.start AND s.tid = off_cpu.tid AND s.event = ?1) WHERE sample_id IS NULL;
            UPDATE off_cpu SET stack_id = coalesce((SELECT s.stack_id FROM samples s WHERE s.rowid = off_cpu.sample_id), 0);
            """ + periods
        try run(statements, event: event, in: db)
    }

    /// Pairs the switch and wake-up records a schema-14 file stored (`switch_records`, `waking_records`) when it was
    /// never finished, before the step that drops them (`tprof-report --resymbolize`); as schema 14 paired them
    /// when recording ended, within the caller's transaction. A file whose records were paired is left as it is.
    static func pairRecorded(_ db: SQLiteDatabase) throws {
        guard try !OlderTables.columns(of: "switch_records", in: db).isEmpty,
              try db.scalarInt("SELECT count(*) FROM (SELECT 1 FROM off_cpu LIMIT 1)") == 0,
              let event = try db.scalarInt("SELECT id FROM events WHERE base_name = ?",
                                           [.text(SchedTracepoints.offCPUName)]) else { return }
        let statements = """
            CREATE INDEX IF NOT EXISTS samples_by_time ON samples (time);
            CREATE INDEX IF NOT EXISTS waking_records_by_tid ON waking_records (tid, time);
            INSERT INTO off_cpu (pid, tid, cpu, start, duration, state, stack_id, sample_id)
            SELECT x.pid, x.tid, x.cpu, x.time, x.next_time - x.time, x.state, coalesce(s.stack_id, 0), s.rowid
            FROM (
                SELECT pid, tid, cpu, time, direction, state,
                       lead(direction) OVER thread AS next_direction, lead(time) OVER thread AS next_time
                FROM switch_records WHERE tid != 0
                WINDOW thread AS (PARTITION BY tid ORDER BY time, direction = 'in')
            ) x
            LEFT JOIN samples s ON s.time = x.time AND s.tid = x.tid AND s.event = ?1
            WHERE x.direction = 'out' AND x.next_direction = 'in';
            UPDATE off_cpu SET (waker_pid, waker_tid) = (
                SELECT w.waker_pid, w.waker_tid FROM waking_records w
                WHERE w.tid = off_cpu.tid AND w.time >= off_cpu.start AND w.time <= off_cpu.start + off_cpu.duration
                ORDER BY w.time DESC LIMIT 1);
            """ + periods
        try run(statements, event: event, in: db)
    }

    /// Sets the `off-cpu` samples' periods from `off_cpu` and counts them again in `sample_counts`.
    private static let periods = """
        UPDATE samples SET period = 0 WHERE event = ?1;
        UPDATE samples SET period = o.duration FROM off_cpu o WHERE samples.rowid = o.sample_id;
        DELETE FROM sample_counts WHERE event = ?1;
        INSERT INTO sample_counts (pid, tid, cpu, event, mode, pc, stack_id, samples, period)
        SELECT pid, tid, cpu, event, mode, pc, coalesce(stack_id, 0), count(*), sum(period)
        FROM samples WHERE event = ?1 GROUP BY pid, tid, cpu, event, mode, pc, coalesce(stack_id, 0);
        """

    /// Runs `statements` one by one, `?1` bound to `event`.
    private static func run(_ statements: String, event: Int64, in db: SQLiteDatabase) throws {
        for sql in statements.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        where !sql.isEmpty {
            let statement = try db.prepare(sql)
            if sql.contains("?1") { statement.bind(1, event) }
            try statement.runBound()
        }
    }

    /// Points each interval at its sample's stack again, once DWARF unwinding has given the samples new ones.
    public static func followUnwoundStacks(_ db: SQLiteDatabase) throws {
        try db.execute("""
            UPDATE off_cpu SET stack_id = coalesce((SELECT s.stack_id FROM samples s WHERE s.rowid = off_cpu.sample_id), 0)
            WHERE sample_id IS NOT NULL
            """)
    }
}
