import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// `tprof-record -- cmd` profiles a command from its exec to its exit and passes on its output and exit status.
final class CommandRecordingTests: XCTestCase {
    func testSpinningCommandIsRecordedAtTheRequestedRate() throws {
        let workspace = try RecordingWorkspace(for: self)
        let spin = try workspace.spin(named: "spin-cmd")
        let output = workspace.file("cmd.db")

        let result = try Tool.record.run(["-o", output, "-F", "999", "--", spin, "1.5"])

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stdout, "spin-cmd: spun 1.5 s\n", "the command's stdout must pass through unchanged")
        XCTAssertTrue(result.stderr.contains("[ tprof-record: wrote "), result.summary)
        XCTAssertEqual(permissionBits(of: output), 0o600)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "complete")
        let pid = try database.scalarInt("SELECT pid FROM processes WHERE comm = 'spin-cmd'")
        XCTAssertGreaterThanOrEqual(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE pid = \(pid)"), 1200,
                                    "1.5 s of CPU time at 999 Hz")
        XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE pid = \(pid) AND mode = 2"),
                             1000, "a CPU-bound program is sampled mostly in user mode")
        XCTAssertEqual(try database.scalarText("SELECT target FROM run"), "command")
        XCTAssertEqual(try database.scalarInt("SELECT exit_status FROM run"), 0)
        XCTAssertEqual(try database.scalarInt("SELECT requested_frequency FROM events"), 999)
        XCTAssertGreaterThan(try database.scalarInt(
            "SELECT COUNT(*) FROM mmap_records WHERE pid = \(pid) AND filename = '\(spin)'"), 0,
            "the kernel's MMAP2 record of the program itself")
    }

    func testCommandExitStatusIsPassedOn() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("exit3.db")

        let result = try Tool.record.run(["-q", "-o", output, "--", "sh", "-c", "exit 3"])

        assertNoCrash(result)
        XCTAssertEqual(result.status, 3, result.summary)
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "complete")
        XCTAssertEqual(try database.scalarInt("SELECT exit_status FROM run"), 3)
    }

    func testCommandKilledBySignalGives128PlusTheSignal() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("killed.db")

        let result = try Tool.record.run(["-q", "-o", output, "--", "sh", "-c", "kill -TERM $$"])

        assertNoCrash(result)
        XCTAssertEqual(result.status, 128 + SIGTERM, result.summary)
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarInt("SELECT exit_signal FROM run"), Int64(SIGTERM))
        XCTAssertEqual(try database.scalarInt("SELECT exit_status FROM run"), Int64(128 + SIGTERM))
    }

    func testMissingCommandExits127WithOneLineAndNoDatabase() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("missing.db")

        let result = try Tool.record.run(["-o", output, "--", "tprof-no-such-command", "arg"])

        assertOneLineError(result, contains: "tprof-no-such-command", "command not found")
        XCTAssertEqual(result.status, 127)
        assertNoFile(output)
    }
}
