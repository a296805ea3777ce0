/// The stored call chains of a recording as `addresses` ids, for reports and exports: a process's frame at a stack
/// node is named by that process's whole-run `addresses` row of the node's named address (the sampled address, or
/// a return address less one). Works on files of every schema version (a report gives those before schema 4 an
/// empty TEMP `stacks`, `OlderTables`): the named address is computed here rather than read from the `named_pc`
/// column that only schema 7 and later have.
public struct StackChains {
    /// Parent and named address of each node. Ids are dense in files tprof writes, so arrays indexed by id hold
    /// them (12 bytes a node); a file with sparse ids falls back to a dictionary.
    private var parents: [Int32] = []
    private var namedPCs: [UInt64] = []
    private var kernel: [Bool] = []
    private var sparse: [Int64: Node] = [:]
    private var addressIDs: [ProcessAddress: Int64] = [:]

    /// One frame of a chain: the `addresses` row that names it, and whether it is a kernel frame.
    public struct Frame {
        public var addressID: Int64
        public var kernel: Bool
    }

    private struct Node {
        var parent: Int64
        var namedPC: UInt64
        var kernel: Bool
    }

    private struct ProcessAddress: Hashable {
        var pid: Int64
        var pc: UInt64
    }

    /// Reads every node of `stacks` and every whole-run address row.
    public init(database db: SQLiteDatabase) throws {
        let count = try db.scalarInt("SELECT count(*) FROM stacks") ?? 0
        guard count > 0 else { return }
        let maxID = try db.scalarInt("SELECT max(id) FROM stacks") ?? 0
        let dense = Self.idsAreDense(count: count, maxID: maxID)
        if dense {
            parents = [Int32](repeating: -1, count: Int(maxID) + 1)
            namedPCs = [UInt64](repeating: 0, count: Int(maxID) + 1)
            kernel = [Bool](repeating: false, count: Int(maxID) + 1)
        }
        let nodes = try db.prepare("SELECT id, parent_id, address, return_address, kernel FROM stacks")
        while try nodes.step() {
            let id = nodes.int64(0)
            let parent = nodes.int64(1)
            let address = UInt64(bitPattern: nodes.int64(2))
            let namedPC = Self.namedPC(address: address, returnAddress: nodes.int64(3) != 0)
            let isKernel = nodes.int64(4) != 0
            if dense, id > 0 {
                // A parent that is no node of this file (damaged) ends the chain like a root.
                parents[Int(id)] = parent > 0 && parent <= maxID ? Int32(parent) : 0
                namedPCs[Int(id)] = namedPC
                kernel[Int(id)] = isKernel
            } else if !dense {
                sparse[id] = Node(parent: parent, namedPC: namedPC, kernel: isKernel)
            }
        }
        let addresses = try db.prepare("SELECT pid, pc, id FROM addresses WHERE valid_from = ?")
        addresses.bind(1, Int64.min)
        while try addresses.step() {
            addressIDs[ProcessAddress(pid: addresses.int64(0), pc: UInt64(bitPattern: addresses.int64(1)))] =
                addresses.int64(2)
        }
    }

    /// The address a frame is named by (the `named_pc` of schema 7): a return address less one, so that a call at
    /// the very end of a function is not credited to the next one.
    public static func namedPC(address: UInt64, returnAddress: Bool) -> UInt64 {
        returnAddress ? address &- 1 : address
    }

    /// Whether `stacks` ids are dense enough (as tprof writes them) to index arrays by id.
    public static func idsAreDense(count: Int64, maxID: Int64) -> Bool {
        maxID > 0 && maxID < Int64(Int32.max) && maxID <= 2 * count + 1024
    }

    /// The frames of the chain that ends at `leaf` in process `pid`, leaf first; a frame with no address row (a
    /// damaged file) is left out, and a walk stops at a missing node or after `stackWalkLimit` frames.
    public func frames(pid: Int64, leaf: Int64) -> [Frame] {
        var result: [Frame] = []
        var id = leaf
        var steps = 0
        while id > 0, steps < stackWalkLimit, let node = self.node(id) {
            if let addressID = addressIDs[ProcessAddress(pid: pid, pc: node.namedPC)] {
                result.append(Frame(addressID: addressID, kernel: node.kernel))
            }
            id = node.parent
            steps += 1
        }
        return result
    }

    private func node(_ id: Int64) -> Node? {
        if sparse.isEmpty {
            guard id < Int64(parents.count), parents[Int(id)] >= 0 else { return nil }
            return Node(parent: Int64(parents[Int(id)]), namedPC: namedPCs[Int(id)], kernel: kernel[Int(id)])
        }
        return sparse[id]
    }
}
