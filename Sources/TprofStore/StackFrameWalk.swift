/// The frames of each process's sampled stacks, walked twice over the `stacks` tree: first to gather each process's
/// distinct frame addresses into `temp.finish_addresses` (return addresses at address - 1), then, once those are
/// named, to write a `stack_addresses` row for each (pid, stack node).
///
/// Stack ids are dense, so each node's parent, named address, kernel flag and the last process that passed it fit in
/// arrays of 17 bytes a node; a walk stops at the first node its process has already passed. Leaves come in pid
/// order, and each process's rows go in sorted, many to a statement: appended to the B-trees rather than inserted at
/// random places, without a statement's own cost for each row. No table of (pid, node) pairs is kept between the
/// passes: writing and joining one cost more than the walk.
final class StackFrameWalk {
    private let db: SQLiteDatabase
    /// -1: no such node (a damaged file's stack id leads nowhere).
    private var parent: [Int32]
    private var namedPC: [UInt64]
    private var kernel: [Bool]
    /// No pid is Int32.min: a node no process has passed yet (in the current pass).
    private var passedBy: [Int32]
    private var processNodes: [Int] = []
    private static let rowsPerInsert = 64

    init(database: SQLiteDatabase, maxID: Int) throws {
        db = database
        parent = [Int32](repeating: -1, count: maxID + 1)
        namedPC = [UInt64](repeating: 0, count: maxID + 1)
        kernel = [Bool](repeating: false, count: maxID + 1)
        passedBy = [Int32](repeating: Int32.min, count: maxID + 1)
        let nodes = try db.prepare("SELECT id, parent_id, address, kernel, return_address FROM stacks")
        while try nodes.step() {
            let id = nodes.int64(0)
            let parentID = nodes.int64(1)
            guard id > 0, id <= Int64(maxID) else { continue }
            parent[Int(id)] = parentID > 0 && parentID <= Int64(maxID) ? Int32(parentID) : 0
            let address = UInt64(bitPattern: nodes.int64(2))
            namedPC[Int(id)] = nodes.int64(4) != 0 ? address &- 1 : address
            kernel[Int(id)] = nodes.int64(3) != 0
        }
    }

    /// First pass: every process's distinct frame addresses into `temp.finish_addresses`.
    func gatherAddresses() throws {
        let upsert = try db.prepare("""
            INSERT INTO temp.finish_addresses (pid, pc, kernel, sampled, framed) VALUES (?, ?, ?, 0, 1)
            ON CONFLICT (pid, pc) DO UPDATE SET kernel = max(kernel, excluded.kernel), framed = 1
            """)
        try forEachProcess { pid in
            var frames: [UInt64: Bool] = [:]
            for node in processNodes { frames[namedPC[node]] = (frames[namedPC[node]] ?? false) || kernel[node] }
            for (pc, isKernel) in frames.sorted(by: { $0.key < $1.key }) {
                upsert.bind(1, Int64(pid))
                upsert.bind(2, Int64(bitPattern: pc))
                upsert.bind(3, isKernel ? 1 : 0)
                try upsert.runBound()
            }
        }
    }

    /// Second pass, once the addresses are named: a `stack_addresses` row for each (pid, node), pointing at the
    /// whole-run address row of the node's named address.
    func writeStackAddresses(wholeRunFrom validFrom: Int64) throws {
        passedBy = [Int32](repeating: Int32.min, count: passedBy.count)
        let columns = "INSERT OR IGNORE INTO stack_addresses (pid, stack_id, address_id) VALUES "
        let insertOne = try db.prepare(columns + "(?, ?, ?)")
        let insertMany = try db.prepare(
            columns + Array(repeating: "(?, ?, ?)", count: Self.rowsPerInsert).joined(separator: ", "))
        let addresses = try db.prepare("SELECT pc, id FROM addresses WHERE pid = ? AND valid_from = ?")
        try forEachProcess { pid in
            var ids: [UInt64: Int64] = [:]
            addresses.bind(1, Int64(pid))
            addresses.bind(2, validFrom)
            while try addresses.step() { ids[UInt64(bitPattern: addresses.int64(0))] = addresses.int64(1) }
            try addresses.bind([])
            // In place: a process can pass millions of nodes, and no second list of them is made.
            processNodes.sort()
            var start = 0
            while start < processNodes.count {
                let count = processNodes.count - start >= Self.rowsPerInsert ? Self.rowsPerInsert : 1
                let statement = count == 1 ? insertOne : insertMany
                for row in 0..<count {
                    let node = processNodes[start + row]
                    let column = Int32(row * 3)
                    statement.bind(column + 1, Int64(pid))
                    statement.bind(column + 2, Int64(node))
                    // Every gathered address has its row; a missing one (cannot happen) points at no row.
                    statement.bind(column + 3, ids[namedPC[node]] ?? 0)
                }
                try statement.runBound()
                start += count
            }
        }
    }

    /// Calls `body` once per process with `processNodes` holding every node its sampled stacks pass through.
    private func forEachProcess(_ body: (Int32) throws -> Void) throws {
        let leaves = try db.prepare(
            "SELECT DISTINCT pid, stack_id FROM sample_counts WHERE stack_id > 0 AND stack_id < ? ORDER BY pid")
        leaves.bind(1, Int64(parent.count))
        var currentPID: Int32?
        while try leaves.step() {
            let pid = Int32(truncatingIfNeeded: leaves.int64(0))
            if pid != currentPID {
                if let currentPID { try body(currentPID) }
                processNodes.removeAll(keepingCapacity: true)
                currentPID = pid
            }
            walk(from: Int(leaves.int64(1)), pid: pid)
        }
        if let currentPID { try body(currentPID) }
        processNodes.removeAll(keepingCapacity: true)
    }

    private func walk(from leaf: Int, pid: Int32) {
        var node = leaf
        var depth = 0
        // The depth bound ends a cycle in a damaged file.
        while node != 0, parent[node] >= 0, passedBy[node] != pid, depth < 4096 {
            passedBy[node] = pid
            processNodes.append(node)
            node = Int(parent[node])
            depth += 1
        }
    }
}
