import Foundation
import TprofCapture
import TprofStore
import TprofTestSupport
import XCTest

/// The record counters reach the schema 6 columns of `counters`, and the kernel's counts, which can be any u64,
/// are stored clamped instead of trapping.
final class RecordAccountingColumnsTests: XCTestCase {
    func testRecordCountersAreStoredInTheirColumns() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store-accounting")
        let database = try RecordingDatabase(creating: directory.file("run.db"), force: false)
        let list = BufferList(cpus: [3], configuration: .init(bufferCapacity: 16, limit: 2))
        let sink = CPUSampleSink(cpu: 3, list: list, flushInterval: UInt64.max, now: 0)
        for n in 0..<5 {
            sink.add(Sample(time: UInt64(n), pid: 1, tid: 1, cpu: 3, event: 0, mode: .user, pc: 0x1000, period: 1),
                     now: 0)
        }
        sink.countIgnoredRecord()
        sink.countIgnoredRecord()
        sink.countMalformedRecord()
        sink.countMalformedRecord(skippedBytes: 4096)
        sink.countKernelLost(UInt64.max)
        sink.countKernelLost(UInt64.max)
        sink.flush(now: 0)
        let writer = try SampleWriter(database: database, list: list, startMonotonic: 0, eventCount: 1)

        try writer.writeCounters()

        let row = try Database(path: directory.file("run.db")).rows("""
            SELECT cpu, read, ignored_records, malformed_records, malformed_bytes, kernel_lost FROM counters
            """)
        XCTAssertEqual(row, [[.integer(3), .integer(5), .integer(2), .integer(2), .integer(4096),
                              .integer(Int64.max)]])
    }
}
