import Foundation
import TprofCapture
@testable import TprofStore
import TprofTestSupport
import XCTest

/// A long recording's `stacks` table is a forest (the recorder lets a full tree go and starts another); finishing
/// walks it a range of trees at a time and must find exactly the frames one walk over the whole table finds.
final class StackForestWalkTests: XCTestCase {
    private struct Frame: Hashable {
        var pid: Int64
        var stackID: Int64
        var pc: UInt64
    }

    func testAForestWalkedRangeByRangeGivesEveryProcessItsFrames() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store-forest")
        let database = try RecordingDatabase(creating: directory.file("run.db"), force: false)
        let db = database.connection
        let interner = StackInterner(nodeBudget: 40)
        var generator = SeededGenerator(seed: 0xf0e5)
        var leaves: [(pid: Int64, leaf: Int64)] = []
        try db.execute("BEGIN")
        let count = try db.prepare("""
            INSERT OR IGNORE INTO sample_counts (pid, tid, cpu, event, mode, pc, stack_id, samples, period)
            VALUES (?, ?, 0, 0, 2, ?, ?, 1, 1)
            """)
        for round in 0..<400 {
            let pid = Int64.random(in: 1...4, using: &generator)
            let raw = (0..<Int.random(in: 1...10, using: &generator)).map { _ in
                UInt64.random(in: 0x1000...0x1030, using: &generator)
            }
            let leaf = try XCTUnwrap(interner.intern(CallChainFrames(perfCallChain: raw)))
            leaves.append((pid, leaf))
            try count.run([.integer(pid), .integer(pid), .integer(Int64(raw[0])), .integer(leaf)])
            if round % 5 == 4 { try interner.writePending(to: db) }
        }
        try interner.writePending(to: db)
        try db.execute("COMMIT")

        // What every (pid, node) must be named by: walked here from the stored rows.
        let rows = try db.prepare("SELECT id, parent_id, address, return_address FROM stacks")
        var nodes: [Int64: (parent: Int64, pc: UInt64)] = [:]
        while try rows.step() {
            let address = UInt64(bitPattern: rows.int64(2))
            nodes[rows.int64(0)] = (rows.int64(1), rows.int64(3) != 0 ? address - 1 : address)
        }
        var expected = Set<Frame>()
        for (pid, leaf) in leaves {
            var node = leaf
            while node != 0, let entry = nodes[node] {
                expected.insert(Frame(pid: pid, stackID: node, pc: entry.pc))
                node = entry.parent
            }
        }
        let trees = nodes.values.filter { $0.parent == 0 }.count
        XCTAssertGreaterThan(nodes.count, 200)

        // Merging the gathered pairs every few, and moving them to a temp table once they are more than a few (as a
        // long recording does at half a million), loses none.
        let cases = [(1, 1 << 16, 1 << 20), (25, 1 << 16, 1 << 20), (100, 7, 1 << 20), (nodes.count + 1, 7, 1 << 20),
                     (25, 7, 40)]
        for (nodesPerRange, pairsBeforeMerge, pairLimit) in cases {
            try db.execute("DELETE FROM addresses")
            let tables = try SymbolTables(database: db)
            tables.nodesPerWalkRange = nodesPerRange
            tables.gathered.pairsBeforeMerge = pairsBeforeMerge
            tables.gathered.pairLimit = pairLimit
            try db.execute("BEGIN")
            _ = try tables.gatherSampledAddresses()
            XCTAssertEqual(tables.gathered.spilled, pairLimit < 1000, "\(pairLimit) pairs in memory")
            var gathered = Set<Frame>()
            try tables.forEachSampledAddress { address in
                guard address.framed else { return }
                gathered.insert(Frame(pid: Int64(address.pid), stackID: 0, pc: address.pc))
                try tables.insertAddress(AddressRow(name: String(address.pc)), pid: address.pid, pc: address.pc,
                                         valid: SymbolTables.unbounded)
            }
            try tables.finish()
            try db.execute("COMMIT")

            XCTAssertEqual(gathered, Set(expected.map { Frame(pid: $0.pid, stackID: 0, pc: $0.pc) }),
                           "\(nodesPerRange) nodes a range, \(trees) trees, \(pairLimit) pairs in memory")
            // The view that names each (pid, node) through the gathered addresses.
            let written = try db.prepare("SELECT pid, stack_id, symbol FROM stack_frames")
            var frames = Set<Frame>()
            while try written.step() {
                frames.insert(Frame(pid: written.int64(0), stackID: written.int64(1),
                                    pc: UInt64(written.text(2) ?? "") ?? 0))
            }
            XCTAssertEqual(frames, expected, "\(nodesPerRange) nodes a range, \(trees) trees")
        }
    }
}
