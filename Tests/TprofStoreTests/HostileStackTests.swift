import Foundation
import TprofCapture
import TprofStore
import TprofTestSupport
import XCTest

/// Call chains come from the kernel and the profiled program's stack, and the stack rows from a file that may be
/// damaged: the interner never traps on them, and a chain's frames come back from the tree exactly.
final class HostileStackTests: XCTestCase {
    /// Entries at or above PERF_CONTEXT_MAX are context markers, not frames.
    private let contextMax = UInt64(bitPattern: -4095)
    private let markers: [UInt64] = [UInt64(bitPattern: -128), UInt64(bitPattern: -512), UInt64(bitPattern: -2176),
                                     UInt64(bitPattern: -4095), UInt64(bitPattern: -1), UInt64(bitPattern: -3000)]

    private func makeDatabase() throws -> RecordingDatabase {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store-stacks")
        return try RecordingDatabase(creating: directory.file("run.db"), force: false)
    }

    /// The `stacks` table: each node's parent and address.
    private func storedTree(_ db: SQLiteDatabase) throws -> [Int64: (parent: Int64, address: UInt64)] {
        let rows = try db.prepare("SELECT id, parent_id, address FROM stacks")
        var nodes: [Int64: (parent: Int64, address: UInt64)] = [:]
        while try rows.step() { nodes[rows.int64(0)] = (rows.int64(1), UInt64(bitPattern: rows.int64(2))) }
        return nodes
    }

    /// The addresses from `leaf` to the root in a stored tree.
    private func frames(_ nodes: [Int64: (parent: Int64, address: UInt64)], leaf: Int64) -> [UInt64] {
        var frames: [UInt64] = []
        var node = leaf
        while node != 0, let entry = nodes[node], frames.count <= nodes.count {
            frames.append(entry.address)
            node = entry.parent
        }
        return frames
    }

    func testDamagedStackRowsNeverTrapTheUnwindingStep() throws {
        let database = try makeDatabase()
        let db = database.connection
        try db.execute("""
            INSERT INTO stacks (id, parent_id, address, kernel, return_address, depth) VALUES
                (1, 0, 16, 1, 0, 9223372036854775807),
                (2, 99, 32, 1, 1, 1),
                (3, -7, 48, 1, 0, 0),
                (4, 4, 64, 1, 1, 3),
                (5, 1, 80, 1, 1, -5),
                (6, 7, 96, 1, 1, 2),
                (7, 6, 112, 1, 1, 2);
            """)
        let tables = try UserStackTables(database: db, schema: "main")
        // A missing parent, a negative one, a node its own parent and a cycle of two all end.
        for leaf in [0, 1, 2, 3, 4, 5, 6, 7, 99, -1, Int64.max, Int64.min] {
            let frames = try tables.kernelFrames(leaf: leaf)
            XCTAssertLessThanOrEqual(frames.count, 4096, "leaf \(leaf)")
        }
        XCTAssertEqual(try tables.kernelFrames(leaf: 5), [80, 16])

        // Unwound chains get nodes after the damaged ones and come back exactly.
        let interner = StackInterner(firstID: try tables.nextStackID())
        let leaf = try XCTUnwrap(interner.intern(
            CallChainFrames(perfCallChain: [UInt64(bitPattern: -128), 80, 16, UInt64(bitPattern: -512), 0x40])))
        try interner.writePending(to: db)
        XCTAssertGreaterThan(leaf, 7)
        XCTAssertEqual(frames(try storedTree(db), leaf: leaf), [80, 16, 0x40])
    }

    func testATreeOverItsBudgetIsLetGoAndEveryChainStillComesBack() throws {
        let database = try makeDatabase()
        let db = database.connection
        let interner = StackInterner(nodeBudget: 50)
        var generator = SeededGenerator(seed: 0xb0d9e7)
        var chains: [(raw: [UInt64], leaf: Int64)] = []
        try db.execute("BEGIN")
        for round in 0..<300 {
            let raw = (0..<Int.random(in: 1...12, using: &generator)).map { _ in UInt64.random(in: 1...40, using: &generator) }
            let leaf = try XCTUnwrap(interner.intern(CallChainFrames(perfCallChain: raw)))
            chains.append((raw, leaf))
            // Nodes are written (and a full tree let go) only between batches, as the writer does.
            if round % 7 == 6 { try interner.writePending(to: db) }
        }
        try interner.writePending(to: db)
        try db.execute("COMMIT")

        let tree = try storedTree(db)
        for (round, chain) in chains.enumerated() {
            XCTAssertEqual(frames(tree, leaf: chain.leaf), chain.raw, "round \(round)")
        }
        // Ids are dense and every parent lies inside its own tree: before its child.
        XCTAssertEqual(Set(tree.keys), Set(1...Int64(tree.count)))
        for (id, node) in tree { XCTAssertLessThan(node.parent, id) }
        // Several trees were made: more nodes than one tree of every chain has (one node per distinct path from
        // a root), and more roots than there are distinct root addresses.
        var paths = Set<[UInt64]>()
        for chain in chains {
            for length in 1...chain.raw.count { paths.insert(Array(chain.raw.suffix(length))) }
        }
        XCTAssertGreaterThan(tree.count, paths.count)
        let rootAddresses = Set(chains.map { $0.raw.last ?? 0 })
        XCTAssertGreaterThan(tree.values.filter { $0.parent == 0 }.count, rootAddresses.count)
    }

    func testHostileCallChainsInternToExactlyTheirFrames() throws {
        let database = try makeDatabase()
        let db = database.connection
        let interner = StackInterner()
        var generator = SeededGenerator(seed: 0x5eed_c4a1)
        var chains: [(raw: [UInt64], leaf: Int64?)] = []
        for round in 0..<400 {
            let length = round % 50 == 0 ? 2000 : Int.random(in: 0...40, using: &generator)
            let raw = (0..<length).map { _ -> UInt64 in
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: return markers.randomElement(using: &generator) ?? 0
                case 1: return boundaryValues.randomElement(using: &generator) ?? 0
                default: return UInt64.random(in: 0...0x10_0000, using: &generator)
                }
            }
            chains.append((raw, interner.intern(CallChainFrames(perfCallChain: raw))))
            // The same chain again finds the same leaf.
            XCTAssertEqual(interner.intern(CallChainFrames(perfCallChain: raw)), chains[round].leaf, "round \(round)")
        }
        try db.execute("BEGIN")
        try interner.writePending(to: db)
        try db.execute("COMMIT")

        let tree = try storedTree(db)
        for (round, chain) in chains.enumerated() {
            let expected = chain.raw.filter { $0 < contextMax }
            guard let leaf = chain.leaf else {
                XCTAssertTrue(expected.isEmpty, "round \(round): a chain with frames has a leaf")
                continue
            }
            XCTAssertEqual(frames(tree, leaf: leaf), expected, "round \(round)")
        }
    }
}
