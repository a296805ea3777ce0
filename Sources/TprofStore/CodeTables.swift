import TprofCapture

/// The annotation tables of a recording (`code`, `code_lines`, `source_lines`, `annotation_limits`, schema step
/// `annotate`): the sampled functions go out as plain values, their code and source text come back as rows. Rows
/// already there are kept, never replaced: `tprof-report --resymbolize` only adds what is missing.
public final class CodeTables {
    private let db: SQLiteDatabase
    private let insertCode: SQLiteStatement
    private let insertLine: SQLiteStatement
    private let insertSource: SQLiteStatement
    private let findCode: SQLiteStatement

    /// A sampled function, with the source lines its samples fell on.
    public struct SampledFunction {
        public var path: String
        public var buildID: String?
        /// `dsos.kind`: `kernel` and `module` code is the running kernel's.
        public var kind: String
        public var address: UInt64
        public var size: UInt64?
        public var samples: Int64
        public var sampledLines: [(file: String, line: Int)] = []
    }

    public init(database: SQLiteDatabase) throws {
        db = database
        insertCode = try db.prepare("INSERT INTO code (path, build_id, address, size, bytes, note) VALUES (?, ?, ?, ?, ?, ?)")
        insertLine = try db.prepare("INSERT OR IGNORE INTO code_lines (code_id, offset, file, line) VALUES (?, ?, ?, ?)")
        insertSource = try db.prepare("INSERT OR IGNORE INTO source_lines (file, line, text) VALUES (?, ?, ?)")
        findCode = try db.prepare(
            "SELECT 1 FROM code WHERE path = ? AND coalesce(build_id, '') = coalesce(?, '') AND address = ?")
    }

    /// Every function samples fell in (self samples, not stack frames), hottest first.
    public func sampledFunctions() throws -> [SampledFunction] {
        // The functions an off-CPU interval's stack passes through are where its thread blocked (`--annotate
        // --off-cpu`), though its own address is always the scheduler's.
        let rows = try db.prepare("""
            WITH RECURSIVE reach (pid, id, samples) AS (
                SELECT c.pid, c.stack_id, sum(c.samples) FROM sample_counts c JOIN events e ON e.id = c.event
                WHERE e.base_name = ? AND c.stack_id != 0 GROUP BY c.pid, c.stack_id
                UNION ALL
                SELECT r.pid, s.parent_id, r.samples FROM reach r JOIN stacks s ON s.id = r.id WHERE s.parent_id != 0)
            SELECT d.path, d.build_id, d.kind, s.address, s.size, a.file, a.line, sum(c.samples)
            FROM symbol_counts c JOIN addresses a ON a.id = c.address_id JOIN symbols s ON s.id = a.symbol_id
            JOIN dsos d ON d.id = s.dso_id
            GROUP BY d.path, d.build_id, s.address, a.file, a.line
            UNION ALL
            SELECT d.path, d.build_id, d.kind, sy.address, sy.size, a.file, a.line, sum(r.samples)
            FROM reach r JOIN stacks s ON s.id = r.id
            JOIN addresses a ON a.pid = r.pid AND a.valid_from = -9223372036854775808 AND a.pc = s.named_pc
            JOIN symbols sy ON sy.id = a.symbol_id JOIN dsos d ON d.id = sy.dso_id
            GROUP BY d.path, d.build_id, sy.address, a.file, a.line
            """)
        rows.bind(1, .text(SchedTracepoints.offCPUName))
        var functions: [String: SampledFunction] = [:]
        while try rows.step() {
            let path = rows.text(0) ?? ""
            let address = UInt64(bitPattern: rows.int64(3))
            let key = "\(path)\u{0}\(rows.text(1) ?? "")\u{0}\(address)"
            var function = functions[key] ?? SampledFunction(
                path: path, buildID: rows.text(1), kind: rows.text(2) ?? "unknown", address: address,
                size: rows.isNull(4) ? nil : UInt64(bitPattern: rows.int64(4)), samples: 0)
            function.samples += rows.int64(7)
            if let file = rows.text(5), !rows.isNull(6) { function.sampledLines.append((file, Int(rows.int64(6)))) }
            functions[key] = function
        }
        return functions.values.sorted { ($0.samples, $1.path, $1.address) > ($1.samples, $0.path, $0.address) }
    }

    /// Whether the function's code is stored already.
    public func hasCode(path: String, buildID: String?, address: UInt64) throws -> Bool {
        try findCode.bind([.text(path), SQLiteValue(buildID), .integer(Int64(bitPattern: address))])
        return try findCode.step()
    }

    /// Stores a function's code (nil bytes with a note saying why they are missing); returns its row id.
    public func insertCode(path: String, buildID: String?, address: UInt64, size: UInt64, bytes: [UInt8]?,
                           note: String?) throws -> Int64 {
        try insertCode.bind([.text(path), SQLiteValue(buildID), .integer(Int64(bitPattern: address)),
                             .integer(Int64(bitPattern: size)), .null, SQLiteValue(note)])
        if let bytes { bytes.withUnsafeBytes { insertCode.bind(5, blob: $0) } }
        try insertCode.runBound()
        return db.lastInsertRowID
    }

    /// A line table row of a stored function.
    public func insertLine(code: Int64, offset: UInt64, file: String, line: Int) throws {
        try insertLine.run([.integer(code), .integer(Int64(bitPattern: offset)), .text(file), .integer(Int64(line))])
    }

    /// A source line's text, unless the line is stored already; returns whether it was added.
    @discardableResult
    public func insertSource(file: String, line: Int, text: String) throws -> Bool {
        try insertSource.run([.text(file), .integer(Int64(line)), .text(text)])
        return db.changes > 0
    }

    /// Bytes of code and source text stored so far.
    public func storedBytes() throws -> Int {
        Int(try db.scalarInt("SELECT coalesce((SELECT sum(length(bytes)) FROM code), 0) "
            + "+ coalesce((SELECT sum(length(CAST(text AS BLOB))) FROM source_lines), 0)") ?? 0)
    }

    /// What the bounds left out, added to what an earlier pass counted.
    public struct Omissions {
        public var functionsCut = 0
        public var functionsLeftOut = 0
        public var codeBytesLeftOut: Int64 = 0
        public var sourceLinesLeftOut = 0
        public init() {}
    }

    /// Writes the bounds and what they left out, adding to an earlier pass's counts.
    public func writeLimits(functionCap: Int, totalCap: Int, _ left: Omissions) throws {
        let earlier = try db.prepare("""
            SELECT functions_cut, functions_left_out, code_bytes_left_out, source_lines_left_out
            FROM annotation_limits LIMIT 1
            """)
        var sums = left
        if try earlier.step() {
            sums.functionsCut &+= Int(earlier.int64(0))
            sums.functionsLeftOut &+= Int(earlier.int64(1))
            sums.codeBytesLeftOut &+= earlier.int64(2)
            sums.sourceLinesLeftOut &+= Int(earlier.int64(3))
        }
        _ = try earlier.step()
        try db.execute("DELETE FROM annotation_limits")
        try db.prepare("INSERT INTO annotation_limits VALUES (?, ?, ?, ?, ?, ?)").run([
            .integer(Int64(functionCap)), .integer(Int64(totalCap)), .integer(Int64(sums.functionsCut)),
            .integer(Int64(sums.functionsLeftOut)), .integer(sums.codeBytesLeftOut),
            .integer(Int64(sums.sourceLinesLeftOut)),
        ])
    }
}
