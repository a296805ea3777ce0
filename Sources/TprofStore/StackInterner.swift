import TprofCapture

/// Interns call chains into the prefix tree of the `stacks` table: each distinct stack is stored once, as a chain
/// of nodes from its root, and a sample keeps only its leaf's id. Lives on the writer thread.
///
/// The hot path runs once per sample with a chain of tens of frames, so it avoids Swift's hashing and dictionaries:
/// a whole chain is hashed once (64-bit, over its frames' addresses) and looked up in an open-addressing table
/// of leaves, the hit checked frame by frame against the tree; only a chain seen for the first time walks the tree
/// from its root, one open-addressing probe a frame. The tables and the nodes live in manually managed memory read
/// through local pointers, so no access on the path is checked for exclusivity at run time.
///
/// Memory is bounded however long the recording: once the tree in memory holds `nodeBudget` nodes, the next
/// `writePending` (after the nodes are in the table) starts a new tree with the following ids. A chain seen again
/// after that gets new nodes, so the `stacks` table is a forest of trees, each a contiguous range of ids whose
/// parents stay inside it; the same path may then appear under two leaves.
public final class StackInterner {
    /// Nodes held in memory before a new tree is started: about 16 MB of tables (16-byte nodes, node slots at
    /// most half full, chain slots).
    public static let defaultNodeBudget = 262_000

    /// One node of the tree in memory, indexed by its local id - 1 (local id = id - `idBase`). 16 bytes.
    struct Node {
        var address: UInt64
        /// The parent's local id, 0 for a root.
        var parent: UInt32
        /// Frames above this one, saturated (a chain is at most a few thousand frames: one perf record).
        var depth: UInt16
        var flags: FrameFlags
    }

    private let nodeBudget: Int
    /// The id of the current tree's first node, less one.
    private var idBase: Int64

    /// Nodes of the current tree, `nodeCount` of `nodeCapacity` valid.
    private var nodes: UnsafeMutablePointer<Node>
    private var nodeCount = 0
    private var nodeCapacity = 0

    /// Open-addressing table of nodes by (parent, address, flags): each slot is the key's hash in its upper 32 bits
    /// and the local id in its lower 32 (0: empty). Power-of-two size, at most half full.
    private var nodeSlots: UnsafeMutablePointer<UInt64>
    private var nodeSlotMask = 0
    private var nodeSlotsUsed = 0

    /// Open-addressing table of whole chains: the chain's hash and its leaf's local id (0: empty).
    struct ChainSlot {
        var hash: UInt64
        var leaf: UInt32
    }
    private var chainSlots: UnsafeMutablePointer<ChainSlot>
    private var chainSlotMask = 0
    private var chainSlotsUsed = 0

    /// Local ids of the nodes created since the last `writePending`, in creation order (ascending).
    private var pendingFrom = 1

    /// - Parameters:
    ///   - firstID: the id of the first node created (the `stacks` table's ids below it are left alone).
    ///   - nodeBudget: nodes held in memory before a new tree is started.
    public init(firstID: Int64 = 1, nodeBudget: Int = StackInterner.defaultNodeBudget) {
        self.idBase = max(0, firstID - 1)
        self.nodeBudget = max(1, min(nodeBudget, Int(UInt32.max) / 2))
        // Sized for a short -g recording (a few hundred kB); they double as they fill.
        nodeCapacity = 8192
        nodes = .allocate(capacity: nodeCapacity)
        nodeSlotMask = 16383
        nodeSlots = .allocate(capacity: nodeSlotMask + 1)
        nodeSlots.initialize(repeating: 0, count: nodeSlotMask + 1)
        chainSlotMask = 4095
        chainSlots = .allocate(capacity: chainSlotMask + 1)
        chainSlots.initialize(repeating: ChainSlot(hash: 0, leaf: 0), count: chainSlotMask + 1)
    }

    deinit {
        nodes.deallocate()
        nodeSlots.deallocate()
        chainSlots.deallocate()
    }

    /// Inserts the nodes created since the last call into `stacks`.
    public func writePending(to db: SQLiteDatabase) throws {
        guard pendingFrom <= nodeCount else { return }
        let insert = try db.prepare(
            "INSERT INTO stacks (id, parent_id, address, kernel, return_address, depth) VALUES (?, ?, ?, ?, ?, ?)")
        try writePending(using: insert)
    }

