/// Writes every (pid, stack node) that a sampled stack of the process passes through into `temp.finish_frames`, and
/// each process's distinct frame addresses into `temp.finish_addresses` (return addresses at address - 1).
///
/// Stack ids are dense, so each node's parent, named address, kernel flag and the last process that passed it fit in
/// arrays of 17 bytes a node; a walk stops at the first node its process has already passed. Leaves come in pid
/// order, and each process's rows go in sorted, many to a statement: appended to the B-trees, not inserted at
/// random places, and without a statement's own cost for each row.
final class StackFrameWalk {
    private let db: SQLiteDatabase
    /// -1: no such node (a damaged file's stack id leads nowhere).
    private var parent: [Int32]
    private var namedPC: [UInt64]
    private var kernel: [Bool]
    /// No pid is Int32.min: a node no process has passed yet.
    private var passedBy: [Int32]
    private var processNodes: [Int] = []
    private var processFrames: [UInt64: Bool] = [:]
    private var currentPID = Int32.min
    private let insertOne: SQLiteStatement
    private let insertMany: SQLiteStatement
    private let upsert: SQLiteStatement
    private static let rowsPerInsert = 64

    init(database: SQLiteDatabase, maxID: Int) throws {
        db = database
        parent = [Int32](repeating: -1, count: maxID + 1)
        namedPC = [UInt64](repeating: 0, count: maxID + 1)
        kernel = [Bool](repeating: false, count: maxID + 1)
        passedBy = [Int32](repeating: Int32.min, count: maxID + 1)
        let columns = "INSERT OR IGNORE INTO temp.finish_frames (pid, stack_id, pc, kernel) VALUES "
        insertOne = try db.prepare(columns + "(?, ?, ?, ?)")
        insertMany = try db.prepare(
            columns + Array(repeating: "(?, ?, ?, ?)", count: Self.rowsPerInsert).joined(separator: ", "))
        upsert = try db.prepare("""
            INSERT INTO temp.finish_addresses (pid, pc, kernel, sampled, framed) VALUES (?, ?, ?, 0, 1)
            ON CONFLICT (pid, pc) DO UPDATE SET kernel = max(kernel, excluded.kernel), framed = 1
            """)
        let nodes = try db.prepare("SELECT id, parent_id, address, kernel, return_address FROM stacks")
        while try nodes.step() {
            let id = nodes.int64(0)
            let parentID = nodes.int64(1)
            guard id > 0, id <= Int64(maxID) else { continue }
            parent[Int(id)] = parentID > 0 && parentID <= Int64(maxID) ? Int32(parentID) : 0
            let address = UInt64(bitPattern: nodes.int64(2))
            namedPC[Int(id)] = nodes.int64(4) != 0 && address != 0 ? address &- 1 : address
            kernel[Int(id)] = nodes.int64(3) != 0
        }
    }

    func run() throws {
        let leaves = try db.prepare(
            "SELECT DISTINCT pid, stack_id FROM sample_counts WHERE stack_id > 0 AND stack_id < ? ORDER BY pid")
        leaves.bind(1, Int64(parent.count))
        while try leaves.step() {
            let pid = Int32(truncatingIfNeeded: leaves.int64(0))
            if pid != currentPID {
                try flushProcess()
                currentPID = pid
            }
            walk(from: Int(leaves.int64(1)), pid: pid)
        }
        try flushProcess()
    }

    private func walk(from leaf: Int, pid: Int32) {
        var node = leaf
        var depth = 0
        // The depth bound ends a cycle in a damaged file.
        while node != 0, parent[node] >= 0, passedBy[node] != pid, depth < 4096 {
            passedBy[node] = pid
            processNodes.append(node)
            let pc = namedPC[node]
            processFrames[pc] = (processFrames[pc] ?? false) || kernel[node]
            node = Int(parent[node])
            depth += 1
        }
    }

    private func flushProcess() throws {
        processNodes.sort()
        var start = 0
        while start < processNodes.count {
            let count = processNodes.count - start >= Self.rowsPerInsert ? Self.rowsPerInsert : 1
            let statement = count == 1 ? insertOne : insertMany
            for row in 0..<count {
                let node = processNodes[start + row]
                let column = Int32(row * 4)
                statement.bind(column + 1, Int64(currentPID))
                statement.bind(column + 2, Int64(node))
                statement.bind(column + 3, Int64(bitPattern: namedPC[node]))
                statement.bind(column + 4, kernel[node] ? 1 : 0)
            }
            try statement.runBound()
            start += count
        }
        processNodes.removeAll(keepingCapacity: true)
        for (pc, isKernel) in processFrames.sorted(by: { $0.key < $1.key }) {
            upsert.bind(1, Int64(currentPID))
            upsert.bind(2, Int64(bitPattern: pc))
            upsert.bind(3, isKernel ? 1 : 0)
            try upsert.runBound()
        }
        processFrames.removeAll(keepingCapacity: true)
    }
}
