import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// Run as an unprivileged user, tprof-record does what kernel.perf_event_paranoid allows and says why it does less.
final class UnprivilegedRecordingTests: XCTestCase {
    private let user = "nobody"

    override func setUpWithError() throws {
        let recorder = try Tool.record.path()
        let reachable = try ChildProcess.run("/usr/bin/test", ["-x", recorder], launch: .init(user: user))
        XCTAssertEqual(reachable.status, 0, "\(recorder) must be executable by \(user): every directory above it "
            + "needs o+x and the build folder o+r\n\(reachable.summary)")
    }

    func testOwnCommandIsRecordedFallingBackToUserOnlyWhenKernelSamplesAreRefused() throws {
        let paranoid = try KernelSetting.integer("kernel/perf_event_paranoid")
        let workspace = try RecordingWorkspace(for: self, worldWritable: true)
        let spin = try workspace.spin(named: "spin-user")
        let output = workspace.file("user.db")

        let result = try Tool.record.run(["-o", output, "--", spin, "0.5"], user: user)

        if paranoid >= 3 {
            // Debian's level 3: no perf_event_open at all without CAP_PERFMON.
            assertOneLineError(result, contains: "kernel.perf_event_paranoid")
            assertNoFile(output)
            return
        }
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stdout, "spin-user: spun 0.5 s\n")
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "complete")
        XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples"), 300)
        let eventName = try XCTUnwrap(try database.scalarText("SELECT name FROM events"))
        if paranoid >= 2 {
            XCTAssertTrue(result.stderr.contains("kernel.perf_event_paranoid"), result.summary)
            XCTAssertTrue(eventName.hasSuffix(":u"), eventName)
            XCTAssertEqual(try database.scalarInt("SELECT user_only_fallback FROM run"), 1)
            XCTAssertEqual(try database.scalarInt("SELECT exclude_kernel FROM events"), 1)
            XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE mode != 2"), 0,
                           "a user-only event has only user samples")
        } else {
            XCTAssertFalse(result.stderr.contains("kernel.perf_event_paranoid"), result.summary)
            XCTAssertFalse(eventName.hasSuffix(":u"), eventName)
            XCTAssertEqual(try database.scalarInt("SELECT user_only_fallback FROM run"), 0)
        }
    }

    func testExplicitKernelEventIsRefusedNeverChangedToUserOnly() throws {
        let paranoid = try KernelSetting.integer("kernel/perf_event_paranoid")
        let workspace = try RecordingWorkspace(for: self, worldWritable: true)
        let output = workspace.file("kernel.db")

        for event in ["cpu-clock:k", "cpu-clock:uk", "cpu-clock:u,cpu-clock:k", "cpu-clock,task-clock:k"] {
            let result = try Tool.record.run(["-q", "-o", output, "-e", event, "--", "true"], user: user)

            if paranoid >= 2 {
                assertOneLineError(result, contains: "kernel.perf_event_paranoid", "CAP_PERFMON")
                assertNoFile(output)
            } else {
                // Kernel samples are permitted to every user below level 2.
                XCTAssertEqual(result.status, 0, result.summary)
                XCTAssertEqual(try Database(path: output).scalarInt("SELECT user_only_fallback FROM run"), 0)
                unlink(output)
            }
        }
    }

    func testExplicitEventWithoutModesFallsBackToUserOnlyAndSaysSo() throws {
        let paranoid = try KernelSetting.integer("kernel/perf_event_paranoid")
        let workspace = try RecordingWorkspace(for: self, worldWritable: true)
        let output = workspace.file("explicit.db")

        let result = try Tool.record.run(["-q", "-o", output, "-e", "cpu-clock,task-clock:u", "--", "true"],
                                         user: user)

        if paranoid >= 3 {
            assertOneLineError(result, contains: "kernel.perf_event_paranoid")
            return
        }
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let names = try Database(path: output).scalarText(
            "SELECT group_concat(name, ',') FROM (SELECT name FROM events ORDER BY id)")
        if paranoid == 2 {
            XCTAssertTrue(result.stderr.contains("recording user space only"), result.summary)
            XCTAssertEqual(names, "cpu-clock:u,task-clock:u")
        } else {
            XCTAssertEqual(names, "cpu-clock,task-clock:u")
        }
    }

    func testAnotherUsersProcessIsNamedAsTheCause() throws {
        let workspace = try RecordingWorkspace(for: self, worldWritable: true)
        let output = workspace.file("other.db")

        let result = try Tool.record.run(["-o", output, "-p", "1", "-d", "1"], user: user)

        assertOneLineError(result, contains: "process 1", "belongs to another user")
        XCTAssertFalse(result.stderr.contains("perf_event_paranoid"), "not the cause\n\(result.summary)")
        assertNoFile(output)
    }

    func testSystemWideIsRefusedWithTheSettingAndCapabilityNamed() throws {
        let paranoid = try KernelSetting.integer("kernel/perf_event_paranoid")
        let workspace = try RecordingWorkspace(for: self, worldWritable: true)
        let output = workspace.file("system.db")

        let result = try Tool.record.run(["-o", output, "-a", "-d", "1"], user: user)

        if paranoid >= 1 {
            assertOneLineError(result, contains: "kernel.perf_event_paranoid", "CAP_PERFMON")
            assertNoFile(output)
        } else {
            assertNoCrash(result)
            XCTAssertEqual(result.status, 0, result.summary)
            try assertConsistentRecording(try Database(path: output), status: "complete")
        }
    }

    func testRingLargerThanTheLockedMemoryLimitIsShrunkAndSaidSo() throws {
        let paranoid = try KernelSetting.integer("kernel/perf_event_paranoid")
        let mlockKB = try KernelSetting.integer("kernel/perf_event_mlock_kb")
        let pageKB = Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
        let workspace = try RecordingWorkspace(for: self, worldWritable: true)
        let spin = try workspace.spin(named: "spin-mlock")
        let output = workspace.file("mlock.db")

        // 1024 data pages (4 MB a CPU) exceed kernel.perf_event_mlock_kb; a 64 KB ulimit -l leaves no extra room
        // (the usual 8 MB default would still fit 1024 pages on a 2-CPU machine).
        let result = try Tool.record.run(["-o", output, "-m", "1024", "--", spin, "0.3"], user: user,
                                         lockedMemoryBytes: 64 * 1024)

        if paranoid >= 3 {
            assertOneLineError(result, contains: "kernel.perf_event_paranoid")
            return
        }
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "complete")
        XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples"), 100)
        let ringPages = try database.scalarInt("SELECT ring_pages FROM run")
        if mlockKB < (1024 + 1) * pageKB {
            XCTAssertLessThan(ringPages, 1024)
            XCTAssertGreaterThan(ringPages, 0)
            XCTAssertEqual(ringPages & (ringPages - 1), 0, "ring pages must stay a power of two")
            XCTAssertTrue(result.stderr.contains("perf_event_mlock_kb"), result.summary)
            XCTAssertTrue(result.stderr.contains("allows \(ringPages) ring pages per CPU, not 1024"), result.summary)
        } else {
            XCTAssertEqual(ringPages, 1024)
        }
    }
}
