/// The symbol tables of a recording (`dsos`, `symbols`, `addresses`, `symbol_counts`) as the
/// finishing stage reads and rewrites them: what was sampled goes out as plain values, names come back as rows.
/// Scratch tables live in the connection's temp schema and are dropped by `finish()`.
public final class SymbolTables {
    private let db: SQLiteDatabase
    private let insertDso: SQLiteStatement
    private let insertSymbol: SQLiteStatement
    private let insertAddress: SQLiteStatement
    private var dsoIDs: [DsoRow: Int64] = [:]
    private var symbolIDs: [SymbolKey: Int64] = [:]
    /// The last row asked for, which the next address (named in order of place in its file) mostly asks for again:
    /// compared without hashing the strings.
    private var lastDso: (row: DsoRow, id: Int64)?
    private var lastSymbol: (key: SymbolKey, id: Int64)?
    private var earlierLookup: SQLiteStatement?
    /// Prepared on the first time-dependent address.
    private var insertCount: SQLiteStatement?
    /// Stack nodes the walk holds at once (smaller in tests, to walk a forest range by range).
    var nodesPerWalkRange = StackFrameWalk.defaultNodesPerRange
    /// The addresses to name, between `gatherSampledAddresses` and `forEachSampledAddress`.
    var gathered: GatheredAddresses

    /// The validity of an address row that holds for the whole run.
    public static let unbounded = (from: Int64.min, to: Int64.max)

    private struct SymbolKey: Hashable {
        var dsoID: Int64
        var address: UInt64
        var rawName: String
    }

