import Foundation
import TprofSynthetic
import TprofStore
import TprofTestSupport
import XCTest

/// Samples that go through the real buffers and writer into SQLite are all accounted for: what the counters call
/// written is exactly what the samples table holds, also when the writer cannot keep up.
final class SyntheticRecordingTests: XCTestCase {
    /// Checks the stored counters and samples of a finished synthetic recording against its result.
    private func assertAccountedFor(_ database: Database, _ result: SyntheticRecording.Result, cpus: [Int],
                                    samplesPerCPU: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let stored = try database.scalarInt("SELECT COUNT(*) FROM samples")
        XCTAssertEqual(stored, Int64(result.written), "samples rows", file: file, line: line)
        XCTAssertEqual(try database.scalarInt("SELECT SUM(written) FROM counters"), stored, file: file, line: line)
        XCTAssertEqual(try database.scalarInt("SELECT SUM(samples) FROM events"), stored, file: file, line: line)
        XCTAssertEqual(try database.ints("SELECT cpu FROM counters ORDER BY cpu"), cpus.map(Int64.init),
                       file: file, line: line)
        XCTAssertEqual(try database.scalarInt(
            "SELECT COUNT(*) FROM counters WHERE read != written + overflow + dropbuf_sample"), 0,
            "read = written + overflow + dropbuf_sample on every CPU", file: file, line: line)
        XCTAssertEqual(try database.ints("SELECT read FROM counters ORDER BY cpu"),
                       cpus.map { _ in Int64(samplesPerCPU) }, file: file, line: line)
        for cpu in cpus {
            XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE cpu = \(cpu)"),
                           try database.scalarInt("SELECT written FROM counters WHERE cpu = \(cpu)"),
                           "CPU \(cpu)", file: file, line: line)
        }
        XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "complete", file: file, line: line)
        XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok", file: file, line: line)
    }

    func testPacedRecordingStoresEverySample() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let path = directory.file("paced.db")
        let recording = SyntheticRecording(output: path, cpus: [0, 1], samplesPerCPU: 20_000, rate: 40_000)

        let result = try recording.run()

        let database = try Database(path: path)
        try assertAccountedFor(database, result, cpus: [0, 1], samplesPerCPU: 20_000)
        XCTAssertEqual(result.written, 40_000, "nothing may be dropped at this rate")
        XCTAssertEqual(try database.scalarInt("SELECT SUM(dropbuf_sample + overflow) FROM counters"), 0)
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE mode = 1"), 8_000,
                       "every fifth synthetic sample is a kernel sample")
    }

    func testForcedOverloadStillAccountsForEverySample() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let path = directory.file("overload.db")
        let recording = SyntheticRecording(output: path, cpus: [0, 1], samplesPerCPU: 100_000, rate: 0,
                                           bufferSamples: 64, bufferLimit: 1)

        let result = try recording.run()

        let database = try Database(path: path)
        try assertAccountedFor(database, result, cpus: [0, 1], samplesPerCPU: 100_000)
        XCTAssertGreaterThan(try database.scalarInt("SELECT SUM(dropbuf_sample) FROM counters"), 0,
                             "the writer must have fallen behind and buffers been dropped")
        XCTAssertGreaterThan(try database.scalarInt("SELECT SUM(dropbuf) FROM counters"), 0)
        XCTAssertGreaterThan(result.written, 0)
    }
}
