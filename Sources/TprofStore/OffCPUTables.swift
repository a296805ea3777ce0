import TprofCapture

/// Writes the switch and wake-up records of `--off-cpu` as the writer takes them (`switch_records`,
/// `waking_records`), one prepared statement each.
final class OffCPURecordWriter {
    private let insertSwitch: SQLiteStatement
    private let insertWaking: SQLiteStatement
    private let startMonotonic: UInt64

    init(_ db: SQLiteDatabase, startMonotonic: UInt64) throws {
        self.startMonotonic = startMonotonic
        insertSwitch = try db.prepare(
            "INSERT INTO switch_records (time, cpu, pid, tid, direction, state) VALUES (?, ?, ?, ?, ?, ?)")
        insertWaking = try db.prepare(
            "INSERT INTO waking_records (time, cpu, waker_pid, waker_tid, tid) VALUES (?, ?, ?, ?, ?)")
    }

    func write(_ record: SidebandRecord.ContextSwitch) throws {
        insertSwitch.bind(1, Int64(bitPattern: record.time &- startMonotonic))
        insertSwitch.bind(2, Int64(record.cpu))
        insertSwitch.bind(3, Int64(record.pid))
        insertSwitch.bind(4, Int64(record.tid))
        insertSwitch.bind(5, .text(record.state == nil ? "in" : "out"))
        insertSwitch.bind(6, record.state.map { .text($0.rawValue) } ?? .null)
        try insertSwitch.runBound()
    }

    func write(_ record: SidebandRecord.Waking) throws {
        insertWaking.bind(1, Int64(bitPattern: record.time &- startMonotonic))
        insertWaking.bind(2, Int64(record.cpu))
        insertWaking.bind(3, Int64(record.wakerPID))
        insertWaking.bind(4, Int64(record.wakerTID))
        insertWaking.bind(5, Int64(record.tid))
        try insertWaking.runBound()
    }
}

/// Pairs the switch records of a recording into off-CPU intervals when it ends.
public enum OffCPUIntervals {
    /// Fills `off_cpu` from `switch_records` and `waking_records`, and gives each `off-cpu` sample the length of its
    /// interval as its period (0 when it has none), in `samples` and `sample_counts`; within the caller's
    /// transaction, after `indexes.sql` (the samples are found by time). A switch-out counts only when the thread's
    /// next record is its switch-in: when the ring lost the switch-in, the interval is left out rather than
    /// stretched to a later one. The idle task (tid 0) is never off CPU.
    public static func build(_ db: SQLiteDatabase) throws {
        guard let event = try db.scalarInt("SELECT id FROM events WHERE base_name = ?",
                                           [.text(SchedTracepoints.offCPUName)]) else { return }
        let statements = """
            DELETE FROM off_cpu;
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
            UPDATE samples SET period = 0 WHERE event = ?1;
            UPDATE samples SET period = o.duration FROM off_cpu o WHERE samples.rowid = o.sample_id;
            DELETE FROM sample_counts WHERE event = ?1;
            INSERT INTO sample_counts (pid, tid, cpu, event, mode, pc, stack_id, samples, period)
            SELECT pid, tid, cpu, event, mode, pc, coalesce(stack_id, 0), count(*), sum(period)
            FROM samples WHERE event = ?1 GROUP BY pid, tid, cpu, event, mode, pc, coalesce(stack_id, 0);
            """
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
