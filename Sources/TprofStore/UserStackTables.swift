/// The user stacks copied with each sample (`--call-graph dwarf`), as the finishing stage unwinds them: rows out,
/// each sample's full stack and the outcome counts back.
public final class UserStackTables {
    private let db: SQLiteDatabase
    /// The schema holding `user_stacks`: "main" with --keep-stacks, else the attached scratch file.
    private let schema: String
    private let update: SQLiteStatement
    private let stackNode: SQLiteStatement
    /// Kernel frames by leaf, bounded: the samples of one kernel path share them.
    private var kernelFramesByLeaf: [Int64: [UInt64]] = [:]
    private static let cachedKernelChains = 16384

    /// One copied stack and the sample it belongs to.
    public struct Row {
        public var sampleID: Int64
        public var pid: Int32
        /// The sample's stack so far: the kernel's chain (its kernel part is kept).
        public var stackID: Int64
        public var time: Int64
        /// The user registers and stack bytes, valid only during the call.
        public var registers: UnsafeRawBufferPointer
        public var stack: UnsafeRawBufferPointer
    }

    public init(database: SQLiteDatabase, schema: String) throws {
        db = database
        self.schema = schema
        update = try db.prepare("UPDATE samples SET stack_id = ? WHERE rowid = ?")
        stackNode = try db.prepare("SELECT parent_id, address, kernel FROM stacks WHERE id = ?")
    }

    /// The id after the last one in `stacks`: where the unwound stacks' nodes start.
    public func nextStackID() throws -> Int64 {
        (try db.scalarInt("SELECT max(id) FROM stacks") ?? 0) + 1
    }

    /// The addresses of a stored stack's kernel frames, leaf first, to be joined with unwound user frames; empty
    /// when it has none.
    public func kernelFrames(leaf: Int64) throws -> [UInt64] {
        if let known = kernelFramesByLeaf[leaf] { return known }
        var frames: [UInt64] = []
        var node = leaf
        var steps = 0
        // The step bound ends a cycle in a damaged file.
        while node > 0, steps < stackWalkLimit {
            stackNode.bind(1, node)
            defer { try? stackNode.bind([]) }
            guard try stackNode.step() else { break }
            if stackNode.int64(2) != 0 { frames.append(UInt64(bitPattern: stackNode.int64(1))) }
            node = stackNode.int64(0)
            steps += 1
        }
        if kernelFramesByLeaf.count >= Self.cachedKernelChains { kernelFramesByLeaf.removeAll(keepingCapacity: true) }
        kernelFramesByLeaf[leaf] = frames
        return frames
    }

    /// Whether the file holds copied stacks that were never unwound (unwinding was skipped, or the recorder was
    /// killed, with the stacks kept in the file).
    public static func needUnwinding(in db: SQLiteDatabase) throws -> Bool {
        try db.scalarInt("SELECT EXISTS (SELECT 1 FROM user_stacks) AND NOT EXISTS (SELECT 1 FROM unwind_stats)") == 1
    }

    /// Copies every stack of `other`'s `user_stacks` into this schema's.
    public func copy(from other: String) throws {
        try db.execute("INSERT OR IGNORE INTO \(schema).user_stacks SELECT * FROM \(other).user_stacks")
    }

    /// How many stacks there are to unwind.
    public func count() throws -> Int {
        Int(try db.scalarInt("SELECT count(*) FROM \(schema).user_stacks") ?? 0)
    }

    /// Calls `body` with each copied stack.
    public func forEach(_ body: (Row) throws -> Void) throws {
        let rows = try db.prepare("""
            SELECT u.sample_id, s.pid, coalesce(s.stack_id, 0), u.registers, u.stack, s.time
            FROM \(schema).user_stacks u JOIN samples s ON s.rowid = u.sample_id
            """)
        while try rows.step() {
            try body(Row(sampleID: rows.int64(0), pid: Int32(truncatingIfNeeded: rows.int64(1)),
                         stackID: rows.int64(2), time: rows.int64(5), registers: rows.blob(3), stack: rows.blob(4)))
        }
    }

    /// Points a sample at its unwound stack.
    public func setStack(sampleID: Int64, leaf: Int64) throws {
        try update.run([.integer(leaf), .integer(sampleID)])
    }

    /// Adds samples per unwinding outcome to `unwind_stats` and rebuilds `sample_counts` from the samples' new
    /// stacks.
    public func finish(outcomes: [String: Int]) throws {
        let stats = try db.prepare("""
            INSERT INTO unwind_stats (reason, samples) VALUES (?, ?)
            ON CONFLICT (reason) DO UPDATE SET samples = samples + excluded.samples
            """)
        for (reason, count) in outcomes { try stats.run([.text(reason), .integer(Int64(count))]) }
        try db.execute("""
            DELETE FROM sample_counts;
            INSERT INTO sample_counts (pid, tid, cpu, event, mode, pc, stack_id, samples, period)
            SELECT pid, tid, cpu, event, mode, pc, coalesce(stack_id, 0), count(*), sum(period)
            FROM samples GROUP BY pid, tid, cpu, event, mode, pc, coalesce(stack_id, 0);
            """)
        try OffCPUIntervals.followUnwoundStacks(db)
    }
}
