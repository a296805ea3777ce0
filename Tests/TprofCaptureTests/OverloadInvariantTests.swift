import Glibc
import TprofCapture
import XCTest

/// Under any load, every sample read is accounted for exactly: written, overflowed, or in a dropped buffer.
final class OverloadInvariantTests: XCTestCase {
    /// Runs the synthetic backend into sinks on `list` while a writer thread takes batches, pausing `writerDelay`
    /// microseconds before releasing each, and returns the final statistics.
    private func runPipeline(list: BufferList, rate: UInt64, samplesPerCPU: UInt64, flushInterval: UInt64,
                             writerDelay: UInt32) throws -> [BufferList.CPUStatistics] {
        let writer = startThread(name: "test-writer") {
            while true {
                let batch = list.takeBatch(timeout: 0.05)
                if batch.isEmpty {
                    if list.isDrained { return }
                    continue
                }
                if writerDelay > 0 { usleep(writerDelay) }
                list.release(batch.buffers)
            }
        }
        let backend = SyntheticBackend(cpus: list.cpus, rate: rate, samplesPerCPU: samplesPerCPU)
        let now = monotonicNanoseconds()
        let sinks = list.cpus.map { CPUSampleSink(cpu: $0, list: list, flushInterval: flushInterval, now: now) }
        try backend.start(sinks: sinks)
        backend.waitUntilFinished()
        backend.stop()
        list.close()
        writer.join()
        return list.statistics()
    }

    func testForcedOverloadAccountsForEverySampleExactly() throws {
        let list = BufferList(cpus: [0, 1], configuration: .init(bufferCapacity: 64, limit: 1))

        let statistics = try runPipeline(list: list, rate: 0, samplesPerCPU: 200_000, flushInterval: 1_000_000,
                                         writerDelay: 500)

        XCTAssertEqual(statistics.map(\.cpu), [0, 1])
        for stats in statistics {
            let c = stats.counters
            XCTAssertEqual(c.read, 200_000, "CPU \(stats.cpu)")
            XCTAssertEqual(c.read, stats.written + c.overflow + c.dropbufSample, "CPU \(stats.cpu): \(stats)")
            XCTAssertEqual(c.sample, stats.written, "CPU \(stats.cpu): every buffer put on the list was written")
            XCTAssertEqual(stats.unwritten, 0)
        }
        let total = statistics.reduce(CaptureCounters()) { $0 + $1.counters }
        XCTAssertGreaterThan(total.dropbuf, 0, "the overload must really have dropped buffers")
        XCTAssertGreaterThan(total.dropbufSample, 0)
        XCTAssertGreaterThan(total.buf, 0, "some buffers must still have reached the writer")
    }

    func testPacedRunWithANormalListDropsNothing() throws {
        let list = BufferList(cpus: [0, 1], configuration: .init(bufferCapacity: 8_192, limit: 64))

        let statistics = try runPipeline(list: list, rate: 200_000, samplesPerCPU: 60_000,
                                         flushInterval: 50_000_000, writerDelay: 0)

        for stats in statistics {
            let c = stats.counters
            XCTAssertEqual(c.read, 60_000, "CPU \(stats.cpu)")
            XCTAssertEqual(stats.written, 60_000, "CPU \(stats.cpu): \(stats)")
            XCTAssertEqual(c.dropbuf, 0)
            XCTAssertEqual(c.dropbufSample, 0)
            XCTAssertEqual(c.overflow, 0)
            // 60 000 samples are seven buffers' worth: they reach the list as they fill, not as one at the end.
            XCTAssertGreaterThan(c.buf, 1, "CPU \(stats.cpu): the samples were handed on in several buffers: \(stats)")
        }
    }
}
