/// The distinct (pid, address) pairs a recording's samples and stack frames name, gathered in memory.
///
/// Pairs are appended as they are found, duplicates and all (a sampled address is also its stack's leaf frame; a
/// long-lived process's frames come again in every range of the stack walk), and sorted and merged in place
/// whenever they have grown by a quarter since the last merge: SQLite took a B-tree search or a sorter pass a pair
/// (a third of the finishing time of a large recording), a sort here takes a tenth of that. A pair is 16 bytes, so
/// a million distinct pairs hold 16 MB, 25 MB at most while merging.
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

    /// Pairs appended before the first merge (fewer in tests, to merge often).
    var pairsBeforeMerge = 1 << 18
    private(set) var pairs: [Pair] = []
    /// How many pairs the last merge left.
    private var merged = 0

    mutating func append(pid: Int32, pc: UInt64, flags: UInt32) {
        if pairs.count >= max(pairsBeforeMerge, merged + merged / 4) { merge() }
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
        let next = max(pairsBeforeMerge, merged + merged / 4) + 1
        if pairs.capacity > next + next / 2 || pairs.capacity < next {
            var resized: [Pair] = []
            resized.reserveCapacity(next)
            resized.append(contentsOf: pairs)
            pairs = resized
        }
    }

    /// Lets the pairs go.
    mutating func release() {
        pairs = []
        merged = 0
    }
}
