import Foundation
import TprofStore
import TprofTestSupport
import XCTest

/// What a `--call-graph dwarf` recording leaves behind: unwinding outcomes, no scratch file and no stack copies
/// (unless `--keep-stacks`), every sample accounted for; and the options it takes.
final class DwarfRecordingTests: XCTestCase {
    func testStatShowsTheUnwindingOutcomes() throws {
        let database = try DwarfAgainstPerfTests.dwarfRecording()
        let result = try Tool.report.run([database, "--stat"])
        XCTAssertEqual(result.status, 0, result.summary)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let heading = try XCTUnwrap(lines.firstIndex(of: "DWARF unwinding (samples per outcome):"), result.stdout)
        let complete = try XCTUnwrap(lines[(heading + 1)...].first { $0.hasPrefix("\tcomplete ") },
                                     "no 'complete N' line:\n\(result.stdout)")
        let completed = try XCTUnwrap(Int64(complete.dropFirst("\tcomplete ".count)), complete)

        let db = try Database(path: database)
        let samples = try db.scalarInt("SELECT count(*) FROM samples")
        XCTAssertEqual(try db.scalarInt("SELECT samples FROM unwind_stats WHERE reason = 'complete'"), completed)
        XCTAssertGreaterThan(try db.scalarInt("SELECT count(*) FROM unwind_stats"), 0)
        // Every sample of the command had its user stack unwound, nearly all to the root.
        XCTAssertEqual(try db.scalarInt("SELECT sum(samples) FROM unwind_stats"), samples)
        XCTAssertGreaterThan(Double(completed) / Double(samples), 0.95, "\(completed) of \(samples) complete")
        print("dwarf unwinding outcomes: \(try db.rows("SELECT reason, samples FROM unwind_stats"))")
        XCTAssertEqual(try db.scalarText("SELECT call_graph FROM run"), "dwarf,8192")
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM samples WHERE stack_id IS NULL OR stack_id = 0"), 0)
    }

