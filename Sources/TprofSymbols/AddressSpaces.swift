/// One mapping of a process, from a PERF_RECORD_MMAP2 or the /proc snapshot.
public struct MappingRecord: Equatable {
    public var time: Int64
    public var start: UInt64
    public var end: UInt64
    public var pageOffset: UInt64
    public var filename: String
    public var buildID: String?
    /// The mapped file's device and inode, when recorded: they tell which file a path named in another mount
    /// namespace was.
    public var identity: MappedFileIdentity?

    public init(time: Int64, start: UInt64, end: UInt64, pageOffset: UInt64, filename: String, buildID: String?,
                identity: MappedFileIdentity? = nil) {
        self.identity = identity
        self.time = time
        self.start = start
        self.end = end
        self.pageOffset = pageOffset
        self.filename = filename
        self.buildID = buildID
    }

    /// Identity for telling whether two records describe the same mapping.
    public func sameMapping(as other: MappingRecord) -> Bool {
        start == other.start && end == other.end && pageOffset == other.pageOffset && filename == other.filename
    }
}

/// Every process's mappings over time, from the recorded side-band tables: its own mmaps, what it inherited
/// from its parent at fork, and where exec replaced its address space.
public struct AddressSpaces {
    private var mappings: [Int32: [MappingRecord]] = [:]
    private var execTimes: [Int32: [Int64]] = [:]
    private var parents: [Int32: (pid: Int32, time: Int64)] = [:]
    /// Per process, its mappings by start address, so finding those that cover an address is a binary search,
    /// not a scan of every mapping (a process maps hundreds of files, a recording has 100k addresses).
    private var byStart: [Int32: StartIndex] = [:]

    private struct StartIndex {
        /// Indices into the process's mappings, ordered by start address.
        var order: [Int]
        var starts: [UInt64]
        /// The largest end among `order[0...i]`: a backward scan stops where no earlier mapping reaches the address.
        var maxEnds: [UInt64]
    }

    /// - Parameters:
    ///   - mappings: each process's mapping records in time order.
    ///   - execs: each process's exec times in order.
    ///   - forks: each process's parent and the time it was forked.
    public init(mappings: [Int32: [MappingRecord]], execs: [Int32: [Int64]],
                forks: [Int32: (pid: Int32, time: Int64)]) {
        self.mappings = mappings
        execTimes = execs
        parents = forks
        for (pid, records) in mappings {
            let order = records.indices.sorted { records[$0].start < records[$1].start }
            var maxEnds: [UInt64] = []
            maxEnds.reserveCapacity(order.count)
            for index in order { maxEnds.append(max(maxEnds.last ?? 0, records[index].end)) }
            byStart[pid] = StartIndex(order: order, starts: order.map { records[$0].start }, maxEnds: maxEnds)
        }
    }

    /// The mappings of `pid` itself (not inherited) that cover `address`, in record (time) order.
    private func covering(pid: Int32, address: UInt64) -> [MappingRecord] {
        guard let index = byStart[pid], let records = mappings[pid] else { return [] }
        var low = 0
        var high = index.starts.count
        while low < high {
            let middle = (low + high) / 2
            if index.starts[middle] <= address { low = middle + 1 } else { high = middle }
        }
        var found: [Int] = []
        var position = low - 1
        while position >= 0 && index.maxEnds[position] > address {
            let record = index.order[position]
            if address < records[record].end { found.append(record) }
            position -= 1
        }
        return found.sorted().map { records[$0] }
    }

    /// The mapping covering `address` in `pid` at `time` (latest mmap wins; a fork inherits, an exec clears).
    public func mapping(pid: Int32, address: UInt64, time: Int64, depth: Int = 0) -> MappingRecord? {
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
    public func addressSpaceStart(pid: Int32, time: Int64) -> Int64 {
        execTimes[pid]?.last(where: { $0 <= time }) ?? Int64.min
    }

    /// The file mappings of the address space `pid` had at `time` (by default the last one): its own mappings from
    /// the exec that began it up to the next exec, else (before any exec) also those inherited at fork.
    public func fileMappings(of pid: Int32, at time: Int64 = Int64.max) -> [MappingRecord] {
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
    public func changeTimes(pid: Int32, address: UInt64) -> [Int64] {
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
            found += covering(pid: p, address: address)
            current = parents[p]?.pid
            depth += 1
        }
        return found
    }

    /// Every distinct mapping that could cover `address` in `pid` at some time: more than one means the answer
    /// depends on the sample's time (an exec, or memory unmapped and mapped again).
    public func candidates(pid: Int32, address: UInt64) -> [MappingRecord] {
        var found: [MappingRecord] = []
        var current: Int32? = pid
        var depth = 0
        while let p = current, depth < 64 {
            for record in covering(pid: p, address: address) {
                if !found.contains(where: { $0.sameMapping(as: record) }) { found.append(record) }
            }
            current = parents[p]?.pid
            depth += 1
        }
        return found
    }
}
