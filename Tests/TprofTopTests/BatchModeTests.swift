import Foundation
import TprofReport
import TprofStore
import TprofTestSupport
import XCTest

/// -b: refreshes as text on stdout, -n, -o, the temporary recording, the command's exit status, bad options.
final class BatchModeTests: XCTestCase {
    /// The refreshes of -b output, each from its header line on.
    private func refreshes(_ stdout: String) -> [TopScreen] {
        var blocks: [[String]] = []
        for line in stdout.components(separatedBy: "\n") {
            if line.hasPrefix("tprof-top") { blocks.append([]) }
            if !blocks.isEmpty { blocks[blocks.count - 1].append(line) }
        }
        return blocks.map { TopScreen(lines: $0) }
    }

    func testBatchPrintsCountRefreshesWithTheHotFunctionFirst() throws {
        let spin = try SpinExample.start()
        defer { spin.send(SIGKILL) }
        let directory = try TemporaryDirectory()
        let result = try ChildProcess.run("/usr/bin/env", ["TMPDIR=\(directory.path)", try Tool.top.path(),
                                                          "-b", "-n", "2", "-i", "0.5", "-p", "\(spin.pid)"])
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let blocks = refreshes(result.stdout)
        XCTAssertEqual(blocks.count, 2, result.stdout)
        for block in blocks {
            XCTAssertTrue(block.header.hasPrefix("tprof-top: "), block.header)
            XCTAssertEqual(symbol(of: block.rows.first ?? ""), "hot_a", block.lines.joined(separator: "\n"))
            XCTAssertFalse(block.lines.contains { $0.contains("q quit") }, "a help line in batch output")
        }
        // Without -o the recording lived in a private directory under TMPDIR, gone at exit.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    func testOutputKeepsAFinishedDatabaseWithSymbols() throws {
        let spin = try SpinExample.start()
        defer { spin.send(SIGKILL) }
        let directory = try TemporaryDirectory()
        let output = directory.file("top.db")
        let result = try Tool.top.run(["-b", "-n", "2", "-i", "0.5", "-o", output, "-p", "\(spin.pid)"])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["top.db"])
        let report = try Tool.report.run([output, "--by-symbol"])
        XCTAssertEqual(report.status, 0, report.summary)
        XCTAssertTrue(report.stdout.contains("hot_a"), report.stdout)
        XCTAssertTrue(report.stdout.contains("complete"), report.stdout)

        // As tprof-record: an existing file is refused without --force and replaced with it.
        let before = try FileFingerprint(output)
        assertOneLineError(try Tool.top.run(["-b", "-n", "1", "-o", output, "-p", "\(spin.pid)"]), contains: output)
        XCTAssertEqual(try FileFingerprint(output), before)
        let forced = try Tool.top.run(["-b", "-n", "1", "-i", "0.2", "-o", output, "--force", "-p", "\(spin.pid)"])
        XCTAssertEqual(forced.status, 0, forced.summary)
        XCTAssertNotEqual(try FileFingerprint(output), before)
    }

    func testEachRefreshReadsOnlyTheNewSamples() throws {
        let spin = try SpinExample.start()
        defer { spin.send(SIGKILL) }
        let directory = try TemporaryDirectory()
        let output = directory.file("top.db")
        XCTAssertEqual(try Tool.top.run(["-b", "-n", "1", "-i", "0.3", "-o", output, "-p", "\(spin.pid)"]).status, 0)
        let plan = try SampleTail(database: ReportDatabase(path: BytePath(output))).queryPlan()
        XCTAssertTrue(plan.contains { $0.contains("SEARCH samples USING INTEGER PRIMARY KEY (rowid>?)") }, "\(plan)")
        XCTAssertFalse(plan.contains { $0.contains("SCAN samples") }, "\(plan)")
    }

    func testTheCommandsExitStatusAndSignalsAreTprofTopsAsUnderTprofRecord() throws {
        let directory = try TemporaryDirectory()
        let exited = try ChildProcess.run("/usr/bin/env", ["TMPDIR=\(directory.path)", try Tool.top.path(),
                                                          "-b", "-i", "0.2", "--", "sh", "-c", "sleep 0.5; exit 3"])
        assertNoCrash(exited)
        XCTAssertEqual(exited.status, 3, exited.summary)
        let killed = try Tool.top.run(["-b", "-i", "0.2", "--", "sh", "-c", "kill -KILL $$"])
        XCTAssertEqual(killed.status, 128 + SIGKILL, killed.summary)
        XCTAssertEqual(try Tool.top.run(["-b", "--", "/nonexistent/command"]).status, 127)

        // SIGTERM to tprof-top ends the command with it, and the temporary recording is removed.
        let top = try ChildProcess(executable: try Tool.top.path(), arguments: ["-b", "-i", "0.2", "--", try SpinExample.path(), "60"])
        usleep(500_000)
        top.send(SIGTERM)
        let stopped = try top.waitForExit(timeout: 30)
        assertNoCrash(stopped)
        XCTAssertEqual(stopped.status, 128 + SIGTERM, stopped.summary)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    func testBadOptionsAreOneLineErrorsWithStatus64() throws {
        let cases: [([String], String)] = [
            (["-b", "-i", "0"], "-i"), (["-b", "-i", "-1"], "-i"), (["-b", "-n", "0"], "-n"), (["-b", "-F", "-5"], "-F"),
            (["-b", "-e", ""], "empty event name"), (["-b", "-p", "x"], "bad process id"), (["-b", "-p", "1", "-a"], "only one"),
            (["-b", "--force"], "--force"), (["-b", "--bogus"], "bogus"), (["-b", "-F", "5", "-c", "7"], "-F or -c"),
            ([], "terminal"),
        ]
        for (arguments, text) in cases {
            let result = try Tool.top.run(arguments)
            assertOneLineError(result, contains: text)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.summary)")
        }
    }
}