    /// Inserts the pending nodes with statements prepared by the caller (kept across batches by the writer):
    /// `many` inserts `rowsPerInsert` rows at once, `one` a single row. Once every node is in the table, a tree
    /// over its budget is let go and the next node starts a new one.
    func writePending(using one: SQLiteStatement, many: SQLiteStatement? = nil, rowsPerInsert: Int = 1) throws {
        while pendingFrom <= nodeCount {
            let left = nodeCount - pendingFrom + 1
            let statement: SQLiteStatement
            let rows: Int
            if let many, left >= rowsPerInsert {
                statement = many
                rows = rowsPerInsert
            } else {
                statement = one
                rows = 1
            }
            var parameter: Int32 = 1
            for row in 0..<rows {
                let local = pendingFrom + row
                let node = nodes[local - 1]
                statement.bind(parameter, idBase + Int64(local))
                statement.bind(parameter + 1, node.parent == 0 ? 0 : idBase + Int64(node.parent))
                statement.bind(parameter + 2, Int64(bitPattern: node.address))
                statement.bind(parameter + 3, node.flags.contains(.kernel) ? 1 : 0)
                statement.bind(parameter + 4, node.flags.contains(.returnAddress) ? 1 : 0)
                statement.bind(parameter + 5, Int64(node.depth))
                parameter += 6
            }
            try statement.runBound()
            pendingFrom += rows
        }
        // Each chain slot holds a distinct chain's leaf, so the chain table is never fuller than the node array.
        if nodeCount >= nodeBudget { startNewTree() }
    }

    /// Distinct stack nodes so far, in every tree.
    var count: Int { Int(idBase) + nodeCount }

    /// The leaf id for a call chain, or nil when it has no frames.
    public func intern(_ chain: CallChainFrames) -> Int64? {
        chain.addresses.withUnsafeBufferPointer { addresses in
            chain.flags.withUnsafeBufferPointer { intern(addresses, flags: $0) }
        }
    }

    /// The leaf id for a call chain given as its frames' addresses, leaf first, and their flags (as many), or nil
    /// when it has no frames.
    public func intern(_ addresses: UnsafeBufferPointer<UInt64>, flags: UnsafeBufferPointer<FrameFlags>) -> Int64? {
        guard !addresses.isEmpty, addresses.count == flags.count else { return nil }
        // Most chains repeat: look the whole chain up by its hash and check the candidate against the tree.
        let hash = Self.chainHash(addresses)
        let chainMask = chainSlotMask
        let chains = chainSlots
        var slot = Int(truncatingIfNeeded: hash) & chainMask
        while true {
            let entry = chains[slot]
            if entry.leaf == 0 { break }
            if entry.hash == hash && matches(leaf: entry.leaf, addresses: addresses, flags: flags) {
                return idBase + Int64(entry.leaf)
            }
            slot = (slot &+ 1) & chainMask
        }
        let leaf = insertChain(addresses, flags: flags)
        // `slot` is the empty slot the probe ended on; the table never fills, as it grows at half.
        chains[slot] = ChainSlot(hash: hash, leaf: leaf)
        chainSlotsUsed += 1
        if chainSlotsUsed * 2 > chainSlotMask { growChainSlots() }
        return idBase + Int64(leaf)
    }

    /// Walks the tree from the root along a chain not seen before, adding the nodes it lacks; its leaf's local id.
    private func insertChain(_ addresses: UnsafeBufferPointer<UInt64>,
                             flags: UnsafeBufferPointer<FrameFlags>) -> UInt32 {
        var parent: UInt32 = 0
        var index = addresses.count - 1
        while index >= 0 {
            parent = findOrAddNode(parent: parent, address: addresses[index], flags: flags[index])
            index -= 1
        }
        return parent
    }

