import Foundation
import TprofStore
import TprofTestSupport
import XCTest

/// Call chains are stored once each, as a prefix tree, and every frame is resolved for its process.
final class StackStorageTests: XCTestCase {
    func testStacksAreStoredOnceAsAPrefixTree() throws {
        let recording = try CallGraphRecording.shared()
        let db = recording.database
        let nodes = try db.scalarInt("SELECT count(*) FROM stacks")
        let leaves = try db.scalarInt("SELECT count(DISTINCT stack_id) FROM samples")
        // What storing every chain whole would take: one row per frame of every sample.
        let framesReferenced = try db.scalarInt("""
            SELECT sum(s.depth + 1) FROM samples x JOIN stacks s ON s.id = x.stack_id
            """)
        let userNodes = try db.scalarInt("SELECT count(*) FROM stacks WHERE kernel = 0")
        let facts = "\(recording.samples) samples, \(nodes) stack nodes (\(userNodes) in user space), "
            + "\(leaves) distinct leaves, \(framesReferenced) frames referenced"
        print("stack storage: \(facts)")
        XCTAssertGreaterThan(recording.samples, 1500, facts)
        // User space: a node per distinct pc in leaf, helper_spin and rec, and one per call site: about 50.
        // Kernel nodes vary with the interrupts and preemptions the run met (50 to 170 seen on a busy machine).
        XCTAssertLessThan(userNodes, 100, facts)
        XCTAssertLessThan(nodes, 400, facts)
        XCTAssertLessThan(nodes * 20, framesReferenced, facts)
        XCTAssertLessThan(leaves, 200, facts)
        XCTAssertLessThan(leaves * 10, recording.samples, facts)

        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM samples WHERE coalesce(stack_id, 0) = 0"), 0,
                       "a sample of a -g recording has no stack")
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM samples WHERE stack_id NOT IN (SELECT id FROM stacks)"), 0,
                       "a sample's stack_id is not a stack")
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM stacks WHERE parent_id <> 0 AND parent_id NOT IN (SELECT id FROM stacks)
            """), 0, "a parent_id is neither 0 nor a stack")
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM stacks c LEFT JOIN stacks p ON p.id = c.parent_id
            WHERE (c.parent_id = 0 AND c.depth <> 0) OR (c.parent_id <> 0 AND c.depth <> p.depth + 1)
            """), 0, "a depth is not its parent's plus one")
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT parent_id, address, kernel, return_address
                                                      FROM stacks)) FROM stacks
            """), 0, "the same frame under the same parent is stored twice")
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM stacks WHERE parent_id >= id"), 0,
                       "a node is stored before its parent")

        // Every frame of every sampled chain is resolved for the sample's process.
        let unresolved = try db.scalarInt("""
            WITH RECURSIVE chain(pid, node) AS (
                SELECT DISTINCT pid, stack_id FROM samples
                UNION
                SELECT c.pid, s.parent_id FROM chain c JOIN stacks s ON s.id = c.node WHERE s.parent_id <> 0)
            SELECT count(*) FROM chain c
            WHERE NOT EXISTS (SELECT 1 FROM stacks s JOIN addresses a ON a.pid = c.pid AND a.pc = s.named_pc
                              AND a.valid_from = -9223372036854775808 WHERE s.id = c.node)
            """)
        XCTAssertEqual(unresolved, 0, "frames of sampled chains without a resolved address")
        // The joins the schema declares hold in a finished recording.
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM pragma_foreign_key_check"), 0,
                       "rows whose declared join finds nothing")
        // A sample's leaf is its own pc, not a return address.
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM samples x JOIN stacks s ON s.id = x.stack_id
            WHERE s.address <> x.pc OR s.return_address <> 0
            """), 0, "a leaf frame is not the sample's pc")
    }

    /// Return addresses point after the call; they are looked up at address - 1. helper_start's call is its
    /// last instruction, so its return address is helper_next's first byte.
    func testReturnAddressesAreResolvedAtTheCallInstruction() throws {
        let recording = try CallGraphRecording.shared()
        let db = recording.database
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM stack_addresses sa JOIN stacks s ON s.id = sa.stack_id
            JOIN addresses a ON a.id = sa.address_id WHERE a.pc <> s.address - s.return_address
            """), 0, "a frame is not looked up at its address (minus 1 for return addresses)")
        let helperFrames = try db.rows("""
            SELECT DISTINCT a.name, a.symbol_offset FROM stack_addresses sa JOIN stacks s ON s.id = sa.stack_id
            JOIN addresses a ON a.id = sa.address_id
            WHERE sa.pid = \(recording.helperPID) AND s.return_address = 1 AND a.name LIKE 'helper%'
              AND a.name <> 'helper_spin'
            """)
        let names = helperFrames.map { $0[0].stringValue }
        // (helper_spin is a return address too, where it calls cpu_seconds: not the frame looked at here.)
        XCTAssertEqual(names, ["helper_start"], "helper_spin's return address names \(names)")
        // The looked-up byte is helper_start's last one: its size from the symbol table, minus one.
        let nm = try ChildProcess.run("/usr/bin/nm", ["-S", recording.workbench.program])
        let size = nm.stdout.split(separator: "\n").compactMap { line -> Int64? in
            let fields = line.split(separator: " ")
            return fields.count == 4 && fields[3] == "helper_start" ? Int64(fields[1], radix: 16) : nil
        }.first
        if case .integer(let offset)? = helperFrames.first?[1], let size {
            XCTAssertEqual(offset, size - 1, "helper_start's call is not its last instruction; the test proves nothing")
        } else {
            XCTFail("no symbol offset or size for helper_start\n\(nm.stdout)")
        }
        guard let folded = report(recording.path, ["--folded", "--pid", String(recording.helperPID)]) else { return }
        let stacks = parseFolded(folded)
        XCTAssertFalse(folded.contains("helper_next"), folded)
        XCTAssertGreaterThan(sum(stacks.filter { $0.userPartEnds(with: ["main", "helper_start", "helper_spin"]) }),
                             recording.helperSamples * 3 / 4, folded)
    }

    func testMaxStackLimitsTheChain() throws {
        let workbench = try CallGraphWorkbench.shared()
        let path = try workbench.record("maxstack.db", options: ["-g", "--max-stack", "3"], arguments: ["0.3"])
        let db = try Database(path: path)
        let samples = try db.scalarInt("SELECT count(*) FROM samples")
        XCTAssertGreaterThan(samples, 150)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM samples WHERE coalesce(stack_id, 0) = 0"), 0)
        XCTAssertLessThan(try db.scalarInt("SELECT max(depth) FROM stacks"), 3, "a chain is longer than 3 frames")
        guard let folded = report(path, ["--folded"]) else { return }
        let stacks = parseFolded(folded)
        XCTAssertEqual(sum(stacks), samples)
        XCTAssertLessThanOrEqual(stacks.map(\.frames.count).max() ?? 99, 3, folded)
        // The innermost three frames are kept: outer;mid;leaf, and main;other;leaf.
        XCTAssertTrue(stacks.contains { $0.frames == ["outer", "mid", "leaf"] }, folded)
        XCTAssertTrue(stacks.contains { $0.frames == ["main", "other", "leaf"] }, folded)
        XCTAssertTrue(stacks.contains { $0.frames == ["rec", "rec", "leaf"] }, folded)
    }
}

private extension SQLiteValue {
    var stringValue: String {
        if case .text(let value) = self { return value }
        return "\(self)"
    }
}
