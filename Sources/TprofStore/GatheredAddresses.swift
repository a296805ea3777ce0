/// The distinct (pid, address) pairs a recording's samples and stack frames name, gathered for naming.
///
/// Pairs are appended as they are found, duplicates and all (a sampled address is also its stack's leaf frame; a
/// long-lived process's frames come again in every range of the stack walk), and sorted and merged in place
/// whenever they have grown by a quarter since the last merge: a keyed SQLite table cost a B-tree search a pair (a
/// third of the finishing time of a large recording), a sort in memory a tenth of that. Memory is bounded: once the
/// merged pairs fill half of `pairLimit` (16 bytes each), they go to an unkeyed temp table as a sorted run, and the
/// runs are merged as they are read back, a row of each at a time (a sort of them all by SQLite took as long as the
/// keyed table).
struct GatheredAddresses {
    /// One pair and what named it: `Flags` bits.
    struct Pair {
        var pc: UInt64
        var pid: Int32
        var flags: UInt32
    }

    enum Flags {
        /// Sampled in a kernel mode, or a kernel frame.
        static let kernel: UInt32 = 1
        static let sampled: UInt32 = 2
        static let framed: UInt32 = 4
    }

    private let db: SQLiteDatabase
    /// Pairs held in memory at most: 16 MB, and half that more while sorting (fewer in tests, to spill).
    var pairLimit: Int
    /// Pairs appended before the first merge (fewer in tests, to merge often).
    var pairsBeforeMerge = 1 << 16
    private(set) var pairs: [Pair] = []
    /// How many pairs the last merge left.
    private var merged = 0
    /// The rowids of each sorted run of pairs in `temp.finish_pairs`.
    private var runs: [ClosedRange<Int64>] = []
    /// Whether pairs went to `temp.finish_pairs`.
    var spilled: Bool { !runs.isEmpty }
    private var spill: SQLiteStatement?

    init(database: SQLiteDatabase, pairLimit: Int = 1 << 20) {
        db = database
        self.pairLimit = pairLimit
    }

    mutating func append(pid: Int32, pc: UInt64, flags: UInt32) throws {
        if pairs.count >= max(pairsBeforeMerge, merged + merged / 4) {
            merge()
            if merged >= pairLimit / 2 { try spillPairs() }
        }
        pairs.append(Pair(pc: pc, pid: pid, flags: flags))
    }

    /// Sorts the pairs by (pid, address) and merges the duplicates' flags; sizes the array for the next quarter.
    mutating func merge() {
        pairs.sort { $0.pid != $1.pid ? $0.pid < $1.pid : $0.pc < $1.pc }
        var kept = 0
        for index in pairs.indices {
            let pair = pairs[index]
            if kept > 0, pairs[kept - 1].pid == pair.pid, pairs[kept - 1].pc == pair.pc {
                pairs[kept - 1].flags |= pair.flags
            } else {
                pairs[kept] = pair
                kept += 1
            }
        }
        pairs.removeLast(pairs.count - kept)
        merged = kept
        // Doubling would reserve up to twice what the next merge needs.
        let next = min(pairLimit, max(pairsBeforeMerge, merged + merged / 4)) + 1
        if pairs.capacity > next + next / 2 || pairs.capacity < next {
            var resized: [Pair] = []
            resized.reserveCapacity(next)
            resized.append(contentsOf: pairs)
            pairs = resized
        }
    }

    private mutating func spillPairs() throws {
        guard !pairs.isEmpty else { return }
        if spill == nil {
            try db.execute("""
                DROP TABLE IF EXISTS temp.finish_pairs;
                CREATE TEMP TABLE finish_pairs (pid INTEGER NOT NULL, pc INTEGER NOT NULL, flags INTEGER NOT NULL);
                """)
            spill = try db.prepare("INSERT INTO temp.finish_pairs VALUES (?, ?, ?)")
        }
        guard let spill else { return }
        var first: Int64?
        for pair in pairs {
            spill.bind(1, Int64(pair.pid))
            spill.bind(2, Int64(bitPattern: pair.pc))
            spill.bind(3, Int64(pair.flags))
            try spill.runBound()
            if first == nil { first = db.lastInsertRowID }
        }
        if let first { runs.append(first...db.lastInsertRowID) }
        pairs.removeAll(keepingCapacity: true)
        merged = 0
    }

    /// Makes the pairs distinct (the last of them merged in memory, the rest as runs); returns their count.
    mutating func finish() throws -> Int {
        merge()
        guard spilled else { return pairs.count }
        try spillPairs()
        pairs = []
        var count = 0
        try mergeRuns { _, _, _ in count += 1 }
        return count
    }

    /// Calls `body` with each distinct pair in (pid, address) order.
    func forEach(_ body: (Int32, UInt64, UInt32) throws -> Void) throws {
        guard spilled else {
            for pair in pairs { try body(pair.pid, pair.pc, pair.flags) }
            return
        }
        try mergeRuns(body)
    }

    /// Reads the runs back together, each in its order, merging the flags of a pair found in several.
    private func mergeRuns(_ body: (Int32, UInt64, UInt32) throws -> Void) throws {
        var cursors: [SQLiteStatement] = []
        var heads: [Pair?] = []
        func next(_ index: Int) throws {
            let cursor = cursors[index]
            heads[index] = try cursor.step() ? Pair(pc: UInt64(bitPattern: cursor.int64(1)),
                                                   pid: Int32(truncatingIfNeeded: cursor.int64(0)),
                                                   flags: UInt32(truncatingIfNeeded: cursor.int64(2))) : nil
        }
        for run in runs {
            let cursor = try db.prepare(
                "SELECT pid, pc, flags FROM temp.finish_pairs WHERE rowid BETWEEN ? AND ? ORDER BY rowid")
            cursor.bind(1, run.lowerBound)
            cursor.bind(2, run.upperBound)
            cursors.append(cursor)
            heads.append(nil)
            try next(cursors.count - 1)
        }
        while true {
            var lowest: Pair?
            for case let head? in heads where lowest.map({ (head.pid, head.pc) < ($0.pid, $0.pc) }) ?? true {
                lowest = head
            }
            guard var pair = lowest else { return }
            pair.flags = 0
            for index in heads.indices {
                if let head = heads[index], head.pid == pair.pid, head.pc == pair.pc {
                    pair.flags |= head.flags
                    try next(index)
                }
            }
            try body(pair.pid, pair.pc, pair.flags)
        }
    }

    /// Lets the pairs go (the scratch tables go with the others, in `SymbolTables.finish()`).
    mutating func release() {
        pairs = []
        merged = 0
        runs = []
        spill = nil
    }
}
