import Foundation
import TprofCapture
import TprofStore
import TprofSymbols

/// Names every distinct sampled address and stack frame of a recording (`dsos`, `symbols`, `addresses`,
/// `symbol_counts`), in-process, in one transaction.
///
/// The addresses are gathered in SQLite's temp schema, then named one file at a time: each ELF image is opened once,
/// and closed with its symbols and DWARF before the next, so memory holds one file's symbols, not every file's.
public final class SymbolResolution {
    private let db: SQLiteDatabase
    private let useRunningKernel: Bool
    private let processRoots: ProcessRootFiles?
    private let debuginfod: DebuginfodClient?

    /// - Parameters:
    ///   - useRunningKernel: false when the recorded kernel is not the running one: its symbols are not read, and
    ///     kernel names already in the file are kept.
    ///   - processRoots: the files the recorder kept of processes under other roots; nil reads the processes the
    ///     file records under other roots, whose files are then only those the host's paths still reach.
    ///   - debuginfod: where missing debug files are fetched from; nil fetches none.
    public init(database: SQLiteDatabase, useRunningKernel: Bool, processRoots: ProcessRootFiles? = nil,
                debuginfod: DebuginfodClient? = nil) {
        db = database
        self.useRunningKernel = useRunningKernel
        self.processRoots = processRoots
        self.debuginfod = debuginfod
    }

    private struct MappingKey: Hashable {
        var start: UInt64
        var end: UInt64
        var pageOffset: UInt64
        var time: Int64
        var filename: String
        var buildID: String?

        init(_ mapping: MappingRecord) {
            start = mapping.start
            end = mapping.end
            pageOffset = mapping.pageOffset
            time = mapping.time
            filename = mapping.filename
            buildID = mapping.buildID
        }
    }

    private struct MappedFileKey: Hashable {
        var mapping: Int32
        var pid: Int32
    }

    /// The frame (address 0) that ends a stack whose unwinding stopped early.
    private static let truncated: Int32 = -2

