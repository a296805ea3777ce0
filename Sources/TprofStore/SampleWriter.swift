import CTprofLinux
import Foundation
import TprofCapture

/// Takes completed buffers off the `BufferList` on its own thread and writes them to the database in batches:
/// one transaction a batch, cached prepared statements, multi-row INSERTs.
public final class SampleWriter {
    /// Rows per multi-row INSERT; SQLite's parse and step cost is shared by all of them.
    static let rowsPerInsert = 64
    /// WAL pages between automatic checkpoints on the writer's connection.
    static let walAutocheckpointPages = 16384
    static let sampleColumns = "time, cpu, pid, tid, event, mode, pc, period, stack_id"

    private let db: SQLiteDatabase
    private let list: BufferList
    private let startMonotonic: UInt64
    private let eventCount: Int
    private var thread: ThreadHandle?

    private let insertMany: SQLiteStatement
    private let insertOne: SQLiteStatement
    private let insertComm: SQLiteStatement
    private let upsertThreadComm: SQLiteStatement
    private let upsertProcessComm: SQLiteStatement
    private let insertTask: SQLiteStatement
    private let upsertThreadFork: SQLiteStatement
    private let upsertProcessFork: SQLiteStatement
    private let updateThreadExit: SQLiteStatement
    private let updateProcessExit: SQLiteStatement
    private let insertMmap: SQLiteStatement
    private let upsertCounters: SQLiteStatement
    private let upsertSampleCounts: SQLiteStatement
    private let insertUserStack: SQLiteStatement?
    private let insertStack: SQLiteStatement
    private let insertStacks: SQLiteStatement
    private let upsertManySampleCounts: SQLiteStatement
    private let offCPU: OffCPURecordWriter
    /// Replaced by empty ones once the writer is done: the finishing stage must not run with the whole tree of a
    /// long recording held in memory.
    private var stacks = StackInterner()
    private var rollup = SampleRollup()

    // Protected by `stateLock`: read by other threads for the live status and the summary.
    private let stateLock = NSLock()
    private var _failure: Error?
    private var _batches = 0
    private var _samplesPerEvent: [UInt64]

