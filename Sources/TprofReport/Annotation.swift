import TprofDatabase

/// `tprof-report --annotate`: where inside one function the samples fell, per instruction and per source line,
/// from the code and source text the recording kept (schema step `annotate`), not from the files as they are now.
public struct Annotation {
    /// A function the pattern matched, with its self samples under the report's filters.
    public struct Function: Equatable {
        public var name: String
        public var dso: String
        public var buildID: String?
        public var kernel: Bool
        /// Its start: the link-time address in its file, the kernel address for the kernel.
        public var address: UInt64
        public var samples: Int64
    }

    /// One instruction (or, without the code, one sampled address).
    public struct Row: Equatable {
        public var address: UInt64
        public var offset: Int
        public var samples: Int64
        public var percent: Double
        /// The instruction; nil when the code was not kept.
        public var text: String?
        public var branchTarget: UInt64?
        public var file: String?
        public var line: Int?
    }

    /// One source line with the samples of the instructions built from it.
    public struct SourceRow: Equatable {
        public var file: String
        public var line: Int
        public var samples: Int64
        public var percent: Double
        /// The line as it was when recording ended; nil when it was not kept.
        public var text: String?
    }

    public var function: Function
    /// The other functions the pattern matched, hottest first.
    public var otherMatches: [Function]
    public var rows: [Row]
    /// Why the instructions are not shown (the rows are the sampled addresses only), when they are not.
    public var codeUnavailable: String?
    /// A remark on the code kept, such as where it was cut.
    public var codeNote: String?
    /// Source text kept, per file and line.
    public var sourceText: [String: [Int: String]]
    /// What the `samples` of the function and its rows add up: samples, or nanoseconds (`--off-cpu`, `--wall`).
    public var weight: SampleWeight = .samples

    /// The function's end, when its size is known.
    public var end: UInt64?

    /// Source lines shown around the function's own: the recorder keeps as many around each sampled line.
    static let contextLines = 3

    /// The hottest function matching `pattern` (a POSIX extended regular expression over the symbol's name) among
    /// the samples `filter` selects, annotated; nil when none matches.
    public static func load(database: ReportDatabase, pattern: String, filter: SampleFilter) throws -> Annotation? {
        let matches = try self.matches(database, pattern: pattern, filter: filter)
        guard let chosen = matches.first else { return nil }
        let (hits, hitBindings) = hitsQuery(filter, pattern: pattern)
        let keyBindings: [SQLiteValue] = [.text(chosen.dso), SQLiteValue(chosen.buildID),
                                          .integer(Int64(bitPattern: chosen.address))]
        let sampled = try database.query("""
            \(hits)
            SELECT a.symbol_offset, a.file, a.line, sum(h.samples) FROM hits h JOIN addresses a ON a.id = h.address_id
            JOIN symbols s ON s.id = a.symbol_id JOIN dsos d ON d.id = s.dso_id
            WHERE d.path = ? AND coalesce(d.build_id, '') = coalesce(?, '') AND s.address = ?
            GROUP BY a.symbol_offset ORDER BY a.symbol_offset
            """, hitBindings + keyBindings)
        let samplesAt = sampled.rows.map { row in
            (offset: Int(row[0].integer ?? 0), file: row[1].textValue, line: row[2].integer.map { Int($0) },
             samples: row[3].integer ?? 0)
        }
        var annotation = Annotation(function: chosen, otherMatches: Array(matches.dropFirst()), rows: [],
                                    sourceText: [:], weight: filter.weight)
        let code = try database.connection.prepare("""
            SELECT id, bytes, size, note FROM code
            WHERE path = ? AND coalesce(build_id, '') = coalesce(?, '') AND address = ?
            """)
        try code.bind(keyBindings)
        var instructions: [Instruction] = []
        var lines: [(offset: Int, file: String, line: Int)] = []
        if try code.step() {
            let id = code.int64(0)
            annotation.end = chosen.address &+ UInt64(bitPattern: code.int64(2))
            if code.isNull(1) {
                annotation.codeUnavailable = code.text(3) ?? "the code was not kept"
            } else {
                annotation.codeNote = code.text(3)
                let bytes = Array(code.blob(1))
                let machine = try database.query("SELECT machine FROM run").rows.first?.first?.text ?? ""
                if let disassembler = Disassembler(machine: machine) {
                    instructions = disassembler.instructions(bytes, at: chosen.address)
                } else {
                    annotation.codeUnavailable = "no disassembler for the recorded machine (\(machine))"
                }
            }
            lines = try database.query("SELECT offset, file, line FROM code_lines WHERE code_id = ? ORDER BY offset",
                                       [.integer(id)]).rows
                .map { (Int($0[0].integer ?? 0), $0[1].text, Int($0[2].integer ?? 0)) }
        } else {
            annotation.codeUnavailable = database.schemaVersion < AnnotationSchema.firstVersion
                ? "the recording was made before tprof kept code (schema \(database.schemaVersion)): run "
                    + "'tprof-report --resymbolize' to keep it from the files as they are now"
                : "the code was not kept (the recording's bounds; see --stat)"
        }
        annotation.rows = Self.rows(instructions: instructions, samplesAt: samplesAt, lines: lines,
                                    total: chosen.samples, start: chosen.address)
        let files = Set(annotation.rows.compactMap(\.file))
        for file in files {
            let text = try database.query("SELECT line, text FROM source_lines WHERE file = ?", [.text(file)])
            annotation.sourceText[file] = Dictionary(text.rows.map { (Int($0[0].integer ?? 0), $0[1].text) },
                                                     uniquingKeysWith: { first, _ in first })
        }
        return annotation
    }

