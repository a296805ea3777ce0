/// The frames of each process's sampled stacks, walked over the `stacks` tree to gather each process's distinct
/// frame addresses (return addresses at address - 1: the node's `named_pc`). Reports name a frame by its process's
/// address row of that address, so nothing is written per (pid, node).
///
/// Stack ids are dense, so each node's parent, named address, kernel flag and the last process that passed it fit in
/// arrays of 17 bytes a node; a walk stops at the first node its process has already passed. Leaves come in pid
/// order; each process's addresses go in once a range (the caller makes them distinct across ranges).
///
/// The table is a forest (the recorder starts a new tree when its budget is full), and no parent lies outside its
/// tree, so a long recording is walked a range of whole trees at a time and the arrays stay bounded (a single tree
/// larger than a range, from a file written otherwise, is walked whole); the arrays are let go before the addresses
/// are named.
final class StackFrameWalk {
    private let db: SQLiteDatabase
    /// Id ranges walked one at a time: whole trees, at least `nodesPerRange` nodes each (the last one aside).
    private let ranges: [Range<Int>]
    /// About one of the recorder's trees: 4.5 MB of arrays.
    static let defaultNodesPerRange = 1 << 18
    /// The range the arrays hold; index = id - `range.lowerBound`.
    private var range = 0..<0
    /// The parent's id; -1: no such node (a damaged file's stack id leads nowhere).
    private var parent: [Int32] = []
    private var namedPC: [UInt64] = []
    private var kernel: [Bool] = []
    /// No pid is Int32.min: a node no process has passed yet (in the current pass).
    private var passedBy: [Int32] = []
    private var processNodes: [Int] = []

    init(database: SQLiteDatabase, maxID: Int, nodesPerRange: Int = defaultNodesPerRange) throws {
        db = database
        ranges = try Self.ranges(in: database, maxID: maxID, nodesPerRange: max(1, nodesPerRange))
    }

    /// Cuts 1...maxID where no node after a cut has a parent before it. Each root (parent 0) may start a tree; a
    /// node whose parent lies before a candidate rules the candidate out. Candidates are kept ascending, so the
    /// ruled-out ones are popped from the end.
    private static func ranges(in db: SQLiteDatabase, maxID: Int, nodesPerRange: Int) throws -> [Range<Int>] {
        guard maxID > nodesPerRange else { return [1..<maxID + 1] }
        var cuts: [Int] = []
        let nodes = try db.prepare("SELECT id, parent_id FROM stacks ORDER BY id")
        while try nodes.step() {
            let id = Int(nodes.int64(0))
            let parentID = Int(truncatingIfNeeded: nodes.int64(1))
            if parentID > 0 {
                while let last = cuts.last, last > parentID { cuts.removeLast() }
            } else if id > 1 {
                cuts.append(id)
            }
        }
        var ranges: [Range<Int>] = []
        var start = 1
        for cut in cuts where cut - start >= nodesPerRange {
            ranges.append(start..<cut)
            start = cut
        }
        ranges.append(start..<maxID + 1)
        return ranges
    }

    /// Reads the nodes of `ids` into the arrays (a parent outside them is treated as missing).
    private func load(_ ids: Range<Int>) throws {
        guard ids != range else { return }
        range = ids
        parent = [Int32](repeating: -1, count: ids.count)
        namedPC = [UInt64](repeating: 0, count: ids.count)
        kernel = [Bool](repeating: false, count: ids.count)
        passedBy = [Int32](repeating: Int32.min, count: ids.count)
        let nodes = try db.prepare(
            "SELECT id, parent_id, address, kernel, return_address FROM stacks WHERE id >= ? AND id < ?")
        nodes.bind(1, Int64(ids.lowerBound))
        nodes.bind(2, Int64(ids.upperBound))
        while try nodes.step() {
            let id = nodes.int64(0)
            let parentID = nodes.int64(1)
            let index = Int(id) - ids.lowerBound
            parent[index] = parentID > 0 && ids.contains(Int(parentID)) ? Int32(parentID) : 0
            let address = UInt64(bitPattern: nodes.int64(2))
            namedPC[index] = StackChains.namedPC(address: address, returnAddress: nodes.int64(4) != 0)
            kernel[index] = nodes.int64(3) != 0
        }
    }

    /// Lets the arrays go (before the addresses are named).
    private func release() {
        range = 0..<0
        parent = []
        namedPC = []
        kernel = []
        passedBy = []
        processNodes = []
    }

    /// Hands every process's distinct frame addresses of each range to `body` (pid, named address, kernel).
    func gatherAddresses(into body: (Int32, UInt64, Bool) throws -> Void) throws {
        var frames: [UInt64: Bool] = [:]
        try forEachProcess { pid in
            frames.removeAll(keepingCapacity: true)
            for node in processNodes { frames[namedPC[node]] = (frames[namedPC[node]] ?? false) || kernel[node] }
            for (pc, isKernel) in frames { try body(pid, pc, isKernel) }
        }
        release()
    }

    /// Calls `body` once per (range, process) with `processNodes` holding every node of the range its sampled stacks
    /// pass through (ids less the range's start, so they index the arrays).
    private func forEachProcess(_ body: (Int32) throws -> Void) throws {
        // The sampled leaves by stack id, once: each range then reads only its own (a scan of `sample_counts` for
        // each range grew with the square of the recording's length). Dropped with the other scratch tables.
        try db.execute("""
            DROP TABLE IF EXISTS temp.finish_leaves;
            CREATE TEMP TABLE finish_leaves (stack_id INTEGER NOT NULL, pid INTEGER NOT NULL,
                PRIMARY KEY (stack_id, pid)) WITHOUT ROWID;
            INSERT OR IGNORE INTO temp.finish_leaves SELECT stack_id, pid FROM sample_counts WHERE stack_id != 0;
            """)
        let leaves = try db.prepare(
            "SELECT pid, stack_id FROM temp.finish_leaves WHERE stack_id >= ? AND stack_id < ? ORDER BY pid")
        for ids in ranges {
            try load(ids)
            leaves.bind(1, Int64(ids.lowerBound))
            leaves.bind(2, Int64(ids.upperBound))
            var currentPID: Int32?
            while try leaves.step() {
                let pid = Int32(truncatingIfNeeded: leaves.int64(0))
                if pid != currentPID {
                    if let currentPID { try body(currentPID) }
                    processNodes.removeAll(keepingCapacity: true)
                    currentPID = pid
                }
                walk(from: Int(leaves.int64(1)) - ids.lowerBound, pid: pid)
            }
            try leaves.bind([])
            if let currentPID { try body(currentPID) }
            processNodes.removeAll(keepingCapacity: true)
        }
    }

    private func walk(from leaf: Int, pid: Int32) {
        let base = range.lowerBound
        var node = leaf
        var depth = 0
        // The depth bound ends a cycle in a damaged file.
        while node >= 0, parent[node] >= 0, passedBy[node] != pid, depth < stackWalkLimit {
            passedBy[node] = pid
            processNodes.append(node)
            node = parent[node] == 0 ? -1 : Int(parent[node]) - base
            depth += 1
        }
    }
}