    /// Replaces every symbol table of the file with a fresh resolution, in one transaction.
    /// - Parameter progress: told (done, total) as addresses are named; an error it throws ends the resolution with
    ///   nothing written (the transaction is rolled back), as when the user stops it.
    public func run(progress: ((Int, Int) throws -> Void)? = nil) throws -> SymbolOutcome {
        let began = monotonicNanoseconds()
        var outcome = SymbolOutcome()
        try db.execute("BEGIN")
        do {
            let tables = try SymbolTables(database: db)
            let roots = try processRoots ?? ProcessRootFiles(recorded: ProcessRootsTable.read(db))
            let symbolizer = Symbolizer(useRunningKernel: useRunningKernel,
                                        recordedBuildIDs: try tables.recordedBuildIDs(), processRoots: roots,
                                        debuginfod: debuginfod)
            try tables.clear()
            let (spaces, jitDumps) = try Self.addressSpaces(db)
            symbolizer.jitDumps = jitDumps
            let total = try tables.gatherSampledAddresses()
            try progress?(0, total)

            // Which file names each address; addresses of a process whose mapping changed during the run are named
            // per sample, by time, afterwards.
            var groupCount: Int32 = 2
            var groupIndex: [String: Int32] = [:]
            var mappings: [MappingRecord] = []
            var mappingIndices: [MappingKey: Int32] = [:]
            var lastMapping: (mapping: MappingRecord, group: Int32, index: Int32)?
            let queue = try ResolutionQueue(database: db)
            var timeDependent: [Int32: Set<UInt64>] = [:]
            var framesOfTimeDependent: [(pid: Int32, pc: UInt64)] = []
            var writer = AddressWriter(tables: tables, symbolizer: symbolizer)
            var done = 0
            try tables.forEachSampledAddress { address in
                let (pid, pc) = (address.pid, address.pc)
                // The root of a partial stack is a frame at address 0 (at 0 - 1 when marked a return address).
                if (pc == 0 || pc == UInt64.max) && !address.sampled {
                    try queue.append(.init(group: 1, place: pc, pid: pid, pc: pc, mapping: Self.truncated))
                    return
                }
                if Symbolizer.isKernel(pc, kernelMode: address.kernel) {
                    try queue.append(.init(group: 0, place: pc, pid: pid, pc: pc, mapping: -1))
                    return
                }
                let candidates = spaces.candidates(pid: pid, address: pc)
                guard !candidates.isEmpty else {
                    // Outside every mapping (often a frame-pointer walk through code built without them): no file
                    // to read, so it is named now rather than queued.
                    try writer.write(symbolizer.resolveUser(pid: pid, pc: pc, mapping: nil), pid: pid, pc: pc,
                                     valid: SymbolTables.unbounded, outcome: &outcome)
                    done += 1
                    return
                }
                var mapping = candidates.first
                if candidates.count > 1 {
                    // A frame has no time of its own here: it is named in the mapping at the end of the run.
                    mapping = spaces.mapping(pid: pid, address: pc, time: Int64.max)
                    if address.sampled {
                        timeDependent[pid, default: []].insert(pc)
                        if address.framed { framesOfTimeDependent.append((pid, pc)) }
                        return
                    }
                }
                var group: Int32 = 1
                var mappingIndex: Int32 = -1
                if let mapping, let last = lastMapping, last.mapping == mapping {
                    // The addresses of a process come in order: mostly in the mapping of the one before.
                    (group, mappingIndex) = (last.group, last.index)
                } else {
                    if let path = Symbolizer.imagePath(of: mapping) {
                        if let known = groupIndex[path] {
                            group = known
                        } else {
                            group = groupCount
                            groupCount += 1
                            groupIndex[path] = group
                        }
                    }
                    if let mapping {
                        // Thousands of addresses share a mapping: each is kept once.
                        let key = MappingKey(mapping)
                        if let known = mappingIndices[key] {
                            mappingIndex = known
                        } else {
                            mappingIndex = Int32(mappings.count)
                            mappings.append(mapping)
                            mappingIndices[key] = mappingIndex
                        }
                        lastMapping = (mapping, group, mappingIndex)
                    }
                }
                // By place in each file: the processes that ran the same code (each with its own load address)
                // come together, and the symbolizer's cache names the place once for all of them.
                let place = mapping.map { pc &- $0.start &+ $0.pageOffset } ?? pc
                try queue.append(.init(group: group, place: place, pid: pid, pc: pc, mapping: mappingIndex))
            }
            groupIndex = [:]
            mappingIndices = [:]

            var currentGroup: Int32 = -1
            var kernelFrame: (pc: UInt64, frame: ResolvedFrame)?
            // The files of the group's mappings, per process: its addresses come by place, each process in turn.
            var mappedFiles: [MappedFileKey: Symbolizer.MappedFile] = [:]
            try queue.drain { item in
                if item.group != currentGroup {
                    mappedFiles.removeAll()
                    symbolizer.releaseImages()
                    currentGroup = item.group
                }
                let frame: ResolvedFrame
                if item.group == 0 {
                    if let last = kernelFrame, last.pc == item.pc {
                        frame = last.frame
                    } else {
                        frame = symbolizer.resolveKernel(item.pc)
                        kernelFrame = (item.pc, frame)
                    }
                } else if item.mapping == Self.truncated {
                    frame = ResolvedFrame(name: "[truncated]")
                } else if item.mapping >= 0 {
                    let key = MappedFileKey(mapping: item.mapping, pid: item.pid)
                    let file = mappedFiles[key] ?? symbolizer.mappedFile(pid: item.pid,
                                                                         mapping: mappings[Int(item.mapping)])
                    mappedFiles[key] = file
                    frame = symbolizer.resolveUser(pid: item.pid, pc: item.pc, in: file)
                } else {
                    frame = symbolizer.resolveUser(pid: item.pid, pc: item.pc, mapping: nil)
                }
                try writer.write(frame, pid: item.pid, pc: item.pc, valid: SymbolTables.unbounded, outcome: &outcome)
                done += 1
                if done % 1000 == 0 { try progress?(done, total) }
            }
            mappedFiles = [:]
            symbolizer.releaseImages()
            mappings = []
            try tables.writeSymbolCounts()
            // Sampled addresses of a changing mapping that are also stack frames get their whole-run row only now,
            // so that writeSymbolCounts did not count their samples in it.
            for (pid, pc) in framesOfTimeDependent {
                let mapping = spaces.mapping(pid: pid, address: pc, time: Int64.max)
                try writer.write(symbolizer.resolveUser(pid: pid, pc: pc, mapping: mapping), pid: pid, pc: pc,
                                 valid: SymbolTables.unbounded, outcome: &outcome)
            }
            if !timeDependent.isEmpty {
                try TimeDependentNames(tables: tables, spaces: spaces, symbolizer: symbolizer)
                    .resolve(timeDependent, writer: &writer, outcome: &outcome)
                symbolizer.releaseImages()
            }
            try progress?(total, total)
            try tables.finish()
            try db.execute("COMMIT")
            outcome.skippedFiles = symbolizer.skippedFiles
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
        outcome.seconds = Double(monotonicNanoseconds() - began) / 1e9
        return outcome
    }

    /// Each process's mappings over time, and its jitdump: the mapping that marks it, the last one it made.
    static func addressSpaces(_ db: SQLiteDatabase) throws -> (AddressSpaces, jitDumps: [Int32: MappingRecord]) {
        var mappings: [Int32: [MappingRecord]] = [:]
        var jitDumps: [Int32: MappingRecord] = [:]
        try SideBandRecords.forEachMapping(in: db) { m in
            let record = MappingRecord(
                time: m.time, start: m.start, end: m.start &+ m.length, pageOffset: m.pageOffset,
                filename: m.filename, buildID: m.buildID,
                identity: MappedFileIdentity(major: m.major, minor: m.minor, inode: m.inode))
            mappings[m.pid, default: []].append(record)
            if Symbolizer.isJitDump(m.filename) { jitDumps[m.pid] = record }
        }
        let spaces = AddressSpaces(mappings: mappings, execs: try SideBandRecords.execTimes(in: db),
                                   forks: try SideBandRecords.parents(in: db))
        return (spaces, jitDumps)
    }
}

/// Writes resolved frames as rows, keeping an earlier resolution's name where the new one has no symbol.
struct AddressWriter {
    let tables: SymbolTables
    let symbolizer: Symbolizer