    func testStackCopiesAreDroppedAfterUnwinding() throws {
        let database = try DwarfAgainstPerfTests.dwarfRecording()
        let url = URL(fileURLWithPath: database)
        let name = url.lastPathComponent
        let scratch = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.hasPrefix("." + name + ".stacks-") || $0.hasPrefix(name + "-stacks") }
        XCTAssertEqual(scratch, [], "no scratch file is left beside the database")
        let db = try Database(path: database)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM user_stacks"), 0)
        let attached = try db.rows("PRAGMA database_list").compactMap { row -> String? in
            if case .text(let name) = row[1] { return name }
            return nil
        }
        XCTAssertEqual(attached, ["main"])
    }

    /// The scratch file is a new file of its own: a user's file (or a symlink) at the name it had before,
    /// FILE-stacks, is never removed or written through, and nothing is left beside the output afterwards.
    func testScratchFileNeverReplacesAFileAndIsNotLeftBehind() throws {
        let workbench = try UnwindWorkbench.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-scratch")
        let target = directory.file("target")
        try Data("a symlink's target\n".utf8).write(to: URL(fileURLWithPath: target))
        try Data("the user's own file\n".utf8).write(to: URL(fileURLWithPath: directory.file("run.db-stacks")))
        XCTAssertEqual(symlink(target, directory.file("link.db-stacks")), 0)
        let expected = Set(["target", "run.db-stacks", "link.db-stacks", "run.db", "link.db"])

        for name in ["run.db", "link.db"] {
            let database = directory.file(name)
            let before = try [FileFingerprint(database + "-stacks"), FileFingerprint(target)]
            let result = try Tool.record.run(["-q", "-e", "cpu-clock", "--call-graph", "dwarf", "-o", database,
                                              "--", workbench.program, "0.3"], timeout: 180)

            XCTAssertEqual(result.status, 0, result.summary)
            XCTAssertEqual(try [FileFingerprint(database + "-stacks"), FileFingerprint(target)], before,
                           "\(name)-stacks and what it points to are as they were")
        }
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)), expected,
                       "no scratch file left")
        for name in ["run.db", "link.db"] {
            XCTAssertGreaterThan(try Database(path: directory.file(name)).scalarInt(
                "SELECT sum(samples) FROM unwind_stats"), 0, "the stacks of \(name) were copied and unwound")
        }
    }

    func testScratchFileIsNotLeftByAKilledRecorder() throws {
        let workbench = try UnwindWorkbench.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-scratch-kill")
        let database = directory.file("killed.db")
        let recorder = try ChildProcess(executable: try Tool.record.path(), arguments: [
            "-q", "-e", "cpu-clock", "--call-graph", "dwarf", "-o", database, "--", workbench.program, "5"])
        // Killed once stacks are being written: the first committed batch is in the database.
        let deadline = Date().addingTimeInterval(20)
        func samples() -> Int64 { (try? Database(path: database).scalarInt("SELECT count(*) FROM samples")) ?? 0 }
        while Date() < deadline && samples() == 0 { usleep(50_000) }
        recorder.send(SIGKILL)
        let result = try recorder.waitForExit(timeout: 10)

        XCTAssertEqual(result.signal, SIGKILL, result.summary)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertTrue(left.contains("killed.db"), "\(left)")
        XCTAssertEqual(left.filter { $0.contains("stacks") }, [], "no scratch file left by the killed recorder")
    }

    func testKeepStacksKeepsTheCopies() throws {
        let workbench = try UnwindWorkbench.shared()
        // dwarf,4096 is accepted; a size that is not a multiple of 8 is rounded up.
        let database = try workbench.record("keep.db", options: ["-F", "999", "--call-graph", "dwarf,4093",
                                                                 "--keep-stacks"],
                                            program: workbench.program, arguments: ["0.3"])
        assertNoFile(database + "-stacks")
        let db = try Database(path: database)
        XCTAssertEqual(try db.scalarText("SELECT call_graph FROM run"), "dwarf,4096")
        let samples = try db.scalarInt("SELECT count(*) FROM samples")
        let kept = try db.scalarInt("SELECT count(*) FROM user_stacks")
        XCTAssertGreaterThan(kept, 100)
        XCTAssertEqual(kept, samples)
        // 17 registers of 8 bytes; at most 4096 bytes of stack; every copy belongs to a sample.
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM user_stacks WHERE length(registers) != 136"), 0)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM user_stacks WHERE length(stack) = 0 OR length(stack) > 4096"), 0)
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM user_stacks WHERE sample_id NOT IN (SELECT rowid FROM samples)
            """), 0)
        XCTAssertEqual(try db.scalarInt("SELECT typeof(stack) = 'blob' FROM user_stacks LIMIT 1"), 1)
        // The kept copies were unwound all the same.
        let stacks = try UnwindWorkbench.folded(database)
        XCTAssertGreaterThan(stacks.share { $0.containsRun(["main", "outer", "mid", "leaf"]) }, 40)
    }

    func testCallGraphOptionsAreChecked() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-unwind-options")
        let output = directory.file("refused.db")
        for mode in ["dwarf,5", "dwarf,999999", "bogus", "dwarf,", "dwarf,abc"] {
            let result = try Tool.record.run(["-q", "--call-graph", mode, "-o", output, "--", "/bin/true"])
            assertOneLineError(result, contains: "'\(mode)'", "dwarf[,SIZE]")
            assertNoFile(output)
        }
        for options in [["--keep-stacks"], ["-g", "--keep-stacks"], ["--call-graph", "fp", "--keep-stacks"]] {
            let result = try Tool.record.run(["-q"] + options + ["-o", output, "--", "/bin/true"])
            assertOneLineError(result, contains: "--keep-stacks goes with --call-graph dwarf")
            assertNoFile(output)
        }
        // The smallest and largest sizes are accepted.
        for mode in ["dwarf,8", "dwarf,65528"] {
            let result = try Tool.record.run(["-q", "-e", "cpu-clock", "--call-graph", mode, "-o", output, "--force",
                                              "--", "/bin/true"])
            assertNoCrash(result)
            XCTAssertEqual(result.status, 0, result.summary)
            XCTAssertEqual(try Database(path: output).scalarText("SELECT call_graph FROM run"), mode)
        }
    }

    func testEverySampleIsWrittenOrCountedAt4000Hz() throws {
        let workbench = try UnwindWorkbench.shared()
        let database = try workbench.record("busy.db", options: ["-F", "4000", "--call-graph", "dwarf"],
                                            program: workbench.program, arguments: ["1"])
        let db = try Database(path: database)
        let rows = try db.rows("SELECT cpu, read, written, overflow, dropbuf_sample, unwritten FROM counters")
        XCTAssertFalse(rows.isEmpty)
        var written: Int64 = 0
        for row in rows {
            let values = row.map { value -> Int64 in
                if case .integer(let number) = value { return number }
                return -1
            }
            XCTAssertEqual(values[1], values[2] + values[3] + values[4] + values[5],
                           "cpu \(values[0]): read != written + overflow + dropbuf_sample + unwritten (\(values))")
            written += values[2]
        }
        let samples = try db.scalarInt("SELECT count(*) FROM samples")
        XCTAssertEqual(samples, written, "samples in the database vs written")
        XCTAssertGreaterThan(samples, 2000, "4000 Hz for 1 s of CPU")
        XCTAssertEqual(try db.scalarInt("SELECT sum(samples) FROM unwind_stats"), samples)
        let lost = try db.rows("""
            SELECT sum(overflow), sum(dropbuf_sample), sum(unwritten), sum(kernel_lost_samples), sum(kernel_lost)
            FROM counters
            """)
        print("dwarf at 4000 Hz: \(samples) samples written, lost (overflow, dropbuf_sample, unwritten, "
            + "kernel_lost_samples, kernel_lost): \(lost)")
    }

    /// A FIFO where the binary's separate debug file would be (its .gnu_debuglink names it) never blocks the
    /// recording: the symbol reader opens only regular files, and the unwinder unwinds from the binary's own
    /// .eh_frame without searching for the debug file (an open of the FIFO would wait for a writer for ever).
    func testAFIFOAtTheDebugLinkDoesNotBlockUnwinding() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-debuglink")
        let program = try compileC(source: Workload.spinSource, name: "linked", flags: ["-g"], in: directory)
        let debugFile = directory.file("linked.debug")
        try UnwindWorkbench.run("/usr/bin/objcopy", ["--only-keep-debug", program, debugFile])
        try UnwindWorkbench.run("/usr/bin/objcopy", ["--strip-debug", "--add-gnu-debuglink=" + debugFile, program])
        XCTAssertEqual(unlink(debugFile), 0)
        XCTAssertEqual(mkfifo(debugFile, 0o600), 0)
        let output = directory.file("fifo.db")

        let result = try Tool.record.run(["-q", "-e", "cpu-clock", "--call-graph", "dwarf", "-o", output, "--", program,
                                          "0.3"], timeout: 60)

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "complete")
        XCTAssertGreaterThan(try database.scalarInt("SELECT count(*) FROM unwind_stats"), 0, "the stacks were unwound")
    }
}
