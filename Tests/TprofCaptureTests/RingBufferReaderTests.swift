import TprofCapture
import XCTest

/// RingBufferReader walks whole records between tail and head, across the end of the ring, and stops cleanly at a
/// malformed header.
final class RingBufferReaderTests: XCTestCase {
    private let id = PerfRecordBytes.SampleID(pid: 10, tid: 11, time: 5_000, cpu: 1)

    private func sample(_ n: UInt64) -> [UInt8] {
        PerfRecordBytes.sample(ip: 0x40_1000 + n, pid: 100, tid: 101, time: 1_000 + n, cpu: 1, period: 250_000,
                               cpuMode: 2)
    }

    func testRecordsBetweenTailAndHeadAreHandedOverWholeAndInOrder() throws {
        var ring = FakeRing(size: 1024, start: 0)
        let records = [
            sample(1),
            PerfRecordBytes.comm(pid: 100, tid: 100, name: "spin", exec: true, id: id),
            PerfRecordBytes.lost(id: 7, lost: 3, id: id),
            sample(2),
        ]
        for record in records { ring.append(record) }

        let (drained, seen) = try ring.drain(from: 0)

        assertDrained(drained, tail: ring.head, records: 4, malformed: false)
        XCTAssertEqual(seen, records)
    }

    func testEmptyRangeReadsNothingAndKeepsTheTail() throws {
        let ring = FakeRing(size: 256, start: 4096)

        let (drained, seen) = try ring.drain(from: 4096)

        assertDrained(drained, tail: 4096, records: 0, malformed: false)
        XCTAssertTrue(seen.isEmpty)
    }

    func testRecordStraddlingTheEndOfTheRingIsCopiedWhole() throws {
        let size = 128
        // Counters far beyond the size: they never wrap, only their position in the ring does.
        let start = UInt64(size) * 1_000_003 + UInt64(size - 16)
        var ring = FakeRing(size: size, start: start)
        let straddling = sample(1)
        let after = sample(2)
        ring.append(straddling)
        ring.append(after)
        XCTAssertLessThan(ring.head & UInt64(size - 1), start & UInt64(size - 1), "the head must have wrapped")

        let (drained, seen) = try ring.drain(from: start)

        assertDrained(drained, tail: ring.head, records: 2, malformed: false)
        XCTAssertEqual(seen, [straddling, after])
        XCTAssertEqual(decode(seen[0]), .sample(Sample(time: 1_001, pid: 100, tid: 101, cpu: 1, event: 0,
                                                       mode: .user, pc: 0x40_1001, period: 250_000)))
    }

    func testHeaderStraddlingTheEndOfTheRingIsRead() throws {
        // The kernel keeps records 8-byte aligned; an odd position puts the header's size field across the end.
        let size = 64
        let start = UInt64(size) * 77 + UInt64(size - 7)
        var ring = FakeRing(size: size, start: start)
        let record = sample(3)
        ring.append(record)

        let (drained, seen) = try ring.drain(from: start)

        assertDrained(drained, tail: ring.head, records: 1, malformed: false)
        XCTAssertEqual(seen, [record])
    }

    func testRecordEndingExactlyAtTheEndOfTheRingNeedsNoCopy() throws {
        let start = UInt64(128 * 9 + 80)
        var ring = FakeRing(size: 128, start: start)
        let record = sample(4)
        ring.append(record)
        XCTAssertEqual(ring.head & 127, 0, "the record must end exactly at the end of the ring")

        let (drained, seen) = try ring.drain(from: start)

        assertDrained(drained, tail: ring.head, records: 1, malformed: false)
        XCTAssertEqual(seen, [record])
    }

    func testDrainResumesFromTheReturnedTail() throws {
        var ring = FakeRing(size: 256, start: 1 << 40)
        ring.append(sample(1))
        ring.append(sample(2))
        let (first, _) = try ring.drain(from: 1 << 40)
        ring.append(sample(3))
        ring.append(sample(4))
        ring.append(sample(5))

        let (second, seen) = try ring.drain(from: first.tail)

        XCTAssertEqual(first.records, 2)
        assertDrained(second, tail: ring.head, records: 3, malformed: false)
        XCTAssertEqual(seen, [sample(3), sample(4), sample(5)])
    }

    func testZeroSizeHeaderIsMalformedAndSkipsToHead() throws {
        var ring = FakeRing(size: 256, start: 512)
        ring.append(sample(1))
        ring.appendHeader(size: 0, advance: 16)
        ring.append(sample(2))

        let (drained, seen) = try ring.drain(from: 512)

        assertDrained(drained, tail: ring.head, records: 1, malformed: true)
        XCTAssertEqual(seen, [sample(1)])
    }

    func testHeaderSmallerThanItselfIsMalformed() throws {
        var ring = FakeRing(size: 256, start: 0)
        ring.appendHeader(size: 4, advance: 8)
        ring.append(sample(1))

        let (drained, seen) = try ring.drain(from: 0)

        assertDrained(drained, tail: ring.head, records: 0, malformed: true)
        XCTAssertTrue(seen.isEmpty)
    }

    func testSizeLargerThanAvailableIsMalformedAndSkipsToHead() throws {
        var ring = FakeRing(size: 256, start: 256 * 5 + 200)
        ring.append(sample(1))
        ring.appendHeader(size: 64, advance: 24)

        let (drained, seen) = try ring.drain(from: 256 * 5 + 200)

        assertDrained(drained, tail: ring.head, records: 1, malformed: true)
        XCTAssertEqual(seen, [sample(1)])
    }

    func testFewerThanEightBytesBeforeHeadIsMalformed() throws {
        var ring = FakeRing(size: 256, start: 0)
        ring.append(sample(1))
        let complete = ring.head
        ring.append(sample(2))

        let (drained, seen) = try ring.drain(from: 0, upTo: complete + 4)

        assertDrained(drained, tail: complete + 4, records: 1, malformed: true)
        XCTAssertEqual(seen, [sample(1)])
    }

    private func assertDrained(_ drained: RingBufferReader.Drained, tail: UInt64, records: Int, malformed: Bool,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(drained.tail, tail, "tail", file: file, line: line)
        XCTAssertEqual(drained.records, records, "records", file: file, line: line)
        XCTAssertEqual(drained.malformed, malformed, "malformed", file: file, line: line)
    }
}
