import Foundation
import TprofStore
import TprofTestSupport
import XCTest

/// `-o FILE`: the counts in an ordinary tprof database, written with tprof-record's output rules, and read back
/// with `tprof-report FILE --counts`.
final class DatabaseTests: XCTestCase {
    func testCountsGoIntoADatabaseThatReportsReadBack() throws {
        let directory = try CountWorkbench.freshDirectory(for: self)
        let output = directory.file("counts.db")
        let result = try Tool.count.run(["-o", output, "--format", "csv", "--", try CountWorkbench.faults(), "1000"])
        XCTAssertEqual(result.status, 0, result.summary)
        let printed = CountWorkbench.csvByEvent(result)
        assertNoFile(output + ".recording")

        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarInt("PRAGMA user_version"), Int64(RecordingDatabase.schemaVersion))
        XCTAssertEqual(try database.scalarText("SELECT tool || ' ' || status || ' ' || target FROM run"),
                       "tprof-count complete command")
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM counts"), 8)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM pragma_foreign_key_check"), 0)
        let faults = try database.scalarInt("""
            SELECT value FROM counts JOIN events ON events.id = counts.event WHERE events.name = 'page-faults'
            """)
        XCTAssertEqual(String(faults), printed["page-faults"]?["value"])
        XCTAssertEqual(try database.scalarInt("SELECT count FROM events WHERE name = 'page-faults'"), faults)

        let report = try Tool.report.run([output, "--counts"])
        XCTAssertEqual(report.status, 0, report.summary)
        XCTAssertTrue(report.stdout.contains(" Performance counter stats for '"), report.summary)
        XCTAssertTrue(report.stdout.contains("\(faults)      page-faults"), report.summary)
        let csv = try Tool.report.run([output, "--counts", "--format", "csv"])
        XCTAssertEqual(csvRecords(csv.stdout).first { $0["event"] == "page-faults" }?["value"], String(faults))
    }

    func testIntervalsAndThreadsAreStored() throws {
        let directory = try CountWorkbench.freshDirectory(for: self)
        let output = directory.file("intervals.db")
        let result = try Tool.count.run(["-o", output, "-I", "100", "-e", "task-clock", "--", try CountWorkbench.burn(),
                                         "0.4"])
        XCTAssertEqual(result.status, 0, result.summary)
        let database = try Database(path: output)
        XCTAssertGreaterThanOrEqual(try database.scalarInt("SELECT count(DISTINCT interval_end) FROM counts"), 4)
        let csv = try Tool.report.run([output, "--counts", "--format", "csv"])
        let intervals = csvRecords(csv.stdout).compactMap { $0["interval"].flatMap(Double.init) }
        XCTAssertGreaterThanOrEqual(intervals.count, 4, csv.summary)
    }

    /// A sampling recording keeps each event's total: --counts prints those.
    func testASamplingRecordingReportsItsEventTotals() throws {
        let directory = try CountWorkbench.freshDirectory(for: self)
        let output = directory.file("sampled.db")
        let record = try Tool.record.run(["-q", "-e", "task-clock", "-o", output, "--", try CountWorkbench.burn(),
                                          "0.3"])
        XCTAssertEqual(record.status, 0, record.summary)
        let csv = try Tool.report.run([output, "--counts", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.summary)
        let row = try XCTUnwrap(csvRecords(csv.stdout).first, csv.summary)
        XCTAssertEqual(row["event"], "task-clock")
        XCTAssertEqual(row["value"].flatMap(Double.init) ?? 0, 300, accuracy: 60, csv.summary)
    }

    /// An existing output is refused, untouched, without --force, as tprof-record refuses it; --force replaces it.
    func testAnExistingOutputIsRefused() throws {
        let directory = try CountWorkbench.freshDirectory(for: self)
        let output = directory.file("mine.txt")
        try "keep me\n".write(toFile: output, atomically: true, encoding: .utf8)
        let refused = try Tool.count.run(["-o", output, "--", "true"])
        assertOneLineError(refused, contains: "already exists", "--force")
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), "keep me\n")
        assertNoFile(output + ".recording")

        let forced = try Tool.count.run(["-o", output, "--force", "-e", "task-clock", "--", "true"])
        XCTAssertEqual(forced.status, 0, forced.summary)
        XCTAssertEqual(try Database(path: output).scalarInt("SELECT count(*) FROM counts"), 1)
    }

    /// The output removed while counting: said in one line, exit status 1; the counts are printed all the same.
    func testAnOutputRemovedWhileCountingIsSaid() throws {
        let directory = try CountWorkbench.freshDirectory(for: self)
        let output = directory.file("counts.db")
        let counter = try Tool.count.start(["-e", "task-clock", "--format", "csv", "-o", output, "--", "sleep", "2"])
        // Its write-ahead log appears once the file is open at its name: removed before that (in the instant
        // between the move into place and the open), the file is a failure to open, not a loss while counting.
        guard Processes.waitUntil(timeout: 10, { FileManager.default.fileExists(atPath: output + "-wal") }) else {
            counter.send(SIGKILL)
            throw TestSupportError("the output never appeared")
        }
        try FileManager.default.removeItem(atPath: output)
        let result = try counter.waitForExit(timeout: 20)
        assertNoCrash(result)
        XCTAssertEqual(result.status, 1, result.summary)
        XCTAssertTrue(result.stderr.contains("\(output) was removed during counting; the counts written to it are lost"),
                      result.summary)
        XCTAssertNotNil(CountWorkbench.csvByEvent(result)["task-clock"], result.summary)
    }

    /// A device is never an output, even with --force: one line, and the device is left as it was.
    func testADeviceIsNeverAnOutput() throws {
        let result = try Tool.count.run(["-o", "/dev/null", "--force", "--", "true"])
        XCTAssertEqual(result.status, 1, result.summary)
        assertOneLineError(result, contains: "/dev/null is a character device", "--force replaces only a regular file")
        var info = stat()
        XCTAssertEqual(stat("/dev/null", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR)
    }
}
