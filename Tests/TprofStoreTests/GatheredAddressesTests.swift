@testable import TprofStore
import TprofTestSupport
import XCTest

/// The (pid, address) pairs finishing names are gathered in memory, merged as they grow, and moved to a temp table
/// past a bound: each pair comes out once, in (pid, address) order, with every flag any of its copies had.
final class GatheredAddressesTests: XCTestCase {
    private struct Key: Hashable {
        var pid: Int32
        var pc: UInt64
    }

    func testPairsMergedAsTheyGrowComeOutOnceWithTheirFlagsInOrder() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store-gathered")
        let database = try RecordingDatabase(creating: directory.file("run.db"), force: false)
        var generator = SeededGenerator(seed: 0x9a7e)
        let flags = [GatheredAddresses.Flags.kernel, GatheredAddresses.Flags.sampled, GatheredAddresses.Flags.framed]
        for (pairsBeforeMerge, pairLimit) in [(3, 1 << 20), (50, 1 << 20), (1 << 16, 1 << 20), (50, 500), (3, 64)] {
            let label = "merging every \(pairsBeforeMerge), at most \(pairLimit) in memory"
            var gathered = GatheredAddresses(database: database.connection, pairLimit: pairLimit)
            gathered.pairsBeforeMerge = pairsBeforeMerge
            var expected: [Key: UInt32] = [:]
            for _ in 0..<5000 {
                let key = Key(pid: Int32.random(in: -1...20, using: &generator),
                              pc: UInt64.random(in: 0...200, using: &generator) &* 0x4000_0000_0000_0001)
                let flag = flags[Int.random(in: 0..<flags.count, using: &generator)]
                try gathered.append(pid: key.pid, pc: key.pc, flags: flag)
                expected[key, default: 0] |= flag
            }
            XCTAssertEqual(try gathered.finish(), expected.count, label)
            XCTAssertEqual(gathered.spilled, pairLimit < 1000, label)
            var previous: Key?
            var count = 0
            try gathered.forEach { pid, pc, pairFlags in
                if let previous { XCTAssertTrue((previous.pid, previous.pc) < (pid, pc), label) }
                previous = Key(pid: pid, pc: pc)
                XCTAssertEqual(expected[Key(pid: pid, pc: pc)], pairFlags, label)
                count += 1
            }
            XCTAssertEqual(count, expected.count, label)
            gathered.release()
            XCTAssertTrue(gathered.pairs.isEmpty)
        }
    }
}
