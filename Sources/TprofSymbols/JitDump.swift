import TprofCapture

/// A JIT's `jit-PID.dump` (perf's jitdump format: a header, then records of code loaded, moved and its line
/// tables), written by Node.js `--perf-prof`, Java agents, .NET and LuaJIT, which mark it by mapping it: read at
/// finishing, without `perf inject`.
///
/// Read with bounds on every field: the file is the JIT's, it may be cut short by a process still writing it, and
/// anyone may write where it lies.
struct JitDump {
    /// A function the JIT emitted: its code's address and size, its name, and where its bytes lie in the file.
    struct Code {
        var start: UInt64
        var size: UInt64
        var name: String
        /// Offset of the code bytes in the file; nil when the record carries none.
        var bytesOffset: Int?
        /// Order of loading: where two functions' code overlaps, the one loaded later holds the address.
        var order: Int
    }

    /// One row of a function's line table: code from `address` on comes from `file`:`line`.
    struct LineEntry {
        var address: UInt64
        var line: Int
        var file: String
    }

    /// Largest dump read, as for perf maps.
    static let maximumBytes = 256 << 20
    static let magic: UInt32 = 0x4A69_5444
    private static let recordPrefixSize = 16

    private enum RecordKind: UInt32 {
        case codeLoad = 0, codeMove = 1, debugInfo = 2, close = 3
    }

    let path: String
    /// By start address.
    private(set) var code: [Code] = []
    /// The largest end among `code[0...i]`, so a lookup stops where no earlier code reaches the address.
    private var maxEnds: [UInt64] = []
    /// Line tables by the code address they describe (a table precedes its code's load record).
    private var lineTables: [UInt64: [LineEntry]] = [:]
    private let bytes: [UInt8]

    init?(path: String) {
        guard let bytes = readRegularFileBytes(path, limit: Self.maximumBytes), bytes.count >= 40,
              Self.u32(bytes, 0) == Self.magic else { return nil }
        self.path = path
        self.bytes = bytes
        // The header says its own size: a later version may add fields.
        var offset = max(40, Int(Self.u32(bytes, 8)))
        var loaded: [Code] = []
        while offset <= bytes.count - Self.recordPrefixSize {
            let size = Int(Self.u32(bytes, offset + 4))
            // A record cut short is one the JIT was still writing: the ones before it stand.
            guard size >= Self.recordPrefixSize, size <= bytes.count - offset else { break }
            let record = offset..<(offset + size)
            switch RecordKind(rawValue: Self.u32(bytes, offset)) {
            case .codeLoad: if let code = Self.codeLoad(bytes, record, order: loaded.count) { loaded.append(code) }
            case .codeMove: if let moved = Self.codeMove(bytes, record, in: loaded) { loaded.append(moved) }
            case .debugInfo: if let (address, table) = Self.lineTable(bytes, record) { lineTables[address] = table }
            case .close: offset = bytes.count
            case nil: break
            }
            offset += size
        }
        code = loaded.sorted { ($0.start, $0.order) < ($1.start, $1.order) }
        maxEnds.reserveCapacity(code.count)
        for entry in code {
            let end = entry.start.addingReportingOverflow(entry.size)
            maxEnds.append(max(maxEnds.last ?? 0, end.overflow ? UInt64.max : end.partialValue))
        }
    }

    /// The function whose code holds `address`: of overlapping ones, the one loaded last.
    func lookup(_ address: UInt64) -> Code? {
        guard var index = code.lastIndex(atOrBelow: address, key: \.start) else { return nil }
        var found: Code?
        while index >= 0 && maxEnds[index] > address {
            let candidate = code[index]
            if address - candidate.start < candidate.size && candidate.order > (found?.order ?? -1) {
                found = candidate
            }
            index -= 1
        }
        return found
    }

    /// The source file and line of `address` in `code`, from its line table.
    func sourceLocation(of address: UInt64, in code: Code) -> (file: String, line: Int)? {
        guard let table = lineTables[code.start],
              let index = table.lastIndex(atOrBelow: address, key: \.address) else { return nil }
        return (table[index].file, table[index].line)
    }

    /// The machine code of `code`, when the dump holds it (for annotating).
    func bytes(of code: Code) -> ArraySlice<UInt8>? {
        guard let offset = code.bytesOffset else { return nil }
        return bytes[offset..<(offset + Int(code.size))]
    }

    // MARK: Records

    /// JIT_CODE_LOAD: pid, tid, vma, code address, code size, code index, the name (NUL-terminated), the code.
    private static func codeLoad(_ bytes: [UInt8], _ record: Range<Int>, order: Int) -> Code? {
        let nameStart = record.lowerBound + 56
        guard nameStart < record.upperBound,
              let nameEnd = bytes[nameStart..<record.upperBound].firstIndex(of: 0) else { return nil }
        let start = u64(bytes, record.lowerBound + 32)
        let size = u64(bytes, record.lowerBound + 40)
        let codeStart = nameEnd + 1
        let hasBytes = size <= UInt64(record.upperBound - codeStart)
        return Code(start: start, size: size, name: String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self),
                    bytesOffset: hasBytes && size > 0 ? codeStart : nil, order: order)
    }

    /// JIT_CODE_MOVE: pid, tid, vma, old address, new address, size, code index; the function keeps its name.
    private static func codeMove(_ bytes: [UInt8], _ record: Range<Int>, in loaded: [Code]) -> Code? {
        guard record.count >= 64 else { return nil }
        let old = u64(bytes, record.lowerBound + 32)
        guard var moved = loaded.last(where: { $0.start == old }) else { return nil }
        moved.start = u64(bytes, record.lowerBound + 40)
        // The bytes in the file, those of the load record, are the code that moved.
        if u64(bytes, record.lowerBound + 48) != moved.size { moved.bytesOffset = nil }
        moved.size = u64(bytes, record.lowerBound + 48)
        moved.order = loaded.count
        return moved
    }

    /// JIT_CODE_DEBUG_INFO: the code address, the entry count, then entries of address, line, discriminator and
    /// file name (NUL-terminated; "\u{ff}" alone repeats the previous entry's); nil for a table with a damaged name.
    private static func lineTable(_ bytes: [UInt8], _ record: Range<Int>) -> (UInt64, [LineEntry])? {
        guard record.count >= 32 else { return nil }
        let address = u64(bytes, record.lowerBound + 16)
        let count = u64(bytes, record.lowerBound + 24)
        var entries: [LineEntry] = []
        var offset = record.lowerBound + 32
        var previousFile = ""
        while UInt64(entries.count) < count, offset + 16 < record.upperBound,
              let nameEnd = bytes[(offset + 16)..<record.upperBound].firstIndex(of: 0) {
            let name = bytes[(offset + 16)..<nameEnd]
            // Node 20's V8 writes some tables whose names are freed memory (in every run of 12 here: 'RC\u{3}',
            // '\u{7f}', ' \u{95}\u{1}', ''): a name that is empty, not UTF-8 or holds a control character makes
            // the whole table suspect, and no lines beat wrong ones.
            guard let file = name.elementsEqual([0xff]) ? previousFile : String(validating: name, as: UTF8.self),
                  !file.isEmpty, !name.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { return nil }
            entries.append(LineEntry(address: u64(bytes, offset), line: Int(Int32(bitPattern: u32(bytes, offset + 8))),
                                     file: file))
            previousFile = file
            offset = nameEnd + 1
        }
        entries.sort { $0.address < $1.address }
        return (address, entries)
    }

    private static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    private static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}
