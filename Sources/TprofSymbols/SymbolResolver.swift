import Foundation
import Glibc
import TprofCapture
import TprofStore

/// Resolves every distinct sampled address of a recording into `dsos`, `symbols`, `addresses` and
/// `symbol_counts`, in-process (no external program), each distinct (file, offset) once.
public final class SymbolResolver {
    private let db: SQLiteDatabase
    /// Read on the first kernel address: a recording without any needs no kallsyms.
    private lazy var kernel = useRunningKernel ? KernelSymbols() : KernelSymbols(path: "/dev/null")
    private let useRunningKernel: Bool
    /// What the file held before this resolution (nothing when the recorder resolves a new file).
    private let earlier: EarlierResolution
    private let files = ImageFiles()
    private var perfMaps: [Int32: PerfMap?] = [:]
    private var dsoIDs: [String: Int64] = [:]
    private var symbolIDs: [String: Int64] = [:]
    /// Resolution of a (dso, link-time address): symbol id, offset, display name, line.
    private var resolved: [String: Resolution] = [:]

    private struct Resolution {
        var dsoID: Int64?
        var dsoOffset: UInt64?
        var symbolID: Int64?
        var symbolOffset: UInt64?
        var name: String
        var file: String?
        var line: Int?
        var inlined: String?
    }

    private let insertDso: SQLiteStatement
    private let insertSymbol: SQLiteStatement
    private let insertAddress: SQLiteStatement

    static let unbounded = (from: Int64.min, to: Int64.max)