    public init(database: SQLiteDatabase) throws {
        db = database
        gathered = GatheredAddresses(database: database)
        insertDso = try db.prepare("""
            INSERT INTO dsos (path, build_id, kind, symbol_source, file_source, debug_source) VALUES (?, ?, ?, ?, ?, ?)
            """)
        insertSymbol = try db.prepare(
            "INSERT INTO symbols (dso_id, name, raw_name, address, size) VALUES (?, ?, ?, ?, ?)")
        insertAddress = try db.prepare("""
            INSERT INTO addresses (pid, pc, valid_from, valid_to, dso_id, dso_offset, symbol_id, symbol_offset, name,
                file, line, inlined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    // MARK: What the earlier resolution had

    /// Build ids per file path an earlier resolution recorded; a path recorded with several is left out.
    public func recordedBuildIDs() throws -> [String: String] {
        var buildIDs: [String: String] = [:]
        var ambiguous = Set<String>()
        let dsos = try db.prepare("SELECT DISTINCT path, build_id FROM dsos WHERE build_id IS NOT NULL")
        while try dsos.step() {
            guard let path = dsos.text(0), let buildID = dsos.text(1) else { continue }
            if let known = buildIDs[path], known != buildID { ambiguous.insert(path) }
            buildIDs[path] = buildID
        }
        for path in ambiguous { buildIDs[path] = nil }
        return buildIDs
    }

    /// Empties the symbol tables, first keeping every name that had a symbol aside (on disk, in the temp schema)
    /// so that `earlierName` can give it back to an address the new pass resolves less well.
    public func clear() throws {
        try db.execute("""
            DROP TABLE IF EXISTS temp.earlier_names;
            CREATE TEMP TABLE earlier_names AS
            SELECT a.pid, a.pc, a.valid_from, d.path, d.build_id, d.kind, d.symbol_source, a.dso_offset, s.raw_name,
                   s.name AS symbol_name, s.address, s.size, a.symbol_offset, a.name, a.file, a.line, a.inlined,
                   d.file_source, d.debug_source
            FROM addresses a JOIN symbols s ON s.id = a.symbol_id JOIN dsos d ON d.id = a.dso_id;
            CREATE UNIQUE INDEX temp.earlier_names_by_address ON earlier_names (pid, pc, valid_from);
            DELETE FROM symbol_counts; DELETE FROM addresses; DELETE FROM symbols; DELETE FROM dsos;
            """)
        if try db.scalarInt("SELECT count(*) FROM temp.earlier_names") ?? 0 > 0 {
            earlierLookup = try db.prepare("""
                SELECT path, build_id, kind, symbol_source, dso_offset, raw_name, symbol_name, address, size,
                       symbol_offset, name, file, line, inlined, file_source, debug_source
                FROM temp.earlier_names WHERE pid = ? AND pc = ? AND valid_from = ?
                """)
        }
    }

    /// The name an address had before `clear()`, if it had a symbol.
    public func earlierName(pid: Int32, pc: UInt64, validFrom: Int64) throws -> AddressRow? {
        guard let lookup = earlierLookup else { return nil }
        try lookup.bind([.integer(Int64(pid)), .integer(Int64(bitPattern: pc)), .integer(validFrom)])
        guard try lookup.step() else { return nil }
        func optional(_ column: Int32) -> Int64? { lookup.isNull(column) ? nil : lookup.int64(column) }
        let dso = try dsoID(DsoRow(path: lookup.text(0) ?? "", buildID: lookup.text(1),
                                   kind: lookup.text(2) ?? "unknown", symbolSource: lookup.text(3) ?? "none",
                                   fileSource: lookup.text(14), debugSource: lookup.text(15)))
        let symbol = try symbolID(dso: dso, SymbolRow(rawName: lookup.text(5) ?? "", name: lookup.text(6) ?? "",
                                                      address: UInt64(bitPattern: lookup.int64(7)),
                                                      size: optional(8).map { UInt64(bitPattern: $0) }))
        return AddressRow(dsoID: dso, dsoOffset: optional(4).map { UInt64(bitPattern: $0) }, symbolID: symbol,
                          symbolOffset: optional(9).map { UInt64(bitPattern: $0) }, name: lookup.text(10) ?? "",
                          file: lookup.text(11), line: optional(12), inlined: lookup.text(13))
    }

    // MARK: What was sampled

    /// Gathers every distinct (pid, address) to name, from the samples and from the frames of each process's
    /// stacks (return addresses at address - 1, so a call at the very end of a function is not credited to the next
    /// one), until `forEachSampledAddress` hands them out; returns how many there are.
    public func gatherSampledAddresses() throws -> Int {
        gathered.release()
        let samples = try db.prepare("SELECT pid, pc, \(KernelModes.sql()) FROM sample_counts")
        while try samples.step() {
            try gathered.append(pid: Int32(truncatingIfNeeded: samples.int64(0)),
                                pc: UInt64(bitPattern: samples.int64(1)),
                                flags: GatheredAddresses.Flags.sampled
                                    | (samples.int64(2) != 0 ? GatheredAddresses.Flags.kernel : 0))
        }
        try gatherFrames()
        return try gathered.finish()
    }

    /// A gathered address: whether it was sampled in kernel mode (or is a kernel frame), whether samples have it
    /// and whether stack frames do.
    public struct SampledAddress {
        public var pid: Int32
        public var pc: UInt64
        public var kernel: Bool
        public var sampled: Bool
        public var framed: Bool
    }

    /// The distinct addresses of every process's stack frames. `StackFrameWalk` finds them rather than a recursive
    /// query (1.9 s for 178k frames, against 0.2 s), unless the ids are not dense: then the query does.
    private func gatherFrames() throws {
        let count = try db.scalarInt("SELECT count(*) FROM stacks") ?? 0
        let maxID = try db.scalarInt("SELECT max(id) FROM stacks") ?? 0
        guard count > 0 else { return }
        // Ids not dense (a file written by something else): the query does the same without the arrays.
        guard StackChains.idsAreDense(count: count, maxID: maxID) else {
            let frames = try db.prepare("""
                WITH RECURSIVE reach (pid, id) AS (
                    SELECT DISTINCT pid, stack_id FROM sample_counts WHERE stack_id != 0
                    UNION
                    SELECT r.pid, s.parent_id FROM reach r JOIN stacks s ON s.id = r.id WHERE s.parent_id != 0)
                SELECT DISTINCT r.pid, s.named_pc, s.kernel FROM reach r JOIN stacks s ON s.id = r.id
                """)
            while try frames.step() {
                try appendFrame(pid: Int32(truncatingIfNeeded: frames.int64(0)),
                                pc: UInt64(bitPattern: frames.int64(1)), kernel: frames.int64(2) != 0)
            }
            return
        }
        try StackFrameWalk(database: db, maxID: Int(maxID), nodesPerRange: nodesPerWalkRange)
            .gatherAddresses(into: appendFrame)
    }

    private func appendFrame(pid: Int32, pc: UInt64, kernel: Bool) throws {
        try gathered.append(pid: pid, pc: pc,
                            flags: GatheredAddresses.Flags.framed | (kernel ? GatheredAddresses.Flags.kernel : 0))
    }

    /// Calls `body` with each gathered address in (pid, address) order, then lets them go.
    public func forEachSampledAddress(_ body: (SampledAddress) throws -> Void) throws {
        defer { gathered.release() }
        try gathered.forEach { pid, pc, flags in
            try body(SampledAddress(pid: pid, pc: pc, kernel: flags & GatheredAddresses.Flags.kernel != 0,
                                    sampled: flags & GatheredAddresses.Flags.sampled != 0,
                                    framed: flags & GatheredAddresses.Flags.framed != 0))
        }
    }

    /// Calls `body` with each sample of the given processes (for addresses whose mapping changed during the run).
    public func forEachSample(ofProcesses pids: [Int32], _ body: (SampleRow) throws -> Void) throws {
        guard !pids.isEmpty else { return }
        let scan = try db.prepare("""
            SELECT pid, tid, cpu, event, mode, coalesce(stack_id, 0), pc, time, period FROM samples
            WHERE pid IN (\(pids.map { String($0) }.joined(separator: ",")))
            """)
        while try scan.step() {
            try body(SampleRow(pid: Int32(truncatingIfNeeded: scan.int64(0)), tid: scan.int64(1), cpu: scan.int64(2),
                               event: scan.int64(3), mode: scan.int64(4), stackID: scan.int64(5),
                               pc: UInt64(bitPattern: scan.int64(6)), time: scan.int64(7), period: scan.int64(8)))
        }
    }

    // MARK: Names written back

    /// The id of a `dsos` row, inserted the first time it is asked for.
    public func dsoID(_ row: DsoRow) throws -> Int64 {
        if let last = lastDso, last.row == row { return last.id }
        if let id = dsoIDs[row] {
            lastDso = (row, id)
            return id
        }
        try insertDso.run([.text(row.path), SQLiteValue(row.buildID), .text(row.kind), .text(row.symbolSource),
                           SQLiteValue(row.fileSource), SQLiteValue(row.debugSource)])
        let id = db.lastInsertRowID
        dsoIDs[row] = id
        lastDso = (row, id)
        return id
    }

    /// The id of a `symbols` row of `dso`, inserted the first time it is asked for.
    public func symbolID(dso: Int64, _ row: SymbolRow) throws -> Int64 {
        let key = SymbolKey(dsoID: dso, address: row.address, rawName: row.rawName)
        if let last = lastSymbol, last.key == key { return last.id }
        if let id = symbolIDs[key] {
            lastSymbol = (key, id)
            return id
        }
        try insertSymbol.run([.integer(dso), .text(row.name), .text(row.rawName),
                              .integer(Int64(bitPattern: row.address)),
                              row.size.map { .integer(Int64(bitPattern: $0)) } ?? .null])
        let id = db.lastInsertRowID
        symbolIDs[key] = id
        lastSymbol = (key, id)
        return id
    }

    /// Inserts the name of `pc` in `pid` for the times [`valid.from`, `valid.to`); returns its id.
    @discardableResult
    public func insertAddress(_ row: AddressRow, pid: Int32, pc: UInt64, valid: (from: Int64, to: Int64)) throws
        -> Int64 {
        // Bound one by one: an array of values a row cost an allocation and a copy of each string.
        func bind(_ index: Int32, _ value: Int64?) {
            if let value { insertAddress.bind(index, value) } else { insertAddress.bindNull(index) }
        }
        insertAddress.bind(1, Int64(pid))
        insertAddress.bind(2, Int64(bitPattern: pc))
        insertAddress.bind(3, valid.from)
        insertAddress.bind(4, valid.to)
        bind(5, row.dsoID)
        bind(6, row.dsoOffset.map { Int64(bitPattern: $0) })
        bind(7, row.symbolID)
        bind(8, row.symbolOffset.map { Int64(bitPattern: $0) })
        insertAddress.bind(9, .text(row.name))
        insertAddress.bind(10, SQLiteValue(row.file))
        bind(11, row.line)
        insertAddress.bind(12, SQLiteValue(row.inlined))
        try insertAddress.runBound()
        return db.lastInsertRowID
    }

    /// Points every sample count at the address row that holds for the whole run (rows of time-dependent
    /// addresses come later, from `insertSymbolCount`).
    public func writeSymbolCounts() throws {
        // CROSS JOIN fixes the order: each row of sample_counts looks its address up by the unique
        // (pid, pc, valid_from) index. Left to the planner, it scanned addresses and searched sample_counts by pid
        // alone, each address reading all of its process's rows (59 s instead of 0.03 s at 18k addresses).
        try db.execute("""
            INSERT INTO symbol_counts (pid, tid, cpu, event, mode, stack_id, address_id, samples, period)
            SELECT c.pid, c.tid, c.cpu, c.event, c.mode, c.stack_id, a.id, c.samples, c.period
            FROM sample_counts c CROSS JOIN addresses a
              ON a.pid = c.pid AND a.pc = c.pc AND a.valid_from = \(Self.unbounded.from)
            """)
    }

    /// One `symbol_counts` row for samples of a time-dependent address.
    public func insertSymbolCount(_ sample: SampleRow, addressID: Int64, samples: Int64, period: Int64) throws {
        let insert = try insertCount ?? db.prepare("""
            INSERT INTO symbol_counts (pid, tid, cpu, event, mode, stack_id, address_id, samples, period)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insertCount = insert
        try insert.run([.integer(Int64(sample.pid)), .integer(sample.tid), .integer(sample.cpu),
                        .integer(sample.event), .integer(sample.mode), .integer(sample.stackID), .integer(addressID),
                        .integer(samples), .integer(period)])
    }

    /// Drops the scratch tables.
    public func finish() throws {
        earlierLookup = nil
        try db.execute("""
            DROP TABLE IF EXISTS temp.earlier_names; DROP TABLE IF EXISTS temp.finish_queue;
            DROP TABLE IF EXISTS temp.finish_leaves; DROP TABLE IF EXISTS temp.finish_pairs;
            """)
    }
}

/// A `dsos` row.
public struct DsoRow: Hashable {
    public var path: String
    public var buildID: String?
    public var kind: String
    public var symbolSource: String
    public var fileSource: String?
    public var debugSource: String?

