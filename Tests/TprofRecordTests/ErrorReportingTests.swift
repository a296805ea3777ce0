import Foundation
import TprofTestSupport
import XCTest

/// Every error is one clear line on stderr with a non-zero exit, found before any database is created.
final class ErrorReportingTests: XCTestCase {
    private func assertRejected(_ options: [String], contains texts: String..., file: StaticString = #filePath,
                                line: UInt = #line) throws {
        try assertRecordRejects(options, in: RecordingWorkspace(for: self), contains: texts, file: file, line: line)
    }

    func testUnknownEventPointsToListEvents() throws {
        try assertRejected(["-e", "nosuchevent"], contains: "unknown event 'nosuchevent'", "--list-events")
    }

    func testBadModifierIsNamed() throws {
        try assertRejected(["-e", "cpu-clock:x"], contains: "bad modifier ':x'")
    }

    func testBadFrequencies() throws {
        try assertRejected(["-F", "abc"], contains: "'abc'", "-F")
        try assertRejected(["-F", "0"], contains: "bad frequency 0 for -F")
        let maximum = try KernelSetting.integer("kernel/perf_event_max_sample_rate")
        let tooHigh = max(200_000, maximum + 1)
        try assertRejected(["-F", "\(tooHigh)"], contains: "kernel.perf_event_max_sample_rate", "(\(maximum))")
    }

    func testBadPeriodAndRingSize() throws {
        try assertRejected(["-c", "0"], contains: "bad period 0 for -c")
        try assertRejected(["-m", "3"], contains: "bad value 3 for -m", "power of two")
        try assertRejected(["-m", "0"], contains: "bad value 0 for -m")
    }

    func testBadDurations() throws {
        try assertRejected(["-d", "-1"], contains: "-d")
        try assertRejected(["--duration=-1"], contains: "bad value -1 for -d: it must be positive")
        try assertRejected(["-d", "0"], contains: "bad duration 0.0 for -d")
        try assertRejected(["-d", "abc"], contains: "'abc'", "-d")
    }

    func testBadCPUList() throws {
        try assertRejected(["-C", "0-x"], contains: "bad CPU list '0-x'")
        try assertRejected(["-C", "4000"], contains: "CPU 4000 is not online")
    }

    func testConflictingTargetsAndNoTarget() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("none.db")
        let none = try Tool.record.run(["-o", output])
        assertOneLineError(none, contains: "nothing to profile")
        try assertRejected(["-a"], contains: "only one of")
    }

    func testUnwritableOutputIsOneLine() throws {
        let result = try Tool.record.run(["-o", "/nonexistent-dir/x.db", "--", "true"])

        assertOneLineError(result, contains: "cannot create /nonexistent-dir/x.db", "No such file or directory")
        assertNoFile("/nonexistent-dir/x.db")
    }

    func testExistingOutputIsRefusedUnchangedAndReplacedWithForce() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("existing.db")
        try "not a database".write(toFile: output, atomically: false, encoding: .utf8)

        let refused = try Tool.record.run(["-o", output, "--", "true"])

        assertOneLineError(refused, contains: "already exists", "--force")
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), "not a database")

        let forced = try Tool.record.run(["-q", "--force", "-o", output, "--", "sh", "-c", "exit 0"])

        assertNoCrash(forced)
        XCTAssertEqual(forced.status, 0, forced.summary)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "complete")
        XCTAssertEqual(permissionBits(of: output), 0o600)
    }

    func testListEventsShowsCPUClockAvailable() throws {
        let result = try Tool.record.run(["--list-events"])

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let cpuClock = result.stdout.split(separator: "\n").first { $0.hasPrefix("  cpu-clock ") }
        XCTAssertNotNil(cpuClock, result.stdout)
        XCTAssertTrue(cpuClock?.contains(" available ") ?? false, "cpu-clock must be available: \(result.stdout)")
        XCTAssertFalse(cpuClock?.contains("not available") ?? true)
    }

    func testHelpIsPrintedNotRunAsACommand() throws {
        for flag in ["--help", "-h"] {
            let result = try Tool.record.run([flag])

            assertNoCrash(result)
            XCTAssertEqual(result.status, 0, result.summary)
            XCTAssertTrue(result.stdout.contains("USAGE: tprof-record"), result.summary)
            XCTAssertTrue(result.stdout.contains("-a, --all-cpus"), result.summary)
            XCTAssertTrue(result.stdout.contains("-m, --mmap-pages"), result.summary)
        }
    }
}