    /// - Parameters:
    ///   - startMonotonic: sample times are stored relative to it.
    /// - Parameter userStacksSchema: the database (`main` or an attached scratch file) whose `user_stacks` table
    ///   receives the user registers and stack copies of DWARF call graphs.
    public init(database: RecordingDatabase, list: BufferList, startMonotonic: UInt64, eventCount: Int,
                userStacksSchema: String? = nil) throws {
        self.db = database.connection
        self.list = list
        self.startMonotonic = startMonotonic
        self.eventCount = eventCount
        self._samplesPerEvent = Array(repeating: 0, count: max(1, eventCount))
        // A batch upserts sample_counts rows all over its tree, so each commit writes most of its pages to the WAL
        // again; with SQLite's default checkpoint every 1000 pages nearly every commit also copied them into the
        // file. Checkpointing every 16384 pages (64 MB of WAL) copies each page once for many commits.
        try db.execute("PRAGMA wal_autocheckpoint = \(Self.walAutocheckpointPages)")
        // A batch dirties more pages than SQLite's default 2 MB cache holds: spilled mid-transaction, they were
        // written to the WAL, changed again and rewritten (five times the bytes of the WAL itself, measured at
        // 20 kHz -a -g). Without spilling, the cache holds one batch's dirty pages until its commit and then shrinks
        // back to its size: memory bounded by the batch, not by the length of the run.
        try db.execute("PRAGMA cache_spill = OFF")
        // Each 64-row INSERT or upsert keeps a statement journal of the pages it changes, to undo it alone; past
        // 64 kB SQLite spilled it to a file in /var/tmp, which took more writes than the WAL. In memory it is at
        // most one statement's pages.
        try db.execute("PRAGMA temp_store = MEMORY")
        let placeholders = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
        insertMany = try db.prepare("INSERT INTO samples (\(Self.sampleColumns)) VALUES "
            + Array(repeating: placeholders, count: Self.rowsPerInsert).joined(separator: ", "))
        insertOne = try db.prepare("INSERT INTO samples (\(Self.sampleColumns)) VALUES \(placeholders)")
        insertComm = try db.prepare(
            "INSERT INTO comm_records (time, pid, tid, comm, exec, source) VALUES (?, ?, ?, ?, ?, ?)")
        upsertThreadComm = try db.prepare("""
            INSERT INTO threads (tid, pid, comm) VALUES (?, ?, ?)
            ON CONFLICT (pid, tid) DO UPDATE SET comm = excluded.comm
            """)
        upsertProcessComm = try db.prepare("""
            INSERT INTO processes (pid, comm) VALUES (?, ?) ON CONFLICT (pid) DO UPDATE SET comm = excluded.comm
            """)
        insertTask = try db.prepare(
            "INSERT INTO task_records (time, kind, pid, ppid, tid, ptid) VALUES (?, ?, ?, ?, ?, ?)")
        // A new task has its creator's name until it sets its own (exec or prctl), which no record reports.
        upsertThreadFork = try db.prepare("""
            INSERT INTO threads (tid, pid, start_time, comm)
            VALUES (?1, ?2, ?3, (SELECT comm FROM threads WHERE tid = ?4 AND pid IN (?2, ?5) ORDER BY pid = ?2 DESC))
            ON CONFLICT (pid, tid) DO UPDATE SET start_time = excluded.start_time
            """)
        upsertProcessFork = try db.prepare("""
            INSERT INTO processes (pid, ppid, start_time, comm)
            VALUES (?1, ?2, ?3, (SELECT comm FROM processes WHERE pid = ?2))
            ON CONFLICT (pid) DO UPDATE SET ppid = excluded.ppid, start_time = excluded.start_time
            """)
        updateThreadExit = try db.prepare("UPDATE threads SET exit_time = ? WHERE pid = ? AND tid = ?")
        updateProcessExit = try db.prepare("UPDATE processes SET exit_time = ? WHERE pid = ?")
        insertMmap = try db.prepare("""
            INSERT INTO mmap_records (time, pid, tid, start, length, pgoff, maj, min, ino, ino_generation, build_id,
                prot, flags, filename, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        // One statement upserts a batch's groups, unique within it, many rows at once.
        let connection = database.connection
        func sampleCountsUpsert(rows: Int) throws -> SQLiteStatement {
            try connection.prepare("""
                INSERT INTO sample_counts (pid, tid, cpu, event, mode, pc, stack_id, samples, period)
                VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
                ON CONFLICT (pid, tid, cpu, event, mode, pc, stack_id)
                DO UPDATE SET samples = samples + excluded.samples, period = period + excluded.period
                """)
        }
        upsertSampleCounts = try sampleCountsUpsert(rows: 1)
        upsertManySampleCounts = try sampleCountsUpsert(rows: Self.rowsPerInsert)
        let stackInsert = "INSERT INTO stacks (id, parent_id, address, kernel, return_address, depth) VALUES "
        insertStack = try db.prepare(stackInsert + "(?, ?, ?, ?, ?, ?)")
        insertStacks = try db.prepare(
            stackInsert + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: Self.rowsPerInsert).joined(separator: ", "))
        if let schema = userStacksSchema {
            insertUserStack = try db.prepare(
                "INSERT INTO \(schema).user_stacks (sample_id, registers, stack) VALUES (?, ?, ?)")
        } else {
            insertUserStack = nil
        }
        offCPU = try OffCPURecordWriter(db, startMonotonic: startMonotonic, holdsSamples: userStacksSchema == nil)
        upsertCounters = try db.prepare("""
            INSERT OR REPLACE INTO counters (cpu, read, written, sample, overflow, buf, emptybuf, dropbuf,
                dropbuf_sample, kernel_lost, kernel_lost_samples, throttle, unthrottle, sideband_dropped, unwritten,
                ignored_records, malformed_records, malformed_bytes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// Writes side-band records known before recording starts (the /proc snapshot), in one transaction.
    public func writeSideband(_ records: [SidebandRecord]) throws {
        try db.execute("BEGIN")
        do {
            for record in records { try write(record) }
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// Starts the writer thread.
    public func start() {
        thread = startThread(name: "tprof-writer") { [self] in run() }
    }

    /// Waits for the writer to write everything left after the list was closed.
    public func finish() {
        thread?.join()
        thread = nil
        list.releaseFreeBuffers()
        stacks = StackInterner()
        rollup = SampleRollup()
        _ = CTprofLinux_release_free_heap()
        // The finishing stage runs its own large transactions and sorts on this connection: SQLite's defaults.
        try? db.execute("PRAGMA cache_spill = ON; PRAGMA temp_store = DEFAULT")
    }

    /// The error that stopped the writer, if one did.
    public var failure: Error? {
        stateLock.lock()
        defer { stateLock.unlock() }
        return _failure
    }

    /// Transactions committed so far.
    public var batches: Int {
        stateLock.lock()
        defer { stateLock.unlock() }
        return _batches
    }

    /// Samples written per event index.
    public var samplesPerEvent: [UInt64] {
        stateLock.lock()
        defer { stateLock.unlock() }
        return _samplesPerEvent
    }

    private func run() {
        while true {
            let batch = list.takeBatch(timeout: 0.25)
            // Once everything was taken, a last transaction ends the off-CPU intervals still open.
            let drained = batch.isEmpty && list.isDrained
            if batch.isEmpty && !drained { continue }
            do {
                try write(drained ? BufferList.Batch(buffers: [], sideband: [], completeUntil: .max) : batch)
                list.release(batch.buffers)
                if drained { return }
            } catch {
                list.release(batch.buffers, written: false)
                stateLock.lock()
                _failure = error
                stateLock.unlock()
                discardUntilDrained()
                return
            }
        }
    }

    /// After a failure, keeps taking buffers so the producers never block; their samples count as unwritten.
    private func discardUntilDrained() {
        while true {
            let batch = list.takeBatch(timeout: 0.25)
            list.release(batch.buffers, written: false)
            if batch.isEmpty && list.isDrained { return }
        }
    }

    private func write(_ batch: BufferList.Batch) throws {
        try db.execute("BEGIN")
        do {
            var perEvent = Array(repeating: UInt64(0), count: _samplesPerEvent.count)
            rollup.removeAll()
            for buffer in batch.buffers {
                if offCPU.holdBack(buffer, stacks: stacks, perEvent: &perEvent) == 0 {
                    try write(buffer.samples, addresses: buffer.frameAddresses, flags: buffer.frameFlags,
                              userData: buffer.userData, perEvent: &perEvent)
                } else {
                    try offCPU.withRest { try write($0, addresses: $1, flags: $2, userData: [], perEvent: &perEvent) }
                }
            }
            for record in batch.sideband { try write(record) }
            try offCPU.flush(completeUntil: batch.completeUntil, rollup: rollup)
            try writeRollup()
            try stacks.writePending(using: insertStack, many: insertStacks, rowsPerInsert: Self.rowsPerInsert)
            var inBatch: [Int: UInt64] = [:]
            for buffer in batch.buffers { inBatch[buffer.cpu, default: 0] += UInt64(buffer.count) }
            try writeCounters(alsoWritten: inBatch)
            try db.execute("COMMIT")
            stateLock.lock()
            for i in perEvent.indices { _samplesPerEvent[i] += perEvent[i] }
            _batches += 1
            stateLock.unlock()
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// Upserts the batch's `sample_counts` groups, many rows a statement.
    private func writeRollup() throws {
        let entries = rollup.entries
        let count = rollup.count
        var index = 0
        while index < count {
            let many = count - index >= Self.rowsPerInsert
            let statement = many ? upsertManySampleCounts : upsertSampleCounts
            let rows = many ? Self.rowsPerInsert : 1
            var parameter: Int32 = 1
            for row in 0..<rows {
                let entry = entries[index + row]
                statement.bind(parameter, Int64(entry.group.pid))
                statement.bind(parameter + 1, Int64(entry.group.tid))
                statement.bind(parameter + 2, Int64(entry.group.cpu))
                statement.bind(parameter + 3, Int64(entry.group.event))
                statement.bind(parameter + 4, Int64(entry.group.mode))
                statement.bind(parameter + 5, Int64(bitPattern: entry.group.pc))
                statement.bind(parameter + 6, entry.group.stack)
                statement.bind(parameter + 7, entry.samples)
                statement.bind(parameter + 8, entry.period)
                parameter += 9
            }
            try statement.runBound()
            index += rows
        }
    }

    private func write(_ samples: [Sample], addresses: UnsafeBufferPointer<UInt64>,
                       flags: UnsafeBufferPointer<FrameFlags>, userData: [UInt8], perEvent: inout [UInt64]) throws {
        try samples.withUnsafeBufferPointer { samples in
            try write(samples, addresses: addresses, flags: flags, userData: userData, perEvent: &perEvent)
        }
    }

    private func write(_ samples: UnsafeBufferPointer<Sample>, addresses: UnsafeBufferPointer<UInt64>,
                       flags: UnsafeBufferPointer<FrameFlags>, userData: [UInt8], perEvent: inout [UInt64]) throws {
        let start = startMonotonic
        let stacks = self.stacks
        let rollup = self.rollup
        var index = 0
        // With copied user stacks each sample is inserted alone, so its rowid is the one SQLite reports for it (the
        // rowids of a multi-row INSERT are not promised to be consecutive); an 8 kB stack copy costs far more anyway.
        let full = insertUserStack != nil ? 0 : samples.count - samples.count % Self.rowsPerInsert
        var frameOffset = 0
        var userOffset = 0
        while index < samples.count {
            let statement = index < full ? insertMany : insertOne
            let rows = index < full ? Self.rowsPerInsert : 1
            var parameter: Int32 = 1
            for row in 0..<rows {
                let s = samples[index + row]
                var stack: Int64 = 0
                if s.frameCount > 0 {
                    let end = min(addresses.count, frameOffset + Int(s.frameCount))
                    stack = stacks.intern(UnsafeBufferPointer(rebasing: addresses[frameOffset..<end]),
                                          flags: UnsafeBufferPointer(rebasing: flags[frameOffset..<end])) ?? 0
                    frameOffset = end
                }
                statement.bind(parameter, Int64(bitPattern: s.time &- start))
                statement.bind(parameter + 1, Int64(s.cpu))
                statement.bind(parameter + 2, Int64(s.pid))
                statement.bind(parameter + 3, Int64(s.tid))
                statement.bind(parameter + 4, Int64(s.event))
                statement.bind(parameter + 5, Int64(s.mode.rawValue))
                statement.bind(parameter + 6, Int64(bitPattern: s.pc))
                statement.bind(parameter + 7, Int64(bitPattern: s.period))
                // 0: no call chain, as in sample_counts (schema 8; earlier files hold NULL).
                statement.bind(parameter + 8, stack)
                parameter += 9
                if Int(s.event) < perEvent.count { perEvent[Int(s.event)] += 1 }
                rollup.add(SampleGroup(pid: s.pid, tid: s.tid, cpu: s.cpu, event: s.event, mode: s.mode.rawValue,
                                       pc: s.pc, stack: stack), period: Int64(bitPattern: s.period))
            }
            try statement.runBound()
            if let insertUserStack, !userData.isEmpty {
                let firstRowID = db.lastInsertRowID
                for row in 0..<rows {
                    let registerBytes = Int(samples[index + row].userRegisterBytes)
                    let count = registerBytes + Int(samples[index + row].userStackBytes)
                    guard count > 0, userOffset + count <= userData.count else { continue }
                    try userData.withUnsafeBytes { bytes in
                        let data = UnsafeRawBufferPointer(rebasing: bytes[userOffset..<(userOffset + count)])
                        insertUserStack.bind(1, firstRowID + Int64(row))
                        insertUserStack.bind(2, blob: UnsafeRawBufferPointer(rebasing: data[0..<registerBytes]))
                        insertUserStack.bind(3, blob: UnsafeRawBufferPointer(rebasing: data[registerBytes...]))
                        try insertUserStack.runBound()
                    }
                    userOffset += count
                }
            }
            index += rows
        }
    }

    private func relative(_ time: UInt64) -> SQLiteValue {
        .integer(Int64(bitPattern: time &- startMonotonic))
    }

    private func write(_ record: SidebandRecord) throws {
        switch record {
        case .comm(let time, let pid, let tid, let name, let exec, let source):
            let t: SQLiteValue = source == .proc ? .integer(0) : relative(time)
            try insertComm.run([t, .integer(Int64(pid)), .integer(Int64(tid)), .text(name),
                                .integer(exec ? 1 : 0), .text(source.rawValue)])
            try upsertThreadComm.run([.integer(Int64(tid)), .integer(Int64(pid)), .text(name)])
            if pid == tid { try upsertProcessComm.run([.integer(Int64(pid)), .text(name)]) }
        case .fork(let time, let pid, let ppid, let tid, let ptid):
            try insertTask.run([relative(time), .text("fork"), .integer(Int64(pid)), .integer(Int64(ppid)),
                                .integer(Int64(tid)), .integer(Int64(ptid))])
            try upsertThreadFork.run([.integer(Int64(tid)), .integer(Int64(pid)), relative(time),
                                      .integer(Int64(ptid)), .integer(Int64(ppid))])
            if pid == tid { try upsertProcessFork.run([.integer(Int64(pid)), .integer(Int64(ppid)), relative(time)]) }
        case .exit(let time, let pid, let ppid, let tid, let ptid):
            try insertTask.run([relative(time), .text("exit"), .integer(Int64(pid)), .integer(Int64(ppid)),
                                .integer(Int64(tid)), .integer(Int64(ptid))])
            try updateThreadExit.run([relative(time), .integer(Int64(pid)), .integer(Int64(tid))])
            if pid == tid { try updateProcessExit.run([relative(time), .integer(Int64(pid))]) }
            offCPU.addExit(time: time, tid: tid)
        case .mmap(let m):
            let t: SQLiteValue = m.source == .proc ? .integer(0) : relative(m.time)
            try insertMmap.run([
                t, .integer(Int64(m.pid)), .integer(Int64(m.tid)), .integer(Int64(bitPattern: m.start)),
                .integer(Int64(bitPattern: m.length)), .integer(Int64(bitPattern: m.pageOffset)),
                m.major.map { .integer(Int64($0)) } ?? .null, m.minor.map { .integer(Int64($0)) } ?? .null,
                m.inode.map { .integer(Int64(bitPattern: $0)) } ?? .null,
                m.inodeGeneration.map { .integer(Int64(bitPattern: $0)) } ?? .null, SQLiteValue(m.buildID),
                .integer(Int64(m.protection)), .integer(Int64(m.flags)), .text(m.filename), .text(m.source.rawValue),
            ])
        case .contextSwitch(let contextSwitch): offCPU.add(contextSwitch)
        case .waking(let waking): offCPU.add(waking)
        }
    }

    /// Stores every CPU's counters; called in each batch's transaction and once more at the end.
    /// - Parameter alsoWritten: samples per CPU that this transaction writes, not yet released to the list.
    public func writeCounters(alsoWritten: [Int: UInt64] = [:]) throws {
        for stats in list.statistics() {
            let c = stats.counters
            // Off-CPU samples waiting in memory for their intervals are not written yet.
            let taken = stats.written + alsoWritten[stats.cpu, default: 0]
            let written = taken - min(taken, offCPU.heldSamples[stats.cpu, default: 0])
            // Clamped: the kernel's loss counts can be any u64, and SQLite integers stop at Int64.max.
            let counts = [c.read, written, c.sample, c.overflow, c.buf, c.emptybuf, c.dropbuf, c.dropbufSample,
                          c.kernelLost, c.kernelLostSamples, c.throttle, c.unthrottle, c.sidebandDropped,
                          stats.unwritten, c.ignoredRecords, c.malformedRecords, c.malformedBytes]
            try upsertCounters.run([.integer(Int64(stats.cpu))] + counts.map { .integer(Int64(clamping: $0)) })
        }
    }
}
