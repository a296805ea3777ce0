import TprofCapture
import XCTest

/// Every ring record lands in exactly one counter through the backend's decoding path (`deliver`): samples in
/// `read`, records of unused types in `ignoredRecords`, undecodable ones in `malformedRecords` with the bytes skipped
/// after a bad header in `malformedBytes`; and read = written + overflow + dropbuf_sample + unwritten still holds.
final class RecordAccountingTests: XCTestCase {
    private let id = PerfRecordBytes.SampleID(pid: 10, tid: 11, time: 5_000, cpu: 1)

    private func sample(_ n: UInt64) -> [UInt8] {
        PerfRecordBytes.sample(ip: 0x40_1000 + n, pid: 100, tid: 101, time: 1_000 + n, cpu: 1, period: 1, cpuMode: 2)
    }

    /// What delivering a ring's records did: the new tail, the CPU's counters once the writer has written every
    /// buffer, and the side-band records queued.
    private struct Delivered {
        var tail: UInt64
        var statistics: BufferList.CPUStatistics
        var sideband: Int
    }

    private func deliver(_ ring: FakeRing, from tail: UInt64, upTo head: UInt64? = nil,
                         decoder: PerfRecordDecoder = PerfRecordDecoder(event: 0)) throws -> Delivered {
        let list = BufferList(cpus: [1], configuration: .init(bufferCapacity: 64, limit: 4, frameCapacity: 4096))
        let sink = CPUSampleSink(cpu: 1, list: list, flushInterval: UInt64.max, now: 0)
        var reader = RingBufferReader()
        let newTail = try ring.data.withUnsafeBytes { buffer -> UInt64 in
            guard let base = buffer.baseAddress else { throw FakeRing.RingError.empty }
            return reader.deliver(data: base, size: buffer.count, tail: tail, head: head ?? ring.head,
                                  decoder: decoder, into: sink, now: 0)
        }
        sink.flush(now: 0)
        list.close()
        let batch = list.takeBatch(timeout: 0)
        list.release(batch.buffers)
        let statistics = try XCTUnwrap(list.statistics().first)
        return Delivered(tail: newTail, statistics: statistics, sideband: batch.sideband.count)
    }

    /// The counters every test checks, and the sample invariant.
    private func assertAccounted(_ delivered: Delivered, tail: UInt64, read: UInt64, ignored: UInt64,
                                 malformed: UInt64, skippedBytes: UInt64, sideband: Int = 0,
                                 file: StaticString = #filePath, line: UInt = #line) {
        let c = delivered.statistics.counters
        XCTAssertEqual(delivered.tail, tail, "tail", file: file, line: line)
        XCTAssertEqual(c.read, read, "read", file: file, line: line)
        XCTAssertEqual(c.ignoredRecords, ignored, "ignoredRecords", file: file, line: line)
        XCTAssertEqual(c.malformedRecords, malformed, "malformedRecords", file: file, line: line)
        XCTAssertEqual(c.malformedBytes, skippedBytes, "malformedBytes", file: file, line: line)
        XCTAssertEqual(delivered.sideband, sideband, "side-band records", file: file, line: line)
        XCTAssertEqual(c.read, delivered.statistics.written + c.overflow + c.dropbufSample
                           + delivered.statistics.unwritten, "read = written + overflow + dropbuf_sample + unwritten",
                       file: file, line: line)
    }

    func testRecordsOfUnusedTypesAreCountedAsIgnored() throws {
        var ring = FakeRing(size: 1024, start: 0)
        ring.append(sample(1))
        ring.append(PerfRecordBytes.record(type: 1, body: [UInt8](repeating: 0, count: 48)))   // PERF_RECORD_MMAP
        ring.append(PerfRecordBytes.record(type: 14, body: [UInt8](repeating: 0, count: 24)))  // SWITCH
        ring.append(PerfRecordBytes.record(type: 0x7fff, body: []))
        ring.append(PerfRecordBytes.comm(pid: 1, tid: 1, name: "x", exec: false, id: id))
        ring.append(sample(2))

        assertAccounted(try deliver(ring, from: 0), tail: ring.head, read: 2, ignored: 3, malformed: 0,
                        skippedBytes: 0, sideband: 1)
    }

