import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// Hostile arguments and files: bad numbers, missing commands and processes, unwritable and existing outputs,
/// symlinks to other users' files, and SQL in filter values.
final class HostileInputTests: XCTestCase {
    /// Values every numeric flag is tried with, as `FLAG=VALUE` so that a negative value reaches the flag.
    static let hostileValues = ["0", "-1", "1e30", "18446744073709551616", "abc", ""]

    /// Values that are valid for a flag (CPU 0 exists, pid 0 is a filter like any other, ...).
    static func isValid(_ flag: String, _ value: String) -> Bool {
        ["-C", "--since", "--until", "--pid", "--cpu", "--percent-limit"].contains(flag) && value == "0"
    }

    private func argument(_ flag: String, _ value: String) -> [String] {
        ["\(flag)=\(value)"]
    }

    func testBadNumbersForTprofRecordGiveOneLineAndNoFile() throws {
        let workspace = try FaultWorkspace(for: self)
        let output = workspace.file("bad.db")
        let flags = ["-F", "-c", "-d", "-m", "--flush-interval", "--buffer-samples", "--buffer-limit", "--max-stack",
                     "-C", "-p"]
        var cases = 0
        for flag in flags {
            for value in Self.hostileValues {
                // -p takes the place of the command; the others profile /bin/true.
                let target = flag == "-p" ? ["-d", "1"] : ["--", "/bin/true"]
                let arguments = ["-o", output] + argument(flag, value) + target
                let result = try Tool.record.run(arguments)
                cases += 1
                let context = "tprof-record \(arguments.joined(separator: " "))"
                if Self.isValid(flag, value) {
                    assertNoTrap(result, context)
                    XCTAssertEqual(result.status, 0, "\(context): \(result.summary)")
                    unlink(output)
                    continue
                }
                assertOneLineError(result)
                XCTAssertTrue(result.stderr.hasPrefix("tprof-record: "), "\(context): \(result.summary)")
                for suffix in ["", "-wal", "-shm"] { assertNoFile(output + suffix) }
            }
        }
        // Short flags glued to negative values, and the long form with a space, which the parser reads as a
        // missing value.
        for arguments in [["-F", "-5", "--", "/bin/true"], ["-d", "-1", "--", "/bin/true"],
                          ["--buffer-limit", "-1", "--", "/bin/true"], ["-p", "-1", "-d", "1"],
                          ["-F", "100001000", "--", "/bin/true"], ["-d", "nan", "--", "/bin/true"],
                          ["-d", "inf", "--", "/bin/true"], ["-c", "18446744073709551615", "--", "/bin/true"],
                          ["-C", "0-70000", "--", "/bin/true"], ["-C", "5-1", "--", "/bin/true"],
                          ["-p", "1,,2", "-d", "1"]] {
            let result = try Tool.record.run(["-o", output] + arguments)
            cases += 1
            assertOneLineError(result)
            for suffix in ["", "-wal", "-shm"] { assertNoFile(output + suffix) }
        }
        print("hostile tprof-record numbers: \(cases) cases")
    }

    func testBadNumbersForTprofReportGiveOneLine() throws {
        let workspace = try FaultWorkspace(for: self)
        let database = try recordSmall(workspace)
        let before = try FileFingerprint(database)
        let flags: [(flag: String, with: [String])] = [
            ("--limit", []), ("--percent-limit", []), ("--since", []), ("--until", []), ("--bucket", ["--timeline"]),
            ("--depth", ["--tree"]), ("--pid", []), ("--cpu", []),
        ]
        var cases = 0
        for (flag, with) in flags {
            for value in Self.hostileValues {
                let arguments = [database] + with + argument(flag, value)
                let result = try Tool.report.run(arguments)
                cases += 1
                let context = "tprof-report \(arguments.joined(separator: " "))"
                if Self.isValid(flag, value) {
                    assertNoTrap(result, context)
                    XCTAssertEqual(result.status, 0, "\(context): \(result.summary)")
                    continue
                }
                assertOneLineError(result)
                XCTAssertTrue(result.stderr.hasPrefix("tprof-report: "), "\(context): \(result.summary)")
            }
        }
        for arguments in [["--limit", "-1"], ["--since", "2", "--until", "1"], ["--cpu", "0-70000"],
                          ["--pid", "1,,2"], ["--timeline", "--bucket", "1e-9"], ["--tree", "--depth", "99999999999999999999"]] {
            let result = try Tool.report.run([database] + arguments)
            cases += 1
            assertOneLineError(result)
        }
        XCTAssertEqual(try FileFingerprint(database), before, "reports never change the database")
        print("hostile tprof-report numbers: \(cases) cases")
    }

