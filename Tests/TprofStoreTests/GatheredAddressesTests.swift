@testable import TprofStore
import TprofTestSupport
import XCTest

/// The (pid, address) pairs finishing names are gathered in memory, merged as they grow: each pair comes out once,
/// in (pid, address) order, with every flag any of its copies had.
final class GatheredAddressesTests: XCTestCase {
    private struct Key: Hashable {
        var pid: Int32
        var pc: UInt64
    }

    func testPairsMergedAsTheyGrowComeOutOnceWithTheirFlagsInOrder() {
        var generator = SeededGenerator(seed: 0x9a7e)
        let flags = [GatheredAddresses.Flags.kernel, GatheredAddresses.Flags.sampled, GatheredAddresses.Flags.framed]
        for pairsBeforeMerge in [3, 50, 1 << 18] {
            var gathered = GatheredAddresses()
            gathered.pairsBeforeMerge = pairsBeforeMerge
            var expected: [Key: UInt32] = [:]
            for _ in 0..<5000 {
                let key = Key(pid: Int32.random(in: -1...20, using: &generator),
                              pc: UInt64.random(in: 0...200, using: &generator) &* 0x4000_0000_0000_0001)
                let flag = flags[Int.random(in: 0..<flags.count, using: &generator)]
                gathered.append(pid: key.pid, pc: key.pc, flags: flag)
                expected[key, default: 0] |= flag
            }
            gathered.merge()
            let pairs = gathered.pairs
            XCTAssertEqual(pairs.count, expected.count, "merging every \(pairsBeforeMerge)")
            for (pair, next) in zip(pairs, pairs.dropFirst()) {
                XCTAssertTrue((pair.pid, pair.pc) < (next.pid, next.pc), "merging every \(pairsBeforeMerge)")
            }
            for pair in pairs {
                XCTAssertEqual(expected[Key(pid: pair.pid, pc: pair.pc)], pair.flags, "merging every \(pairsBeforeMerge)")
            }
            gathered.release()
            XCTAssertTrue(gathered.pairs.isEmpty)
        }
    }
}
