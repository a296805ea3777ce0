import TprofStore

/// What an earlier resolution of the file found, read before `--resymbolize` replaces it: the build id recorded for
/// each file, so that only the file that ran is read again, and every name that had a symbol, so that a new pass
/// that finds less (the file deleted, replaced or stripped) never makes a name worse.
struct EarlierResolution {
    struct Key: Hashable {
        var pid: Int64
        var pc: Int64
        var validFrom: Int64
    }

    /// An address that was resolved to a symbol, with everything needed to write it again.
    struct Name {
        var dsoPath: String
        var buildID: String?
        var kind: String
        var source: SymbolSource
        var dsoOffset: Int64?
        var rawSymbol: String
        var symbolAddress: Int64
        var symbolSize: Int64?
        var symbolOffset: Int64?
        var name: String
        var file: String?
        var line: Int64?
        var inlined: String?
    }

    /// Build ids per file path; a path recorded with several (the file changed during the run) is left out.
    private(set) var buildIDs: [String: String] = [:]
    private(set) var names: [Key: Name] = [:]

    /// Reads the earlier resolution; a file that has none yet (its recorder was killed) gives an empty one.
    init(database: SQLiteDatabase) throws {
        var ambiguous = Set<String>()
        let dsos = try database.prepare("SELECT DISTINCT path, build_id FROM dsos WHERE build_id IS NOT NULL")
        while try dsos.step() {
            guard let path = dsos.text(0), let buildID = dsos.text(1) else { continue }
            if let known = buildIDs[path], known != buildID { ambiguous.insert(path) }
            buildIDs[path] = buildID
        }
        for path in ambiguous { buildIDs[path] = nil }
        let resolved = try database.prepare("""
            SELECT a.pid, a.pc, a.valid_from, d.path, d.build_id, d.kind, d.symbol_source, a.dso_offset, s.raw_name,
                   s.address, s.size, a.symbol_offset, a.name, a.file, a.line, a.inlined
            FROM addresses a JOIN symbols s ON s.id = a.symbol_id JOIN dsos d ON d.id = a.dso_id
            """)
        func optional(_ column: Int32) -> Int64? { resolved.isNull(column) ? nil : resolved.int64(column) }
        while try resolved.step() {
            let key = Key(pid: resolved.int64(0), pc: resolved.int64(1), validFrom: resolved.int64(2))
            names[key] = Name(
                dsoPath: resolved.text(3) ?? "", buildID: resolved.text(4), kind: resolved.text(5) ?? "unknown",
                source: resolved.text(6).flatMap(SymbolSource.init(rawValue:)) ?? .none,
                dsoOffset: optional(7), rawSymbol: resolved.text(8) ?? "",
                symbolAddress: resolved.int64(9), symbolSize: optional(10),
                symbolOffset: optional(11), name: resolved.text(12) ?? "", file: resolved.text(13),
                line: optional(14), inlined: resolved.text(15))
        }
    }

    /// The name an address had, if it had a symbol.
    func name(pid: Int32, pc: UInt64, validFrom: Int64) -> Name? {
        names[Key(pid: Int64(pid), pc: Int64(bitPattern: pc), validFrom: validFrom)]
    }
}