    /// The local id of the node (parent, address, flags), added when missing.
    @inline(__always)
    private func findOrAddNode(parent: UInt32, address: UInt64, flags: FrameFlags) -> UInt32 {
        let hash = Self.nodeHash(parent: parent, address: address, flags: flags)
        let tag = hash & 0xffff_ffff_0000_0000
        let mask = nodeSlotMask
        let slots = nodeSlots
        let nodes = self.nodes
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let value = slots[slot]
            if value == 0 { break }
            if value & 0xffff_ffff_0000_0000 == tag {
                let id = UInt32(truncatingIfNeeded: value)
                let node = nodes[Int(id) - 1]
                if node.address == address && node.parent == parent && node.flags == flags { return id }
            }
            slot = (slot &+ 1) & mask
        }
        let parentDepth = parent == 0 ? nil : nodes[Int(parent) - 1].depth
        let depth = parentDepth.map { $0 == UInt16.max ? $0 : $0 + 1 } ?? 0
        appendNode(Node(address: address, parent: parent, depth: depth, flags: flags))
        // A tree is let go at its budget (far below 2^31 nodes), so a local id always fits the slot's lower half.
        let id = UInt32(nodeCount)
        slots[slot] = tag | UInt64(id)
        nodeSlotsUsed += 1
        if nodeSlotsUsed * 2 > nodeSlotMask { growNodeSlots() }
        return id
    }

    /// True when the chain from `leaf` (a local id) to the root is exactly these frames.
    @inline(__always)
    private func matches(leaf: UInt32, addresses: UnsafeBufferPointer<UInt64>,
                         flags: UnsafeBufferPointer<FrameFlags>) -> Bool {
        let nodes = self.nodes
        var node = leaf
        for index in addresses.indices {
            guard node > 0 else { return false }
            let entry = nodes[Int(node) - 1]
            guard entry.address == addresses[index] && entry.flags == flags[index] else { return false }
            node = entry.parent
        }
        return node == 0
    }

    /// Lets the tree in memory go, its nodes all written: ids go on from the last one.
    private func startNewTree() {
        idBase += Int64(nodeCount)
        nodeCount = 0
        pendingFrom = 1
        nodeSlots.update(repeating: 0, count: nodeSlotMask + 1)
        nodeSlotsUsed = 0
        chainSlots.update(repeating: ChainSlot(hash: 0, leaf: 0), count: chainSlotMask + 1)
        chainSlotsUsed = 0
    }

    // MARK: Hashing and storage

    /// FNV-1a over the 64-bit addresses, then mixed so every bit of every address reaches the low bits. The flags
    /// are left out (one load fewer a frame on the hot path): chains with the same addresses and other flags are
    /// rare, and the check against the tree tells them apart.
    @inline(__always)
    static func chainHash(_ addresses: UnsafeBufferPointer<UInt64>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for address in addresses { hash = (hash ^ address) &* 0x100_0000_01b3 }
        return murmurFinalize(hash ^ UInt64(addresses.count))
    }

    @inline(__always)
    static func nodeHash(parent: UInt32, address: UInt64, flags: FrameFlags) -> UInt64 {
        murmurFinalize(address &* 0x9e37_79b9_7f4a_7c15 ^ (UInt64(parent) &* 0xc2b2_ae3d_27d4_eb4f)
            ^ UInt64(flags.rawValue))
    }

    @inline(__always)
    private func appendNode(_ node: Node) {
        if nodeCount == nodeCapacity { growNodes() }
        (nodes + nodeCount).initialize(to: node)
        nodeCount += 1
    }

    @inline(never)
    private func growNodes() {
        let capacity = nodeCapacity * 2
        let grown = UnsafeMutablePointer<Node>.allocate(capacity: capacity)
        grown.moveInitialize(from: nodes, count: nodeCount)
        nodes.deallocate()
        nodes = grown
        nodeCapacity = capacity
    }

    @inline(never)
    private func growNodeSlots() {
        let oldSlots = nodeSlots
        let oldCount = nodeSlotMask + 1
        let count = oldCount * 2
        let mask = count - 1
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        slots.initialize(repeating: 0, count: count)
        for index in 0..<oldCount {
            let value = oldSlots[index]
            guard value != 0 else { continue }
            let node = nodes[Int(truncatingIfNeeded: value & 0xffff_ffff) - 1]
            // The stored tag is the hash's upper half; the position needs its lower half, so hash again.
            let hash = Self.nodeHash(parent: node.parent, address: node.address, flags: node.flags)
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot &+ 1) & mask }
            slots[slot] = value
        }
        oldSlots.deallocate()
        nodeSlots = slots
        nodeSlotMask = mask
    }

    @inline(never)
    private func growChainSlots() {
        let oldSlots = chainSlots
        let oldCount = chainSlotMask + 1
        let count = oldCount * 2
        let mask = count - 1
        let slots = UnsafeMutablePointer<ChainSlot>.allocate(capacity: count)
        slots.initialize(repeating: ChainSlot(hash: 0, leaf: 0), count: count)
        for index in 0..<oldCount {
            let entry = oldSlots[index]
            guard entry.leaf != 0 else { continue }
            var slot = Int(truncatingIfNeeded: entry.hash) & mask
            while slots[slot].leaf != 0 { slot = (slot &+ 1) & mask }
            slots[slot] = entry
        }
        oldSlots.deallocate()
        chainSlots = slots
        chainSlotMask = mask
    }
}