    @discardableResult
    mutating func write(_ frame: ResolvedFrame, pid: Int32, pc: UInt64, valid: (from: Int64, to: Int64),
                        outcome: inout SymbolOutcome) throws -> Int64 {
        var row: AddressRow
        if frame.symbol == nil, let earlier = try tables.earlierName(pid: pid, pc: pc, validFrom: valid.from) {
            row = earlier
            outcome.kept += 1
        } else {
            let dsoID = try frame.dso.map {
                try tables.dsoID(DsoRow(path: $0.path, buildID: $0.buildID, kind: $0.kind.rawValue,
                                        symbolSource: $0.source.rawValue, fileSource: $0.fileSource?.rawValue,
                                        debugSource: $0.debugSource?.rawValue))
            }
            var symbolID: Int64?
            if let dsoID, let symbol = frame.symbol {
                symbolID = try tables.symbolID(dso: dsoID, SymbolRow(rawName: symbol.rawName, name: symbol.name,
                                                                     address: symbol.address, size: symbol.size))
            }
            row = AddressRow(dsoID: dsoID, dsoOffset: frame.dsoOffset, symbolID: symbolID,
                             symbolOffset: frame.symbolOffset, name: frame.name, file: frame.file,
                             line: frame.line.map { Int64($0) }, inlined: frame.inlined)
        }
        let id = try tables.insertAddress(row, pid: pid, pc: pc, valid: valid)
        outcome.addresses += 1
        if row.symbolID != nil { outcome.withSymbol += 1 } else if row.dsoID != nil { outcome.libraryOnly += 1 } else {
            outcome.unknown += 1
        }
        return id
    }
}
