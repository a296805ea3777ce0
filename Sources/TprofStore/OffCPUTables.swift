import TprofCapture

/// Writes the switch and wake-up records of `--off-cpu` as the writer takes them (`switch_records`,
/// `waking_records`): gathered over a batch, then inserted many rows a statement, as the samples are (a program
/// that switches 100,000 times a second sends three such records a switch).
final class OffCPURecordWriter {
    private let startMonotonic: UInt64
    private let switches: RowInserter
    private let wakings: RowInserter
    private var pendingSwitches: [SidebandRecord.ContextSwitch] = []
    private var pendingWakings: [SidebandRecord.Waking] = []

    /// A table's one-row and many-row INSERT statements.
    private struct RowInserter {
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

    init(_ db: SQLiteDatabase, startMonotonic: UInt64) throws {
        self.startMonotonic = startMonotonic
        switches = try RowInserter(db, table: "switch_records",
                                   columns: ["time", "cpu", "pid", "tid", "direction", "state"])
        wakings = try RowInserter(db, table: "waking_records",
                                  columns: ["time", "cpu", "waker_pid", "waker_tid", "tid"])
    }

    func add(_ record: SidebandRecord.ContextSwitch) { pendingSwitches.append(record) }
    func add(_ record: SidebandRecord.Waking) { pendingWakings.append(record) }

    /// Inserts the records added since the last call, in the batch's transaction.
    func flush() throws {
        let start = startMonotonic
        try pendingSwitches.withUnsafeBufferPointer { records in
            try switches.insert(count: records.count, columns: 6) { statement, parameter, row in
                let record = records[row]
                statement.bind(parameter, Int64(bitPattern: record.time &- start))
                statement.bind(parameter + 1, Int64(record.cpu))
                statement.bind(parameter + 2, Int64(record.pid))
                statement.bind(parameter + 3, Int64(record.tid))
                statement.bind(parameter + 4, .text(record.state == nil ? "in" : "out"))
                statement.bind(parameter + 5, record.state.map { .text($0.rawValue) } ?? .null)
            }
        }
        try pendingWakings.withUnsafeBufferPointer { records in
            try wakings.insert(count: records.count, columns: 5) { statement, parameter, row in
                let record = records[row]
                statement.bind(parameter, Int64(bitPattern: record.time &- start))
                statement.bind(parameter + 1, Int64(record.cpu))
                statement.bind(parameter + 2, Int64(record.wakerPID))
                statement.bind(parameter + 3, Int64(record.wakerTID))
                statement.bind(parameter + 4, Int64(record.tid))
            }
        }
        pendingSwitches.removeAll(keepingCapacity: true)
        pendingWakings.removeAll(keepingCapacity: true)
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