    /// The rows of `--annotate --source`: each source line the function's instructions come from (or its samples
    /// fell on), by file and line, with the lines kept around them.
    public func sourceRows() -> [SourceRow] {
        var samples: [String: [Int: Int64]] = [:]
        for row in rows {
            guard let file = row.file, let line = row.line else { continue }
            samples[file, default: [:]][line, default: 0] += row.samples
        }
        var result: [SourceRow] = []
        for file in samples.keys.sorted() {
            let counted = samples[file] ?? [:]
            let text = sourceText[file] ?? [:]
            let first = counted.keys.min() ?? 0
            let last = counted.keys.max() ?? 0
            // Lines around the function's lines are shown when kept (a loop's header and its braces).
            let shown = Set(counted.keys).union(text.keys.filter {
                $0 >= first &- Self.contextLines && $0 <= last &+ Self.contextLines
            })
            for line in shown.sorted() {
                let count = counted[line] ?? 0
                result.append(SourceRow(file: file, line: line, samples: count,
                                        percent: Self.percent(count, of: function.samples), text: text[line]))
            }
        }
        return result
    }

    /// A function as the reports name it: `name` or `name+0xOFFSET` for an address inside it.
    public func place(of address: UInt64) -> String? {
        guard address >= function.address, address < (end ?? function.address) else { return nil }
        let offset = address - function.address
        return offset == 0 ? function.name : "\(function.name)+0x\(String(offset, radix: 16))"
    }

    private static func percent(_ count: Int64, of total: Int64) -> Double {
        total > 0 ? 100.0 * Double(count) / Double(total) : 0
    }

    /// One row per instruction, each with the samples of the offsets it covers; without instructions, one row per
    /// sampled offset. Samples past the code kept (a function cut at the cap) get rows of their own.
    private static func rows(instructions: [Instruction], samplesAt: [(offset: Int, file: String?, line: Int?,
                                                                     samples: Int64)],
                             lines: [(offset: Int, file: String, line: Int)], total: Int64, start: UInt64) -> [Row] {
        // The line table row at or below an offset, by bisection: a 64 KB function has thousands of each.
        func location(_ offset: Int) -> (file: String?, line: Int?) {
            var low = 0
            var high = lines.count
            while low < high {
                let middle = (low + high) / 2
                if lines[middle].offset <= offset { low = middle + 1 } else { high = middle }
            }
            return low > 0 ? (lines[low - 1].file, lines[low - 1].line) : (nil, nil)
        }
        var rows: [Row] = []
        var next = samplesAt.startIndex
        for instruction in instructions {
            var count: Int64 = 0
            while next < samplesAt.endIndex && samplesAt[next].offset < instruction.offset + instruction.size {
                count += samplesAt[next].samples
                next += 1
            }
            let (file, line) = location(instruction.offset)
            rows.append(Row(address: instruction.address, offset: instruction.offset, samples: count,
                            percent: percent(count, of: total), text: instruction.text,
                            branchTarget: instruction.branchTarget, file: file, line: line))
        }
        for sample in samplesAt[next...] {
            let kept = location(sample.offset)
            rows.append(Row(address: start &+ UInt64(bitPattern: Int64(sample.offset)), offset: sample.offset, samples: sample.samples,
                            percent: percent(sample.samples, of: total), text: nil, branchTarget: nil,
                            file: kept.file ?? sample.file, line: kept.line ?? sample.line))
        }
        return rows
    }

