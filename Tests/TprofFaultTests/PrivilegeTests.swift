import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// As an unprivileged user (kernel.perf_event_paranoid 2): one's own command is profiled in user space, the whole
/// system is refused with the reason, files are private, and reports never write to what they read.
final class PrivilegeTests: XCTestCase {
    func testUnprivilegedUserProfilesOwnCommandOnly() throws {
        let workspace = try FaultWorkspace(for: self, worldWritable: true)
        let paranoid = try kernelInteger("kernel/perf_event_paranoid")
        let name = FaultWorkspace.uniqueName("priv")
        let spin = try workspace.spin(named: name)
        var cases = 0

        let output = workspace.file("mine.db")
        var result = try Tool.record.run(["-o", output, "--", spin, "0.5"], user: "nobody",
                                         currentDirectory: workspace.path)
        cases += 1
        assertNoTrap(result, "own command as nobody")
        XCTAssertEqual(result.status, 0, result.summary)
        if paranoid >= 2 {
            XCTAssertTrue(result.stderr.contains("kernel.perf_event_paranoid") && result.stderr.contains(":u"),
                          "the fallback to user-only events is said\n\(result.summary)")
        }
        XCTAssertEqual(permissionBits(of: output), 0o600, "the database is private")
        var info = stat()
        XCTAssertEqual(stat(output, &info), 0)
        XCTAssertEqual(info.st_uid, getpwnam("nobody")?.pointee.pw_uid, "owned by the user who recorded")
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "complete")
        XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples"), 100)
        if paranoid >= 2 {
            XCTAssertEqual(try database.scalarInt("SELECT user_only_fallback FROM run"), 1)
            XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE mode = 1"), 0,
                           "no kernel samples without the privilege")
        }
        try assertExactAccounting(database, "own command as nobody")

        let systemWide = workspace.file("system.db")
        result = try Tool.record.run(["-o", systemWide, "-a", "-d", "1"], user: "nobody", currentDirectory: workspace.path)
        cases += 1
        if paranoid >= 1 {
            assertOneLineError(result, contains: "kernel.perf_event_paranoid")
            XCTAssertTrue(result.stderr.contains("-a"), result.summary)
            for suffix in ["", "-wal", "-shm"] { assertNoFile(systemWide + suffix) }
        }

        // An output in a directory the user may not write.
        result = try Tool.record.run(["-o", "/root/tprof-nobody.db", "--", spin, "0.1"], user: "nobody",
                                     currentDirectory: workspace.path)
        cases += 1
        assertOneLineError(result, contains: "cannot create")
        assertNoFile("/root/tprof-nobody.db")

        // Another user's process.
        let rootSpin = try ChildProcess(executable: spin, arguments: ["20"])
        defer { rootSpin.send(SIGKILL) }
        result = try Tool.record.run(["-o", workspace.file("other.db"), "-p", "\(rootSpin.pid)", "-d", "1"],
                                     user: "nobody", currentDirectory: workspace.path)
        cases += 1
        assertOneLineError(result)
        assertNoFile(workspace.file("other.db"))
        print("privileges: \(cases) cases")
    }

    func testReportsNeverWriteToTheDatabaseTheyRead() throws {
        let workspace = try FaultWorkspace(for: self, worldWritable: true)
        let spin = try workspace.spin(named: FaultWorkspace.uniqueName("ro"))
        let output = workspace.file("finished.db")
        let recording = try Tool.record.run(["-q", "-o", output, "-g", "--", spin, "0.3"], user: "nobody",
                                            currentDirectory: workspace.path)
        XCTAssertEqual(recording.status, 0, recording.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "-wal"), "a finished recording has no -wal")
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "-shm"))
        let before = try FileFingerprint(output)
        usleep(20_000)
        let modes: [[String]] = [
            ["--by-pid"], ["--by-symbol"], ["--stat"], ["--header"], ["--tree"], ["--folded"], ["--timeline"],
            ["--sql", "SELECT count(*) FROM samples"], ["--format", "json", "--by-comm"],
            ["--sql", "DELETE FROM samples"], ["--sql", "PRAGMA user_version = 7"],
            ["--sql", "ATTACH DATABASE 'x.db' AS x"],
        ]
        var cases = 0
        for user in ["nobody", "root"] {
            for mode in modes {
                let result = try Tool.report.run([output] + mode, user: user == "root" ? nil : user,
                                                 currentDirectory: workspace.path)
                cases += 1
                let context = "as \(user): tprof-report \(mode.joined(separator: " "))"
                assertNoTrap(result, context)
                if mode.first == "--sql" && mode[1] != "SELECT count(*) FROM samples" {
                    assertOneLineError(result)
                } else {
                    XCTAssertEqual(result.status, 0, "\(context): \(result.summary)")
                }
                XCTAssertEqual(try FileFingerprint(output), before, "\(context): the file's bytes or mtime changed")
                for suffix in ["-wal", "-shm", "-journal"] {
                    XCTAssertFalse(FileManager.default.fileExists(atPath: output + suffix),
                                   "\(context): created \(output + suffix)")
                }
                assertNoFile(workspace.file("x.db"))
            }
        }
        print("read-only reports: \(cases) cases")
    }
}
