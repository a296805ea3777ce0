import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// A recording onto a file system that fills up: tprof-record stops cleanly, says so, ends the command, and leaves
/// a file whose committed samples are all readable.
final class DiskFullTests: XCTestCase {
    func testAFullDiskStopsTheRecordingCleanly() throws {
        let workspace = try FaultWorkspace(for: self)
        var cases = 0
        // With call chains a batch is larger: a larger (still small) file system lets some commit before it fills.
        for (callGraph, size) in [(false, "400k"), (true, "1m")] {
            let mountPoint = try mountSmallFileSystem(size: size)
            let output = mountPoint + "/full.db"
            let name = FaultWorkspace.uniqueName(callGraph ? "full-g" : "full")
            let spin = try workspace.spin(named: name)
            let context = "disk full on a \(size) tmpfs\(callGraph ? " (-g)" : "")"

            let began = Date()
            let recorder = try Tool.record.start(["-o", output, "-F", "20000"] + (callGraph ? ["-g"] : [])
                                                 + ["--", spin, "60"])
            var spinPID: Int32?
            Processes.waitUntil(timeout: 10) {
                spinPID = Processes.alive(named: name).first
                return spinPID != nil || !recorder.isRunning
            }
            let result = try recorder.waitForExit(timeout: 60)
            cases += 1

            assertNoTrap(result, context)
            XCTAssertNotEqual(result.status, 0, "\(context): \(result.summary)")
            XCTAssertLessThan(Date().timeIntervalSince(began), 30, "\(context): it must stop, not hang")
            let errorLines = result.stderrLines.filter { $0.hasPrefix("tprof-record:") && !$0.contains("cycles is not") }
            XCTAssertTrue(errorLines.first?.contains("full") ?? false,
                          "\(context): the first error says the disk is full\n\(result.summary)")
            XCTAssertTrue(Processes.waitUntil(timeout: 3) { Processes.alive(named: name).isEmpty },
                          "\(context): the command was not ended")
            if let spinPID { XCTAssertFalse(Processes.isAlive(spinPID), context) }

            let database = try Database(path: output)
            let status = try database.scalarText("SELECT status FROM run")
            XCTAssertTrue(status == "failed" || status == "recording", "\(context): status \(status ?? "NULL")")
            let samples = try database.scalarInt("SELECT COUNT(*) FROM samples")
            XCTAssertGreaterThan(samples, 0, "\(context): batches committed before the disk filled are kept")
            XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM (SELECT * FROM samples)"), samples, context)
            try assertCommittedBatchesPresent(database, context)
            XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok", context)

            let report = try Tool.report.run([output, "--by-pid"])
            assertNoTrap(report, context)
            if report.status == 0 {
                XCTAssertTrue(report.stdout.contains(name), "\(context): \(report.summary)")
                XCTAssertTrue(report.stderr.contains("WARNING"), "\(context): the report warns\n\(report.summary)")
            } else {
                assertOneLineError(report)
            }
            let stat = try Tool.report.run([output, "--stat"])
            assertNoTrap(stat, context)
            if stat.status != 0 { assertOneLineError(stat) }
            print("\(context): exit \(result.status), status \(status ?? "NULL"), \(samples) samples kept; "
                + "\(errorLines.first ?? "")")
        }
        print("disk full: \(cases) cases")
    }

    /// A file system too full for the empty database: one line naming the file, nothing left behind (no -wal or
    /// -shm either), and the command never started.
    func testADiskTooFullForTheEmptyDatabaseLeavesNothingBehind() throws {
        let workspace = try FaultWorkspace(for: self)
        let name = FaultWorkspace.uniqueName("nofit")
        let spin = try workspace.spin(named: name)
        var cases = 0
        for size in ["40k", "100k", "130k", "160k"] {
            let mountPoint = try mountSmallFileSystem(size: size)
            let output = mountPoint + "/tiny.db"
            let result = try Tool.record.run(["-q", "-o", output, "-F", "20000", "--", spin, "5"])
            cases += 1
            let context = "a \(size) tmpfs"
            assertOneLineError(result, contains: output, "full")
            XCTAssertEqual(result.status, 1, "\(context): \(result.summary)")
            XCTAssertFalse(result.stdout.contains("spun"), "\(context): the command must not have run")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: mountPoint)) ?? []
            XCTAssertEqual(left, [], "\(context): files left behind")
            print("\(context): \(result.stderrLines.first ?? "")")
        }
        print("disk too full to start: \(cases) cases")
    }
}