    func testRecordsTooShortForTheirTypeAreMalformed() throws {
        var ring = FakeRing(size: 1024, start: 0)
        ring.append(PerfRecordBytes.record(type: 9, misc: 2, body: [UInt8](repeating: 0, count: 16)))
        ring.append(PerfRecordBytes.record(type: 3, body: [UInt8](repeating: 0, count: 8)))
        ring.append(PerfRecordBytes.record(type: 2, body: [UInt8](repeating: 0, count: 8)))
        ring.append(sample(1))

        assertAccounted(try deliver(ring, from: 0), tail: ring.head, read: 1, ignored: 0, malformed: 3,
                        skippedBytes: 0)
    }

    /// A sample, then a header claiming `size` bytes and `advance` bytes written, then (with `sampleAfter`) another
    /// sample: the first sample is read, and everything from the bad header to the head is skipped and counted.
    private func assertBadHeaderSkipsToTheHead(size: UInt16, advance: Int, start: UInt64, sampleAfter: Bool,
                                               file: StaticString = #filePath, line: UInt = #line) throws {
        var ring = FakeRing(size: 256, start: start)
        ring.append(sample(1))
        let bad = ring.head
        ring.appendHeader(size: size, advance: advance)
        if sampleAfter { ring.append(sample(2)) }

        assertAccounted(try deliver(ring, from: start), tail: ring.head, read: 1, ignored: 0, malformed: 1,
                        skippedBytes: ring.head - bad, file: file, line: line)
    }

    func testZeroSizeHeaderSkipsToTheHeadAndCountsTheBytes() throws {
        try assertBadHeaderSkipsToTheHead(size: 0, advance: 16, start: 512, sampleAfter: true)
    }

    func testSizeNotAMultipleOfEightIsMalformed() throws {
        try assertBadHeaderSkipsToTheHead(size: 52, advance: 56, start: 0, sampleAfter: true)
    }

    func testSizeLargerThanTheDataIsMalformed() throws {
        try assertBadHeaderSkipsToTheHead(size: 64, advance: 24, start: 256 * 3 + 200, sampleAfter: false)
    }

    func testHeadMoreThanARingAheadIsSkippedWhole() throws {
        // The kernel never gets more than a ring ahead of the tail; a record there could claim more than the ring.
        var ring = FakeRing(size: 256, start: 0)
        ring.append(sample(1))

        assertAccounted(try deliver(ring, from: 0, upTo: 1 << 40), tail: 1 << 40, read: 0, ignored: 0,
                        malformed: 1, skippedBytes: 1 << 40)
    }

    func testCallChainLongerThanItsRecordIsMalformed() throws {
        var ring = FakeRing(size: 1024, start: 0)
        ring.append(PerfRecordBytes.sample(ip: 0x40_1000, callchainCount: 2, ips: [0x40_1000, 0x40_2000]))
        ring.append(PerfRecordBytes.sample(ip: 0x40_1000, callchainCount: 3, ips: [0x40_1000, 0x40_2000]))
        ring.append(PerfRecordBytes.sample(ip: 0x40_1000, callchainCount: UInt64.max, ips: [0x40_1000]))

        let delivered = try deliver(ring, from: 0, decoder: PerfRecordDecoder(event: 0, callchain: true))

        assertAccounted(delivered, tail: ring.head, read: 1, ignored: 0, malformed: 2, skippedBytes: 0)
    }

    func testSummedCountersCarryTheRecordCountsAndSaturate() {
        var a = CaptureCounters()
        a.ignoredRecords = 2
        a.malformedRecords = 3
        a.malformedBytes = 40
        a.kernelLost = UInt64.max - 1
        var b = CaptureCounters()
        b.ignoredRecords = 1
        b.malformedBytes = 8
        b.kernelLost = 5

        let sum = a + b

        XCTAssertEqual(sum.ignoredRecords, 3)
        XCTAssertEqual(sum.malformedRecords, 3)
        XCTAssertEqual(sum.malformedBytes, 48)
        XCTAssertEqual(sum.kernelLost, UInt64.max, "a kernel count saturates instead of trapping")
    }
}