    func testMissingTargetsAndOutputsFailCleanly() throws {
        let workspace = try FaultWorkspace(for: self)
        let output = workspace.file("out.db")
        var cases = 0

        // A process that does not exist: a pid above pid_max.
        let pidMax = try kernelInteger("kernel/pid_max")
        var result = try Tool.record.run(["-o", output, "-p", "\(pidMax + 1)", "-d", "1"])
        cases += 1
        assertOneLineError(result, contains: "no such process")
        assertNoFile(output)

        // A command that does not exist: exit 127; one that cannot be run: exit 126, as shells do.
        for (command, status) in [("tprof-no-such-command", 127), (workspace.file("missing"), 127),
                                  ("/etc/passwd", 126), ("/etc", 126)] as [(String, Int32)] {
            result = try Tool.record.run(["-o", output, "--", command])
            cases += 1
            assertOneLineError(result)
            XCTAssertEqual(result.status, status, result.summary)
            assertNoFile(output)
        }

        // Unwritable outputs.
        for path in ["/etc/passwd/out.db", workspace.file("no/such/dir/out.db"), "/proc/version.db"] {
            result = try Tool.record.run(["-o", path, "--", "/bin/true"])
            cases += 1
            assertOneLineError(result, contains: "cannot create")
        }
        result = try Tool.record.run(["-o", workspace.path, "--", "/bin/true"])
        cases += 1
        assertOneLineError(result, contains: workspace.path)

        // An existing output without --force is left as it was.
        let existing = workspace.file("existing.db")
        try Data("precious data\n".utf8).write(to: URL(fileURLWithPath: existing))
        let existingBefore = try FileFingerprint(existing)
        result = try Tool.record.run(["-o", existing, "--", "/bin/true"])
        cases += 1
        assertOneLineError(result, contains: "already exists")
        XCTAssertEqual(try FileFingerprint(existing), existingBefore)

        // A symlink to a file of another user: refused without --force, and replaced (never written through)
        // with it.
        let victim = workspace.file("victim")
        try Data("nobody's file\n".utf8).write(to: URL(fileURLWithPath: victim))
        guard let nobody = getpwnam("nobody") else { throw TestSupportError("no user nobody") }
        XCTAssertEqual(chown(victim, nobody.pointee.pw_uid, nobody.pointee.pw_gid), 0)
        let victimBefore = try FileFingerprint(victim)
        let link = workspace.file("link.db")
        XCTAssertEqual(symlink(victim, link), 0)
        result = try Tool.record.run(["-o", link, "--", "/bin/true"])
        cases += 1
        assertOneLineError(result, contains: "already exists")
        XCTAssertEqual(try FileFingerprint(victim), victimBefore, "the other user's file is unchanged")
        result = try Tool.record.run(["-q", "-o", link, "--force", "--", "/bin/true"])
        cases += 1
        assertNoTrap(result, "--force over a symlink")
        XCTAssertEqual(try FileFingerprint(victim), victimBefore, "--force must not write through the link")
        var info = stat()
        XCTAssertEqual(lstat(link, &info), 0)
        XCTAssertNotEqual(info.st_mode & S_IFMT, S_IFLNK, "the link itself was replaced by the new database")
        XCTAssertEqual(info.st_uid, getuid())
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        // A dangling symlink is not followed either.
        let dangling = workspace.file("dangling.db")
        let target = workspace.file("created-through-link")
        XCTAssertEqual(symlink(target, dangling), 0)
        result = try Tool.record.run(["-o", dangling, "--", "/bin/true"])
        cases += 1
        assertOneLineError(result)
        assertNoFile(target)
        print("missing targets and outputs: \(cases) cases")
    }

    func testFilterValuesThatLookLikeSQLAreOnlyData() throws {
        let workspace = try FaultWorkspace(for: self)
        let database = try recordSmall(workspace)
        let before = try FileFingerprint(database)
        let samples = try Database(path: database).scalarInt("SELECT COUNT(*) FROM samples")
        let hostile = "x' OR 1=1; DROP TABLE samples; --"
        var cases = 0
        for filter in ["--comm", "--event", "--symbol", "--dso"] {
            for value in [hostile, "\" OR \"\"=\"", "'); DELETE FROM samples; --", "%", "*"] {
                let result = try Tool.report.run([database, "--by-pid", "\(filter)=\(value)"])
                cases += 1
                assertNoTrap(result, "\(filter) \(value)")
                if result.status == 0 {
                    XCTAssertTrue(result.stderr.contains("no samples match"),
                                  "\(filter) \(value) matched samples: it was read as SQL\n\(result.summary)")
                    XCTAssertFalse(result.stdout.contains("100.00%"), result.summary)
                } else {
                    assertOneLineError(result)
                }
            }
        }
        for value in [hostile, "1 OR 1=1", "1); DROP TABLE samples; --"] {
            let result = try Tool.report.run([database, "--by-pid", "--pid=\(value)"])
            cases += 1
            assertOneLineError(result, contains: "--pid")
        }
        XCTAssertEqual(try FileFingerprint(database), before, "the database is unchanged")
        XCTAssertEqual(try Database(path: database).scalarInt("SELECT COUNT(*) FROM samples"), samples)
        print("SQL-looking filter values: \(cases) cases")
    }

    /// A short finished recording.
    private func recordSmall(_ workspace: FaultWorkspace) throws -> String {
        let output = workspace.file("small.db")
        let spin = try workspace.spin(named: FaultWorkspace.uniqueName("hostile"))
        let result = try Tool.record.run(["-q", "-o", output, "--", spin, "0.3"])
        guard result.status == 0 else { throw TestSupportError("recording failed\n\(result.summary)") }
        return output
    }
}
