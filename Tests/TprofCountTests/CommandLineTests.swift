import Foundation
import TprofTestSupport
import XCTest

/// tprof-count's exit statuses are tprof-record's: the command's own, 127 and 126 when it cannot start, 64 for a
/// bad option, each failure one line on stderr.
final class CommandLineTests: XCTestCase {
    func testTheCommandsExitStatusPassesThrough() throws {
        let exited = try Tool.count.run(["-e", "task-clock", "--", "sh", "-c", "exit 3"])
        XCTAssertEqual(exited.status, 3, exited.summary)
        XCTAssertTrue(exited.stderr.contains("task-clock"), exited.summary)
        let killed = try Tool.count.run(["-e", "task-clock", "--", "sh", "-c", "kill -KILL $$"])
        XCTAssertEqual(killed.status, 128 + 9, killed.summary)
    }

    func testACommandThatCannotStart() throws {
        let missing = try Tool.count.run(["--", "/nonexistent/program"])
        assertOneLineError(missing, contains: "cannot run '/nonexistent/program'")
        XCTAssertEqual(missing.status, 127)
        let notFound = try Tool.count.run(["--", "no-such-command-anywhere"])
        assertOneLineError(notFound, contains: "command not found")
        XCTAssertEqual(notFound.status, 127)
        let directory = try CountWorkbench.freshDirectory(for: self)
        let plain = directory.file("not-executable")
        try "echo hi\n".write(toFile: plain, atomically: true, encoding: .utf8)
        let notRunnable = try Tool.count.run(["--", plain])
        assertOneLineError(notRunnable, contains: "cannot run")
        XCTAssertEqual(notRunnable.status, 126)
        let gone = try Tool.count.run(["-p", "2147483646"])
        assertOneLineError(gone, contains: "no such process")
        XCTAssertEqual(gone.status, 127)
    }

    /// Each refused combination is one perf stat refuses too, said in one line.
    func testBadOptionsAreOneLineErrors() throws {
        let cases: [([String], String)] = [
            ([], "nothing to count"),
            (["-e", "bogus", "--", "true"], "unknown event 'bogus'"),
            (["-e", "cycles:x", "--", "true"], "bad modifier"),
            (["-e", "", "--", "true"], "empty event name"),
            (["-I", "5", "--", "true"], "bad value 5 for -I"),
            (["--per-cpu", "--", "true"], "--per-cpu goes with -a or -C"),
            (["-a", "--per-cpu", "--per-thread"], "either --per-cpu or --per-thread"),
            (["-p", "1", "-a"], "give only one of"),
            (["-p", "1", "--", "true"], "give only one of"),
            (["-p", "x1"], "bad process id 'x1'"),
            (["-C", "1-0"], "bad CPU list '1-0'"),
            (["--format", "xml", "--", "true"], "xml"),
            (["--force", "--", "true"], "--force goes with -o"),
            (["--bogus"], "--bogus"),
        ]
        for (arguments, text) in cases {
            let result = try Tool.count.run(arguments)
            assertOneLineError(result, contains: text)
            XCTAssertEqual(result.status, 64, "\(arguments)\n\(result.summary)")
        }
    }

    func testHelpAndVersion() throws {
        let help = try Tool.count.run(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--per-thread"), help.summary)
        XCTAssertEqual(try Tool.count.run(["--version"]).status, 0)
    }
}
