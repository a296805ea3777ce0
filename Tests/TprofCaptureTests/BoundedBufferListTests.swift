import TprofCapture
import XCTest

/// The list holds at most `limit` buffers queued for or held by the writer; past that a completed buffer is
/// dropped and counted, never waited for.
final class BoundedBufferListTests: XCTestCase {
    func testBufferPastTheLimitIsDroppedAndCountedWithItsSamples() throws {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 3, limit: 2))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: .max, now: 0)

        for n in 0..<6 { sink.add(numberedSample(n), now: 0) }
        let atLimit = try XCTUnwrap(list.statistics(of: 0)).counters
        for n in 6..<9 { sink.add(numberedSample(n), now: 0) }
        let pastLimit = try XCTUnwrap(list.statistics(of: 0)).counters

        XCTAssertEqual(atLimit.buf, 2)
        XCTAssertEqual(atLimit.dropbuf, 0)
        XCTAssertEqual(pastLimit.buf, 2)
        XCTAssertEqual(pastLimit.sample, 6)
        XCTAssertEqual(pastLimit.dropbuf, 1)
        XCTAssertEqual(pastLimit.dropbufSample, 3)
        XCTAssertEqual(pastLimit.dropped, 3)
        XCTAssertEqual(list.takeBatch(timeout: 0).samplePCs, [0, 1, 2, 3, 4, 5], "the dropped buffer is not queued")
    }

    func testBuffersHeldByTheWriterCountUntilReleased() throws {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 3, limit: 2))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: .max, now: 0)
        for n in 0..<6 { sink.add(numberedSample(n), now: 0) }

        let batch = list.takeBatch(timeout: 0)
        XCTAssertEqual(batch.samplePCs, [0, 1, 2, 3, 4, 5])
        for n in 6..<9 { sink.add(numberedSample(n), now: 0) }
        let whileHeld = try XCTUnwrap(list.statistics(of: 0))
        XCTAssertEqual(whileHeld.counters.dropbuf, 1, "taken but unreleased buffers still fill the list")
        XCTAssertEqual(whileHeld.counters.dropbufSample, 3)
        XCTAssertEqual(whileHeld.written, 0)

        list.release(batch.buffers)
        for n in 9..<12 { sink.add(numberedSample(n), now: 0) }
        let afterRelease = try XCTUnwrap(list.statistics(of: 0))
        XCTAssertEqual(afterRelease.written, 6)
        XCTAssertEqual(afterRelease.counters.buf, 3, "after the release a hand-off is accepted again")
        XCTAssertEqual(afterRelease.counters.dropbuf, 1)

        let second = list.takeBatch(timeout: 0)
        XCTAssertEqual(second.samplePCs, [9, 10, 11])
        list.release(second.buffers, written: false)
        let final = try XCTUnwrap(list.statistics(of: 0))
        XCTAssertEqual(final.written, 6)
        XCTAssertEqual(final.unwritten, 3)
        XCTAssertEqual(final.counters.read, 12)
        XCTAssertEqual(final.counters.read, final.written + final.unwritten + final.counters.overflow
                       + final.counters.dropbufSample)
    }

    func testMemoryIsBoundedByLimitPlusOneBufferPerCPU() {
        let list = BufferList(cpus: [0, 1, 2], configuration: .init(bufferCapacity: 1, limit: 5))
        XCTAssertEqual(list.maximumBufferCount, 8)
    }

    func testTakeBatchWaitsForABufferAndReturnsEmptyAfterTimeoutOrClose() {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 1, limit: 4))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: .max, now: 0)

        let began = Date()
        XCTAssertTrue(list.takeBatch(timeout: 0.05).isEmpty)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(began), 0.04, "an empty list waits for the timeout")
        XCTAssertFalse(list.isDrained)

        sink.add(numberedSample(1), now: 0)
        list.close()
        XCTAssertFalse(list.isDrained, "a closed list is drained only once the writer has taken everything")
        let last = list.takeBatch(timeout: 5)
        XCTAssertEqual(last.samplePCs, [1])
        list.release(last.buffers)
        XCTAssertTrue(list.isDrained)
        XCTAssertTrue(list.takeBatch(timeout: 5).isEmpty)
    }

    func testSidebandPastItsLimitIsDroppedAndCounted() throws {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 10, limit: 4, sidebandLimit: 2))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: .max, now: 0)
        for pid in Int32(1)...5 {
            sink.add(.comm(time: 0, pid: pid, tid: pid, name: "p\(pid)", exec: false, source: .kernel))
        }

        sink.flush(now: 1)

        XCTAssertEqual(try XCTUnwrap(list.statistics(of: 0)).counters.sidebandDropped, 3)
        XCTAssertEqual(list.takeBatch(timeout: 0).sideband.count, 2)
    }
}