    /// Every function matching `pattern` with its self samples, hottest first.
    private static func matches(_ database: ReportDatabase, pattern: String, filter: SampleFilter) throws
        -> [Function] {
        let (hits, bindings) = hitsQuery(filter, pattern: pattern)
        let table = try database.query("""
            \(hits)
            SELECT s.name, d.path, d.build_id, d.kind, s.address, sum(h.samples) AS samples
            FROM hits h JOIN addresses a ON a.id = h.address_id JOIN symbols s ON s.id = a.symbol_id
            JOIN dsos d ON d.id = s.dso_id
            WHERE s.name REGEXP ?
            GROUP BY d.path, d.build_id, s.address ORDER BY samples DESC, s.name, d.path
            """, bindings + [.text(pattern)])
        return table.rows.map { row in
            Function(name: row[0].text, dso: row[1].text, buildID: row[2].textValue,
                     kernel: row[3].text == "kernel" || row[3].text == "module",
                     address: UInt64(bitPattern: row[4].integer ?? 0), samples: row[5].integer ?? 0)
        }
    }

    /// `WITH hits (address_id, samples)`: the samples `filter` selects, per resolved address, weighed as it says.
    /// Time (`--off-cpu`, `--wall`) is charged where it was spent in each function matching `pattern`: a sample's
    /// innermost frame in that function (the call a thread blocked in, or the instruction itself), since an
    /// off-CPU interval's own address is always the scheduler's. Samples add up at their own address.
    private static func hitsQuery(_ filter: SampleFilter, pattern: String) -> (String, [SQLiteValue]) {
        let (whereSQL, bindings) = filter.whereClause()
        let view = filter.needsSamples ? "sample_symbol_facts" : "symbol_groups"
        guard filter.weight.isTime else {
            return ("WITH hits AS (SELECT address_id, sum(samples) AS samples FROM \(view) \(whereSQL) "
                        + "GROUP BY address_id)", bindings)
        }
        return ("""
            WITH RECURSIVE
            leaves (pid, stack_id, address_id, weight) AS (
                SELECT pid, stack_id, min(address_id), sum(\(filter.periodSQL())) FROM \(view) \(whereSQL)
                GROUP BY pid, stack_id, CASE WHEN stack_id = 0 THEN address_id END),
            walk (pid, leaf, node, step) AS (
                SELECT pid, stack_id, stack_id, 0 FROM leaves WHERE stack_id != 0
                UNION ALL
                SELECT w.pid, w.leaf, s.parent_id, w.step + 1 FROM walk w JOIN stacks s ON s.id = w.node
                WHERE s.parent_id != 0),
            framed (pid, leaf, step, address_id, symbol_id) AS (
                SELECT w.pid, w.leaf, w.step, a.id, a.symbol_id FROM walk w JOIN stacks s ON s.id = w.node
                JOIN addresses a ON a.pid = w.pid AND a.valid_from = -9223372036854775808 AND a.pc = s.named_pc
                JOIN symbols sy ON sy.id = a.symbol_id WHERE sy.name REGEXP ?),
            innermost (pid, leaf, address_id) AS (
                SELECT pid, leaf, address_id FROM (
                    SELECT pid, leaf, address_id, row_number() OVER (PARTITION BY pid, leaf, symbol_id ORDER BY step)
                        AS rank FROM framed)
                WHERE rank = 1),
            hits (address_id, samples) AS (
                SELECT address_id, sum(weight) FROM (
                    SELECT i.address_id, l.weight FROM innermost i
                    JOIN leaves l ON l.pid = i.pid AND l.stack_id = i.leaf
                    UNION ALL
                    SELECT address_id, weight FROM leaves WHERE stack_id = 0)
                GROUP BY address_id)
            """, bindings + [.text(pattern)])
    }
}

/// The schema step that keeps code for annotation.
public enum AnnotationSchema {
    /// The first schema version with the `code` tables.
    public static var firstVersion: Int {
        EmbeddedSchema.migrations.first { $0.file.hasSuffix("-annotate.sql") }?.version ?? Int.max
    }
}

extension SQLiteValue {
    /// The integer, when the value is one.
    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text, nil for NULL.
    var textValue: String? {
        self == .null ? nil : text
    }
}