    public init(path: String, buildID: String?, kind: String, symbolSource: String, fileSource: String? = nil,
                debugSource: String? = nil) {
        self.fileSource = fileSource
        self.debugSource = debugSource
        self.path = path
        self.buildID = buildID
        self.kind = kind
        self.symbolSource = symbolSource
    }
}

/// A `symbols` row, without its file.
public struct SymbolRow {
    public var rawName: String
    public var name: String
    public var address: UInt64
    public var size: UInt64?

    public init(rawName: String, name: String, address: UInt64, size: UInt64?) {
        self.rawName = rawName
        self.name = name
        self.address = address
        self.size = size
    }
}

/// What an `addresses` row says about its address.
public struct AddressRow {
    public var dsoID: Int64?
    public var dsoOffset: UInt64?
    public var symbolID: Int64?
    public var symbolOffset: UInt64?
    public var name: String
    public var file: String?
    public var line: Int64?
    public var inlined: String?

    public init(dsoID: Int64? = nil, dsoOffset: UInt64? = nil, symbolID: Int64? = nil, symbolOffset: UInt64? = nil,
                name: String, file: String? = nil, line: Int64? = nil, inlined: String? = nil) {
        self.dsoID = dsoID
        self.dsoOffset = dsoOffset
        self.symbolID = symbolID
        self.symbolOffset = symbolOffset
        self.name = name
        self.file = file
        self.line = line
        self.inlined = inlined
    }
}

/// One row of `samples`, for resolving addresses by time.
public struct SampleRow {
    public var pid: Int32
    public var tid: Int64
    public var cpu: Int64
    public var event: Int64
    public var mode: Int64
    public var stackID: Int64
    public var pc: UInt64
    public var time: Int64
    public var period: Int64
}