    /// - Parameter useRunningKernel: false when the recorded kernel is not the running one: its symbols are not
    ///   read, and kernel names already in the file are kept.
    public init(database: SQLiteDatabase, useRunningKernel: Bool) throws {
        db = database
        self.useRunningKernel = useRunningKernel
        insertDso = try db.prepare("INSERT INTO dsos (path, build_id, kind, symbol_source) VALUES (?, ?, ?, ?)")
        insertSymbol = try db.prepare(
            "INSERT INTO symbols (dso_id, name, raw_name, address, size) VALUES (?, ?, ?, ?, ?)")
        insertAddress = try db.prepare("""
            INSERT INTO addresses (pid, pc, valid_from, valid_to, dso_id, dso_offset, symbol_id, symbol_offset, name,
                file, line, inlined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        earlier = try EarlierResolution(database: database)
    }

    /// Replaces every symbol table of the file with a fresh resolution, in one transaction.
    /// - Parameter progress: told (done, total) every 1000 addresses; an error it throws ends the resolution with
    ///   nothing written (the transaction is rolled back), as when the user stops it.
    public func run(progress: ((Int, Int) throws -> Void)? = nil) throws -> Outcome {
        let began = monotonicNanoseconds()
        var outcome = Outcome()
        try db.execute("BEGIN")
        do {
            try db.execute("""
                DELETE FROM stack_addresses; DELETE FROM symbol_counts; DELETE FROM addresses; DELETE FROM symbols;
                DELETE FROM dsos;
                """)
            let spaces = try AddressSpaces(database: db)
            var pairs: [(pid: Int32, pc: UInt64, kernel: Bool)] = []
            let distinct = try db.prepare("SELECT pid, pc, max(mode IN (1, 4)) FROM sample_counts GROUP BY pid, pc")
            while try distinct.step() {
                pairs.append((Int32(truncatingIfNeeded: distinct.int64(0)), UInt64(bitPattern: distinct.int64(1)),
                              distinct.int64(2) != 0))
            }
            var ambiguous: [Int32: Set<UInt64>] = [:]
            var addressIDs: [AddressKey: Int64] = [:]
            for (index, pair) in pairs.enumerated() {
                if index % 1000 == 0 { try progress?(index, pairs.count) }
                let resolution: Resolution
                if pair.kernel || pair.pc >= 0xffff_8000_0000_0000 {
                    resolution = try resolveKernel(pair.pc)
                } else {
                    let candidates = spaces.candidates(pid: pair.pid, address: pair.pc)
                    if candidates.count > 1 {
                        ambiguous[pair.pid, default: []].insert(pair.pc)
                        continue
                    }
                    resolution = try resolveUser(pid: pair.pid, pc: pair.pc, mapping: candidates.first)
                }
                addressIDs[AddressKey(pid: pair.pid, pc: pair.pc)] =
                    try insert(resolution, pid: pair.pid, pc: pair.pc, valid: Self.unbounded, outcome: &outcome)
            }
            try progress?(pairs.count, pairs.count)
            // CROSS JOIN fixes the order: each row of sample_counts looks its address up by the unique
            // (pid, pc, valid_from) index. Left to the planner, it scanned addresses and searched sample_counts by pid
            // alone, each address reading all of its process's rows (59 s instead of 0.03 s at 18k addresses).
            try db.execute("""
                INSERT INTO symbol_counts (pid, tid, cpu, event, mode, stack_id, address_id, samples, period)
                SELECT c.pid, c.tid, c.cpu, c.event, c.mode, c.stack_id, a.id, c.samples, c.period
                FROM sample_counts c CROSS JOIN addresses a
                  ON a.pid = c.pid AND a.pc = c.pc AND a.valid_from = \(Self.unbounded.from)
                """)
            if !ambiguous.isEmpty {
                try resolveByTime(ambiguous, spaces: spaces, outcome: &outcome)
            }
            try resolveStacks(spaces: spaces, addressIDs: &addressIDs, outcome: &outcome)
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
        outcome.skippedFiles = files.skipped
        outcome.seconds = Double(monotonicNanoseconds() - began) / 1e9
        return outcome
    }

    private struct AddressKey: Hashable {
        var pid: Int32
        var pc: UInt64
    }

    /// Resolves every frame of every sampled stack, per process: return addresses at address - 1, so a call
    /// at the very end of a function is not credited to the next one.
    private func resolveStacks(spaces: AddressSpaces, addressIDs: inout [AddressKey: Int64],
                               outcome: inout Outcome) throws {
        var nodes: [Int64: (parent: Int64, address: UInt64, kernel: Bool, isReturn: Bool)] = [:]
        let tree = try db.prepare("SELECT id, parent_id, address, kernel, return_address FROM stacks")
        while try tree.step() {
            nodes[tree.int64(0)] = (tree.int64(1), UInt64(bitPattern: tree.int64(2)), tree.int64(3) != 0,
                                    tree.int64(4) != 0)
        }
        guard !nodes.isEmpty else { return }
        let leaves = try db.prepare("SELECT DISTINCT pid, stack_id FROM sample_counts WHERE stack_id != 0")
        let insertFrame = try db.prepare("INSERT INTO stack_addresses (pid, stack_id, address_id) VALUES (?, ?, ?)")
        var done = Set<AddressKey>()
        while try leaves.step() {
            let pid = Int32(truncatingIfNeeded: leaves.int64(0))
            var node = leaves.int64(1)
            var depth = 0
            while node != 0, depth < 4096, let frame = nodes[node] {
                let nodeKey = AddressKey(pid: pid, pc: UInt64(bitPattern: node))
                if done.contains(nodeKey) { break }
                done.insert(nodeKey)
                let lookup = frame.isReturn ? frame.address &- 1 : frame.address
                let key = AddressKey(pid: pid, pc: lookup)
                let id: Int64
                if let existing = addressIDs[key] {
                    id = existing
                } else {
                    let resolution: Resolution
                    if frame.address == 0 {
                        resolution = Resolution(name: "[truncated]")
                    } else if frame.kernel || lookup >= 0xffff_8000_0000_0000 {
                        resolution = try resolveKernel(lookup)
                    } else {
                        // A frame has no time of its own here: an address that only one mapping ever covered is
                        // resolved in it (a frame from before an exec too), any other in the mapping at the end of
                        // the run.
                        let candidates = spaces.candidates(pid: pid, address: lookup)
                        let mapping = candidates.count == 1
                            ? candidates[0] : spaces.mapping(pid: pid, address: lookup, time: Int64.max)
                        resolution = try resolveUser(pid: pid, pc: lookup, mapping: mapping)
                    }
                    id = try insert(resolution, pid: pid, pc: lookup, valid: Self.unbounded, outcome: &outcome)
                    addressIDs[key] = id
                }
                try insertFrame.run([.integer(Int64(pid)), .integer(node), .integer(id)])
                node = frame.parent
                depth += 1
            }
        }
    }

    /// Addresses whose mapping changed during the run: each sample resolved against the mapping of its time.
    private func resolveByTime(_ ambiguous: [Int32: Set<UInt64>], spaces: AddressSpaces,
                               outcome: inout Outcome) throws {
        struct Key: Hashable { var pid: Int32; var tid: Int64; var cpu: Int64; var event: Int64; var mode: Int64
                               var stack: Int64; var pc: UInt64; var mapping: Int }
        struct SpanKey: Hashable { var pid: Int32; var pc: UInt64; var mapping: Int }
        struct PairKey: Hashable { var pid: Int32; var pc: UInt64 }
        /// Per address: its candidate mappings, the times its mapping can change, and the mapping found for each
        /// interval between them, so each of possibly millions of samples costs a binary search.
        final class Pair {
            let candidates: [MappingRecord]
            let changes: [Int64]
            var mappingOfInterval: [Int: Int] = [:]
            init(candidates: [MappingRecord], changes: [Int64]) {
                self.candidates = candidates
                self.changes = changes
            }
        }
        var pairs: [PairKey: Pair] = [:]
        var counts: [Key: (samples: Int64, period: Int64)] = [:]
        var spans: [SpanKey: (from: Int64, to: Int64, mapping: MappingRecord?)] = [:]
        let pids = ambiguous.keys.map { String($0) }.joined(separator: ",")
        let scan = try db.prepare("""
            SELECT pid, tid, cpu, event, mode, coalesce(stack_id, 0), pc, time, period FROM samples
            WHERE pid IN (\(pids))
            """)
        while try scan.step() {
            let pid = Int32(truncatingIfNeeded: scan.int64(0))
            let pc = UInt64(bitPattern: scan.int64(6))
            guard ambiguous[pid]?.contains(pc) == true else { continue }
            let time = scan.int64(7)
            let pairKey = PairKey(pid: pid, pc: pc)
            let pair = pairs[pairKey] ?? Pair(candidates: spaces.candidates(pid: pid, address: pc),
                                              changes: spaces.changeTimes(pid: pid, address: pc))
            pairs[pairKey] = pair
            var low = 0
            var high = pair.changes.count
            while low < high {
                let middle = (low + high) / 2
                if pair.changes[middle] <= time { low = middle + 1 } else { high = middle }
            }
            let index: Int
            if let known = pair.mappingOfInterval[low] {
                index = known
            } else {
                let mapping = spaces.mapping(pid: pid, address: pc, time: time)
                index = mapping.flatMap { m in pair.candidates.firstIndex { $0.sameMapping(as: m) } } ?? -1
                pair.mappingOfInterval[low] = index
            }
            let spanKey = SpanKey(pid: pid, pc: pc, mapping: index)
            let after = max(time, time &+ 1) // a time of Int64.max (a damaged file) ends its span there
            var span = spans[spanKey] ?? (time, after, index >= 0 ? pair.candidates[index] : nil)
            span.from = min(span.from, time)
            span.to = max(span.to, after)
            spans[spanKey] = span
            let key = Key(pid: pid, tid: scan.int64(1), cpu: scan.int64(2), event: scan.int64(3), mode: scan.int64(4),
                          stack: scan.int64(5), pc: pc, mapping: index)
            counts[key, default: (0, 0)].samples += 1
            counts[key, default: (0, 0)].period &+= scan.int64(8)
        }
        var addressIDs: [SpanKey: Int64] = [:]
        for (key, span) in spans {
            let resolution = try resolveUser(pid: key.pid, pc: key.pc, mapping: span.mapping)
            addressIDs[key] = try insert(resolution, pid: key.pid, pc: key.pc, valid: (span.from, span.to),
                                         outcome: &outcome)
            outcome.timeDependent += 1
        }
        let insertCount = try db.prepare("""
            INSERT INTO symbol_counts (pid, tid, cpu, event, mode, stack_id, address_id, samples, period)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (key, sums) in counts {
            guard let id = addressIDs[SpanKey(pid: key.pid, pc: key.pc, mapping: key.mapping)] else { continue }
            try insertCount.run([.integer(Int64(key.pid)), .integer(key.tid), .integer(key.cpu), .integer(key.event),
                                 .integer(key.mode), .integer(key.stack), .integer(id), .integer(sums.samples),
                                 .integer(sums.period)])
        }
    }

    @discardableResult
    private func insert(_ resolution: Resolution, pid: Int32, pc: UInt64, valid: (from: Int64, to: Int64),
                        outcome: inout Outcome) throws -> Int64 {
        var r = resolution
        if r.symbolID == nil, let name = earlier.name(pid: pid, pc: pc, validFrom: valid.from) {
            r = try self.resolution(keeping: name)
            outcome.kept += 1
        }
        try insertAddress.run([
            .integer(Int64(pid)), .integer(Int64(bitPattern: pc)), .integer(valid.from), .integer(valid.to),
            r.dsoID.map { .integer($0) } ?? .null, r.dsoOffset.map { .integer(Int64(bitPattern: $0)) } ?? .null,
            r.symbolID.map { .integer($0) } ?? .null, r.symbolOffset.map { .integer(Int64(bitPattern: $0)) } ?? .null,
            .text(r.name), SQLiteValue(r.file), SQLiteValue(r.line), SQLiteValue(r.inlined),
        ])
        outcome.addresses += 1
        if r.symbolID != nil { outcome.withSymbol += 1 } else if r.dsoID != nil { outcome.libraryOnly += 1 } else {
            outcome.unknown += 1
        }
        return try db.scalarInt("SELECT last_insert_rowid()") ?? 0
    }

    /// An earlier resolution's name, written again (its file and symbol rows too).
    private func resolution(keeping name: EarlierResolution.Name) throws -> Resolution {
        let dso = try dsoID(path: name.dsoPath, buildID: name.buildID, kind: name.kind, source: name.source)
        let symbol = try symbolID(dso: dso, raw: name.rawSymbol, address: UInt64(bitPattern: name.symbolAddress),
                                  size: name.symbolSize.map { UInt64(bitPattern: $0) })
        return Resolution(dsoID: dso, dsoOffset: name.dsoOffset.map { UInt64(bitPattern: $0) }, symbolID: symbol,
                          symbolOffset: name.symbolOffset.map { UInt64(bitPattern: $0) }, name: name.name,
                          file: name.file, line: name.line.map { Int($0) }, inlined: name.inlined)
    }

    // MARK: Kernel

    private func resolveKernel(_ pc: UInt64) throws -> Resolution {
        if let entry = kernel.lookup(pc) {
            let dsoPath = entry.module.map { "[\($0)]" } ?? "[kernel.kallsyms]"
            let dso = try dsoID(path: dsoPath, buildID: nil, kind: entry.module == nil ? "kernel" : "module",
                                source: .kallsyms)
            let symbol = try symbolID(dso: dso, raw: entry.name, address: entry.address, size: nil)
            return Resolution(dsoID: dso, dsoOffset: pc, symbolID: symbol, symbolOffset: pc - entry.address,
                              name: entry.name)
        }
        let dso = try dsoID(path: "[kernel.kallsyms]", buildID: nil, kind: "kernel", source: .none)
        return Resolution(dsoID: dso, dsoOffset: pc, name: "[kernel] 0x" + String(pc, radix: 16))
    }

    // MARK: User space

    private func resolveUser(pid: Int32, pc: UInt64, mapping: MappingRecord?) throws -> Resolution {
        guard let mapping else {
            if let jit = try resolveJIT(pid: pid, pc: pc) { return jit }
            return Resolution(name: "[unknown] 0x" + String(pc, radix: 16))
        }
        var path = mapping.filename
        if path.hasSuffix(" (deleted)") { path = String(path.dropLast(" (deleted)".count)) }
        let offset = pc &- mapping.start &+ mapping.pageOffset
        if path == "[vdso]" {
            return try resolve(in: files.vdso(), path: path, buildID: nil, kind: "vdso", offset: offset)
        }
        // Anonymous memory: the kernel (and the /proc snapshot) name it "//anon"; MAP_HUGETLB memory "/anon_hugepage".
        if !path.hasPrefix("/") || path.hasPrefix("//") || path.hasPrefix("/anon_hugepage") || path.hasPrefix("/memfd:")
            || path.hasPrefix("/dev/") {
            if let jit = try resolveJIT(pid: pid, pc: pc) { return jit }
            let dso = try dsoID(path: path.isEmpty ? "//anon" : path, buildID: nil, kind: "anonymous", source: .none)
            return Resolution(dsoID: dso, dsoOffset: offset, name: "[unknown] 0x" + String(pc, radix: 16))
        }
        let expected = mapping.buildID ?? earlier.buildIDs[path]
        let image = files.verified(path, buildID: expected)
        let kind = path.contains(".so") ? "library" : "executable"
        return try resolve(in: image, path: path, buildID: expected ?? image?.buildID, kind: kind, offset: offset)
    }

    private func resolve(in image: ElfImage?, path: String, buildID: String?, kind: String,
                         offset: UInt64) throws -> Resolution {
        let dso = try dsoID(path: path, buildID: buildID, kind: kind, source: image?.symbolSource ?? .none)
        let basename = (path as NSString).lastPathComponent
        let fallback = "\(basename)+0x\(String(offset, radix: 16))"
        guard let image, let address = image.fileAddress(forOffset: offset) else {
            return Resolution(dsoID: dso, dsoOffset: offset, name: fallback)
        }
        let cacheKey = "\(dso):\(address)"
        if let cached = resolved[cacheKey] { return cached }
        var result = Resolution(dsoID: dso, dsoOffset: address, name: fallback)
        if let symbol = image.symbol(at: address) {
            result.symbolID = try symbolID(dso: dso, raw: symbol.name, address: symbol.address, size: symbol.size)
            result.symbolOffset = address - symbol.address
            result.name = Demangler.demangle(symbol.name)
        }
        if let location = image.sourceLocation(at: address) {
            result.file = location.file
            result.line = location.line
            if !location.inlined.isEmpty { result.inlined = location.inlined.joined(separator: " <- ") }
        }
        resolved[cacheKey] = result
        return result
    }

    private func resolveJIT(pid: Int32, pc: UInt64) throws -> Resolution? {
        if perfMaps[pid] == nil { perfMaps[pid] = PerfMap(pid: pid) }
        guard let map = perfMaps[pid] ?? nil, let entry = map.lookup(pc) else { return nil }
        let dso = try dsoID(path: "/tmp/perf-\(pid).map", buildID: nil, kind: "jit", source: .perfMap)
        let symbol = try symbolID(dso: dso, raw: entry.name, address: entry.start, size: entry.size)
        return Resolution(dsoID: dso, dsoOffset: pc, symbolID: symbol, symbolOffset: pc - entry.start,
                          name: Demangler.demangle(entry.name))
    }

    // MARK: Rows

    private func dsoID(path: String, buildID: String?, kind: String, source: SymbolSource) throws -> Int64 {
        let key = path + "\u{0}" + (buildID ?? "")
        if let id = dsoIDs[key] { return id }
        try insertDso.run([.text(path), SQLiteValue(buildID), .text(kind), .text(source.rawValue)])
        let id = try db.scalarInt("SELECT last_insert_rowid()") ?? 0
        dsoIDs[key] = id
        return id
    }

    private func symbolID(dso: Int64, raw: String, address: UInt64, size: UInt64?) throws -> Int64 {
        let key = "\(dso):\(address):\(raw)"
        if let id = symbolIDs[key] { return id }
        try insertSymbol.run([.integer(dso), .text(Demangler.demangle(raw)), .text(raw),
                              .integer(Int64(bitPattern: address)), size.map { .integer(Int64(bitPattern: $0)) } ?? .null])
        let id = try db.scalarInt("SELECT last_insert_rowid()") ?? 0
        symbolIDs[key] = id
        return id
    }
}
