import TprofCapture
import XCTest

/// A CPU's sink hands its buffer to the list when it is full, or when the flush interval has passed.
final class BufferSwitchingTests: XCTestCase {
    func testFullBufferIsHandedToTheList() throws {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 4, limit: 8))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: .max, now: 0)

        for n in 0..<3 { sink.add(numberedSample(n), now: 0) }
        let beforeFull = try XCTUnwrap(list.statistics(of: 0))
        sink.add(numberedSample(3), now: 0)
        let afterFull = try XCTUnwrap(list.statistics(of: 0))

        XCTAssertEqual(beforeFull.counters.buf, 0, "a buffer that is not full stays with its CPU")
        XCTAssertEqual(afterFull.counters.read, 4)
        XCTAssertEqual(afterFull.counters.buf, 1)
        XCTAssertEqual(afterFull.counters.sample, 4)
        XCTAssertEqual(afterFull.counters.emptybuf, 0)
        let batch = list.takeBatch(timeout: 0)
        XCTAssertEqual(batch.buffers.count, 1)
        XCTAssertEqual(batch.buffers.first?.cpu, 0)
        XCTAssertEqual(batch.samplePCs, [0, 1, 2, 3])
        list.release(batch.buffers)
    }

    func testFlushIntervalHandsOnANonFullBufferOnlyOnceItHasPassed() throws {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 100, limit: 8))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: 1_000, now: 10_000)
        sink.add(numberedSample(1), now: 10_100)
        sink.add(numberedSample(2), now: 10_200)

        sink.tick(now: 10_999)
        let early = try XCTUnwrap(list.statistics(of: 0))
        XCTAssertEqual(early.counters.buf, 0, "999 ns after the buffer was installed is too early")
        XCTAssertTrue(list.takeBatch(timeout: 0).isEmpty)

        sink.tick(now: 11_000)
        let due = try XCTUnwrap(list.statistics(of: 0))
        XCTAssertEqual(due.counters.buf, 1)
        XCTAssertEqual(due.counters.sample, 2)
        XCTAssertEqual(due.counters.read, 2)
        let batch = list.takeBatch(timeout: 0)
        XCTAssertEqual(batch.samplePCs, [1, 2])
        list.release(batch.buffers)

        sink.add(numberedSample(3), now: 11_500)
        sink.tick(now: 11_999)
        XCTAssertEqual(list.statistics(of: 0)?.counters.buf, 1, "the interval restarts with the next buffer")
        sink.tick(now: 12_000)
        XCTAssertEqual(list.statistics(of: 0)?.counters.buf, 2)
    }

    func testEmptyBufferAtTheIntervalCountsEmptybuf() throws {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 100, limit: 8))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: 1_000, now: 0)

        sink.tick(now: 999)
        XCTAssertEqual(list.statistics(of: 0)?.counters.emptybuf, 0)
        sink.tick(now: 1_000)
        sink.tick(now: 2_000)

        let stats = try XCTUnwrap(list.statistics(of: 0))
        XCTAssertEqual(stats.counters.emptybuf, 2)
        XCTAssertEqual(stats.counters.buf, 0)
        XCTAssertTrue(list.takeBatch(timeout: 0).isEmpty, "an empty buffer is never put on the list")
    }

    func testFlushAtTheEndHandsOnWhateverTheBufferHolds() throws {
        let list = BufferList(cpus: [0, 1], configuration: .init(bufferCapacity: 100, limit: 8))
        let sinks = [0, 1].map { CPUSampleSink(cpu: $0, list: list, flushInterval: .max, now: 0) }
        sinks[0].add(numberedSample(1, cpu: 0), now: 0)
        sinks[1].add(numberedSample(2, cpu: 1), now: 0)
        sinks[1].add(numberedSample(3, cpu: 1), now: 0)

        for sink in sinks { sink.flush(now: 1) }

        XCTAssertEqual(list.statistics(of: 0)?.counters.sample, 1)
        XCTAssertEqual(list.statistics(of: 1)?.counters.sample, 2)
        let batch = list.takeBatch(timeout: 0)
        XCTAssertEqual(Set(batch.buffers.map(\.cpu)), [0, 1])
        XCTAssertEqual(batch.samplePCs.sorted(), [1, 2, 3])
        list.release(batch.buffers)
        XCTAssertEqual(list.statistics().map(\.written), [1, 2])
    }

    func testSidebandRecordsTravelWithTheNextHandOff() {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 2, limit: 8))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: .max, now: 0)
        let record = SidebandRecord.comm(time: 5, pid: 100, tid: 100, name: "spin", exec: true, source: .kernel)

        sink.add(record)
        XCTAssertTrue(list.takeBatch(timeout: 0).isEmpty, "side-band records wait for a hand-off")
        sink.add(numberedSample(1), now: 0)
        sink.add(numberedSample(2), now: 0)

        let batch = list.takeBatch(timeout: 0)
        XCTAssertEqual(batch.sideband, [record])
        XCTAssertEqual(batch.samplePCs, [1, 2])
        list.release(batch.buffers)
    }

    func testKernelLossesAndThrottlingAreCountedAtTheNextHandOff() throws {
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 2, limit: 8))
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: .max, now: 0)

        sink.countKernelLost(10)
        sink.countKernelLostSamples(3)
        sink.countThrottle()
        sink.countUnthrottle()
        sink.countThrottle()
        sink.flush(now: 1)

        let counters = try XCTUnwrap(list.statistics(of: 0)).counters
        XCTAssertEqual(counters.kernelLost, 10)
        XCTAssertEqual(counters.kernelLostSamples, 3)
        XCTAssertEqual(counters.kernelDropped, 13)
        XCTAssertEqual(counters.throttle, 2)
        XCTAssertEqual(counters.unthrottle, 1)
        XCTAssertEqual(counters.read, 0, "kernel losses are not samples read")
    }
}
