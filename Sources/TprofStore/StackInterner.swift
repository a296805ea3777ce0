/// Interns call chains into the prefix tree of the `stacks` table: each distinct stack is stored once, as a chain
/// of nodes from its root, and a sample keeps only its leaf's id. Lives on the writer thread.
public final class StackInterner {
    /// Frame flags stored in `stacks`.
    static let kernelFlag: UInt8 = 1
    static let returnAddressFlag: UInt8 = 2

    /// `PERF_CONTEXT_MAX`: call-chain entries at or above it are context markers, not addresses.
    static let contextMax = UInt64(bitPattern: -4095)
    public static let contextKernel = UInt64(bitPattern: -128)
    public static let contextUser = UInt64(bitPattern: -512)
    static let contextGuestKernel = UInt64(bitPattern: -2176)

    struct NodeKey: Hashable {
        var parent: Int64
        var address: UInt64
        var flags: UInt8
    }

    /// A node not yet written to the database.
    struct NewNode {
        var id: Int64
        var key: NodeKey
        var depth: Int
    }

    private var ids: [NodeKey: Int64] = [:]
    // Indexed by id - 1: the tree, to check a cached whole-stack hit without hashing every frame again.
    private var parents: [Int64] = []
    private var addresses: [UInt64] = []
    private var flags: [UInt8] = []
    private var depths: [Int] = []
    private var leavesByHash: [Int: [Int64]] = [:]
    private var scratch: [(address: UInt64, flags: UInt8)] = []
    private(set) var pending: [NewNode] = []

    public init() {}

    /// Loads the nodes already in the `stacks` table, so new chains extend the same tree.
    public func load(from db: SQLiteDatabase) throws {
        let rows = try db.prepare("SELECT id, parent_id, address, kernel, return_address, depth FROM stacks ORDER BY id")
        while try rows.step() {
            let id = rows.int64(0)
            guard id == Int64(parents.count + 1) else { continue }
            var nodeFlags: UInt8 = rows.int64(3) != 0 ? Self.kernelFlag : 0
            if rows.int64(4) != 0 { nodeFlags |= Self.returnAddressFlag }
            // A parent is always interned before its children. A row that says otherwise (a damaged file) keeps
            // its id but is never matched, so every walk up the tree stays inside it and ends.
            let parent = rows.int64(1)
            let key = NodeKey(parent: parent, address: UInt64(bitPattern: rows.int64(2)), flags: nodeFlags)
            if parent >= 0 && parent < id { ids[key] = id }
            parents.append(parent >= 0 && parent < id ? parent : 0)
            addresses.append(key.address)
            flags.append(nodeFlags)
            depths.append(Int(max(0, min(rows.int64(5), Int64(Int32.max)))))
        }
    }

    /// Inserts the nodes created since the last call into `stacks`.
    public func writePending(to db: SQLiteDatabase) throws {
        guard !pending.isEmpty else { return }
        let insert = try db.prepare(
            "INSERT INTO stacks (id, parent_id, address, kernel, return_address, depth) VALUES (?, ?, ?, ?, ?, ?)")
        for node in takePending() {
            try insert.run([
                .integer(node.id), .integer(node.key.parent), .integer(Int64(bitPattern: node.key.address)),
                .integer(Int64(node.key.flags & Self.kernelFlag)),
                .integer(node.key.flags & Self.returnAddressFlag != 0 ? 1 : 0), .integer(Int64(node.depth)),
            ])
        }
    }

    /// The raw kernel part of a stored stack, leaf first with its context marker, for joining with user frames.
    public func kernelChain(leaf: Int64) -> [UInt64] {
        var chain: [UInt64] = []
        var node = leaf
        var steps = 0
        while node > 0, Int(node) <= parents.count, steps < 4096 {
            let index = Int(node - 1)
            if flags[index] & Self.kernelFlag != 0 { chain.append(addresses[index]) }
            node = parents[index]
            steps += 1
        }
        return chain.isEmpty ? [] : [Self.contextKernel] + chain
    }

    /// Distinct stack nodes so far.
    var count: Int { parents.count }

    /// The leaf id for a raw call chain (leaf first, with context markers), or nil when it has no frames.
    public func intern(_ raw: ArraySlice<UInt64>) -> Int64? {
        // Most chains repeat: look the raw entries up by a cheap hash and check the candidate against the tree.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for entry in raw { hash = (hash ^ entry) &* 0x100_0000_01b3 }
        let key = Int(truncatingIfNeeded: hash)
        if let candidates = leavesByHash[key] {
            for leaf in candidates where matches(leaf: leaf, raw: raw) { return leaf }
        }
        scratch.removeAll(keepingCapacity: true)
        _ = Self.forEachFrame(raw) { address, frameFlags in
            scratch.append((address, frameFlags))
            return true
        }
        guard !scratch.isEmpty else { return nil }
        var parent: Int64 = 0
        for frame in scratch.reversed() {
            let nodeKey = NodeKey(parent: parent, address: frame.address, flags: frame.flags)
            if let id = ids[nodeKey] {
                parent = id
            } else {
                let id = Int64(parents.count + 1)
                let depth = parent == 0 ? 0 : depths[Int(parent - 1)] + 1
                ids[nodeKey] = id
                parents.append(parent)
                addresses.append(frame.address)
                flags.append(frame.flags)
                depths.append(depth)
                pending.append(NewNode(id: id, key: nodeKey, depth: depth))
                parent = id
            }
        }
        leavesByHash[key, default: []].append(parent)
        return parent
    }

    /// True when the chain from `leaf` to the root is exactly the raw entries.
    private func matches(leaf: Int64, raw: ArraySlice<UInt64>) -> Bool {
        var node = leaf
        let complete = Self.forEachFrame(raw) { address, frameFlags in
            guard node > 0 else { return false }
            let index = Int(node - 1)
            guard addresses[index] == address && flags[index] == frameFlags else { return false }
            node = parents[index]
            return true
        }
        return complete && node == 0 && leaf > 0
    }

    /// Calls `body` with each frame of a raw chain, leaf first, with its flags: context markers switch between
    /// kernel and user, and after the first frame of a context the entries are return addresses (they point
    /// after the call). Stops, returning false, when `body` does.
    @inline(__always)
    private static func forEachFrame(_ raw: ArraySlice<UInt64>, _ body: (UInt64, UInt8) -> Bool) -> Bool {
        var kernel = false
        var firstInContext = true
        for entry in raw {
            if entry >= contextMax {
                kernel = entry == contextKernel || entry == contextGuestKernel
                firstInContext = true
                continue
            }
            var frameFlags: UInt8 = kernel ? kernelFlag : 0
            if !firstInContext { frameFlags |= returnAddressFlag }
            firstInContext = false
            if !body(entry, frameFlags) { return false }
        }
        return true
    }

    /// Hands the nodes created since the last call to the writer.
    func takePending() -> [NewNode] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }
}
