import Foundation
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

    func testDamagedStackRowsNeverTrapTheInterner() throws {
        let database = try makeDatabase()
        let db = database.connection
        try db.execute("""
            INSERT INTO stacks (id, parent_id, address, kernel, return_address, depth) VALUES
                (1, 0, 16, 0, 1, 9223372036854775807),
                (2, 99, 32, 0, 1, 1),
                (3, -7, 48, 1, 0, 0),
                (4, 4, 64, 0, 1, 3),
                (5, 1, 80, 0, 1, -5);
            """)
        let interner = StackInterner()
        try interner.load(from: db)

        // Children of the row whose depth is Int64.max, and of the row whose parent is itself.
        let deep = try XCTUnwrap(interner.intern([0x40, 16][...]))
        let underFive = try XCTUnwrap(interner.intern([0x50, 80, 16][...]))
        for leaf in [0, 1, 2, 3, 4, 5, 99, -1, Int64.max, Int64.min, deep, underFive] {
            _ = interner.kernelChain(leaf: leaf)
        }
        try interner.writePending(to: db)

        let tree = try storedTree(db)
        XCTAssertEqual(frames(tree, leaf: deep), [0x40, 16])
        XCTAssertEqual(frames(tree, leaf: underFive), [0x50, 80, 16])
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
            chains.append((raw, interner.intern(raw[...])))
            // The same chain again finds the same leaf.
            XCTAssertEqual(interner.intern(raw[...]), chains[round].leaf, "round \(round)")
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
