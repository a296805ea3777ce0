import TprofStore

/// One mapping of a process, from a PERF_RECORD_MMAP2 or the /proc snapshot.
struct MappingRecord: Equatable {
    var time: Int64
    var start: UInt64
    var end: UInt64
    var pageOffset: UInt64
    var filename: String
    var buildID: String?

    /// Identity for telling whether two records describe the same mapping.
    func sameMapping(as other: MappingRecord) -> Bool {
        start == other.start && end == other.end && pageOffset == other.pageOffset && filename == other.filename
    }
}

/// Every process's mappings over time, from the recorded side-band tables: its own mmaps, what it inherited
/// from its parent at fork, and where exec replaced its address space.
struct AddressSpaces {
    private var mappings: [Int32: [MappingRecord]] = [:]
    private var execTimes: [Int32: [Int64]] = [:]
    private var parents: [Int32: (pid: Int32, time: Int64)] = [:]

    init(database: SQLiteDatabase) throws {
        let mmaps = try database.prepare("""
            SELECT pid, time, start, length, pgoff, filename, build_id FROM mmap_records ORDER BY time
            """)
        while try mmaps.step() {
            let start = UInt64(bitPattern: mmaps.int64(2))
            let record = MappingRecord(
                time: mmaps.int64(1), start: start, end: start &+ UInt64(bitPattern: mmaps.int64(3)),
                pageOffset: UInt64(bitPattern: mmaps.int64(4)), filename: mmaps.text(5) ?? "",
                buildID: mmaps.text(6))
            mappings[Int32(truncatingIfNeeded: mmaps.int64(0)), default: []].append(record)
        }
        let execs = try database.prepare(
            "SELECT pid, time FROM comm_records WHERE exec = 1 AND source = 'kernel' AND pid = tid ORDER BY time")
        while try execs.step() {
            execTimes[Int32(truncatingIfNeeded: execs.int64(0)), default: []].append(execs.int64(1))
        }
        let forks = try database.prepare(
            "SELECT pid, ppid, time FROM task_records WHERE kind = 'fork' AND pid = tid AND pid != ppid")
        while try forks.step() {
            parents[Int32(truncatingIfNeeded: forks.int64(0))] = (Int32(truncatingIfNeeded: forks.int64(1)), forks.int64(2))
        }
    }

    /// The mapping covering `address` in `pid` at `time` (latest mmap wins; a fork inherits, an exec clears).
    func mapping(pid: Int32, address: UInt64, time: Int64, depth: Int = 0) -> MappingRecord? {
        let lastExec = execTimes[pid]?.last(where: { $0 <= time })
        let notBefore = lastExec ?? Int64.min
        if let own = mappings[pid]?.last(where: {
            $0.time <= time && $0.time >= notBefore && $0.start <= address && address < $0.end
        }) {
            return own
        }
        guard lastExec == nil, depth < 64, let parent = parents[pid], parent.time <= time else { return nil }
        return mapping(pid: parent.pid, address: address, time: parent.time, depth: depth + 1)
    }

    /// When the address space `pid` had at `time` began: its last exec at or before `time`, Int64.min before any.
    func addressSpaceStart(pid: Int32, time: Int64) -> Int64 {
        execTimes[pid]?.last(where: { $0 <= time }) ?? Int64.min
    }

    /// The file mappings of the address space `pid` had at `time` (by default the last one): its own mappings from
    /// the exec that began it up to the next exec, else (before any exec) also those inherited at fork.
    func fileMappings(of pid: Int32, at time: Int64 = Int64.max) -> [MappingRecord] {
        var result: [MappingRecord] = []
        var current: Int32? = pid
        var time = time
        // Records of a later exec's image belong to another address space.
        var limit = execTimes[pid]?.first(where: { $0 > time }).map { $0 - 1 } ?? Int64.max
        var depth = 0
        while let p = current, depth < 64 {
            let lastExec = execTimes[p]?.last(where: { $0 <= time }) ?? Int64.min
            for record in mappings[p] ?? [] where record.time <= limit && record.time >= lastExec
                && record.filename.hasPrefix("/") && !result.contains(where: { $0.sameMapping(as: record) }) {
                result.append(record)
            }
            guard lastExec == Int64.min, let parent = parents[p] else { break }
            current = parent.pid
            time = parent.time
            limit = parent.time
            depth += 1
        }
        return result
    }

    /// The times at which the mapping covering `address` in `pid` can change: the records of its candidate
    /// mappings, the process's execs and its fork. Between two of them `mapping(pid:address:time:)` is constant.
    func changeTimes(pid: Int32, address: UInt64) -> [Int64] {
        var times = Set(candidateRecords(pid: pid, address: address).map(\.time))
        times.formUnion(execTimes[pid] ?? [])
        if let fork = parents[pid]?.time { times.insert(fork) }
        return times.sorted()
    }

    private func candidateRecords(pid: Int32, address: UInt64) -> [MappingRecord] {
        var found: [MappingRecord] = []
        var current: Int32? = pid
        var depth = 0
        while let p = current, depth < 64 {
            found += (mappings[p] ?? []).filter { $0.start <= address && address < $0.end }
            current = parents[p]?.pid
            depth += 1
        }
        return found
    }

    /// Every distinct mapping that could cover `address` in `pid` at some time: more than one means the answer
    /// depends on the sample's time (an exec, or memory unmapped and mapped again).
    func candidates(pid: Int32, address: UInt64) -> [MappingRecord] {
        var found: [MappingRecord] = []
        var current: Int32? = pid
        var depth = 0
        while let p = current, depth < 64 {
            for record in mappings[p] ?? [] where record.start <= address && address < record.end {
                if !found.contains(where: { $0.sameMapping(as: record) }) { found.append(record) }
            }
            current = parents[p]?.pid
            depth += 1
        }
        return found
    }
}
