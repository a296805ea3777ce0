import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 stop a recording cleanly, never as a crash; the recorded
/// command never outlives the recorder.
final class StopSignalTests: XCTestCase {
    /// Starts a 30 s spin under the recorder (through `sh -c SHELLSCRIPT` when given, with the spin as "$0"), with
    /// `options` before the command, and waits until it runs; returns the recorder and the spin's pid.
    private func startLongRecording(_ workspace: RecordingWorkspace, name: String, output: String,
                                    options: [String] = [], shellScript: String? = nil) throws
        -> (recorder: ChildProcess, spinPID: Int32) {
        let spin = try workspace.spin(named: name)
        let command = shellScript.map { ["sh", "-c", $0, spin] } ?? [spin, "30"]
        let recorder = try Tool.record.start(["-o", output] + options + ["--"] + command)
        guard Processes.waitUntil(timeout: 10, { Processes.alive(named: name).count == 1 }),
              let spinPID = Processes.alive(named: name).first else {
            recorder.send(SIGKILL)
            throw TestSupportError("the recorded spin program did not start\n"
                + (recorder.wait(timeout: 5)?.summary ?? ""))
        }
        usleep(1_000_000)
        return (recorder, spinPID)
    }

    private func assertStopsCleanly(on signal: Int32, signalName: String, file: StaticString = #filePath,
                                    line: UInt = #line) throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-" + signalName.lowercased())
        let output = workspace.file("stopped.db")
        let (recorder, spinPID) = try startLongRecording(workspace, name: name, output: output)

        let sent = Date()
        recorder.send(signal)
        let result = try recorder.waitForExit(timeout: 10)

        XCTAssertLessThan(Date().timeIntervalSince(sent), 5, "the recorder must stop within a few seconds",
                          file: file, line: line)
        assertNoCrash(result, file: file, line: line)
        XCTAssertEqual(result.status, 128 + signal, "the command got the signal too\n\(result.summary)",
                       file: file, line: line)
        XCTAssertFalse(Processes.isAlive(spinPID), "the recorded command outlived the recorder", file: file,
                       line: line)
        XCTAssertEqual(Processes.alive(named: name), [], file: file, line: line)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "interrupted", file: file, line: line)
        XCTAssertEqual(try database.scalarText("SELECT status_reason FROM run"),
                       "stopped by signal \(signal) (\(signalName))", file: file, line: line)
        XCTAssertEqual(try database.scalarInt("SELECT exit_signal FROM run"), Int64(signal), file: file, line: line)
        try assertSampledAtRequestedRate(database, pid: spinPID, file: file, line: line)
    }

    func testSIGINTStopsTheRecordingAsInterrupted() throws {
        try assertStopsCleanly(on: SIGINT, signalName: "SIGINT")
    }

    func testSIGQUITStopsTheRecordingAsInterruptedNotAsACrash() throws {
        try assertStopsCleanly(on: SIGQUIT, signalName: "SIGQUIT")
    }

    func testSIGUSR1StopsTheRecordingAsInterrupted() throws {
        try assertStopsCleanly(on: SIGUSR1, signalName: "SIGUSR1")
    }

    func testSIGTERMStopsTheRecordingAsInterrupted() throws {
        try assertStopsCleanly(on: SIGTERM, signalName: "SIGTERM")
    }

    func testSIGHUPStopsTheRecordingAsInterrupted() throws {
        try assertStopsCleanly(on: SIGHUP, signalName: "SIGHUP")
    }

    func testCommandIgnoringTheSignalIsKilledAndThatIsSaid() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-deaf")
        let output = workspace.file("deaf.db")
        let (recorder, spinPID) = try startLongRecording(workspace, name: name, output: output,
                                                         shellScript: "trap '' INT; exec \"$0\" 30")

        recorder.send(SIGINT)
        let result = try recorder.waitForExit(timeout: 15)

        assertNoCrash(result)
        XCTAssertEqual(result.status, 128 + SIGKILL, result.summary)
        let killed = "the command did not stop within 2 s of SIGINT; killed it with SIGKILL"
        XCTAssertTrue(result.stderr.contains("tprof-record: \(killed)"), result.summary)
        XCTAssertFalse(Processes.isAlive(spinPID))
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "interrupted")
        XCTAssertEqual(try database.scalarText("SELECT status_reason FROM run"),
                       "stopped by signal \(SIGINT) (SIGINT); \(killed)")
        XCTAssertEqual(try database.scalarInt("SELECT exit_signal FROM run"), Int64(SIGKILL))
        let header = try Tool.report.run([output, "--header"])
        XCTAssertTrue(header.stdout.contains(killed), header.summary)
    }

    func testStderrWithNoReaderDoesNotKillTheRecorder() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("no-reader.db")
        var ends: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&ends), 0)
        close(ends[0])
        let recorder = Process()
        recorder.executableURL = URL(fileURLWithPath: try Tool.record.path())
        recorder.arguments = ["-o", output, "-e", "cpu-clock", "--", "sh", "-c", "exit 3"]
        recorder.standardOutput = FileHandle.nullDevice
        recorder.standardError = FileHandle(fileDescriptor: ends[1], closeOnDealloc: true)

        try recorder.run()
        recorder.waitUntilExit()

        XCTAssertEqual(recorder.terminationReason, .exit, "SIGPIPE must not end the recorder")
        XCTAssertEqual(recorder.terminationStatus, 3, "the command's exit status")
        XCTAssertEqual(try Database(path: output).scalarText("SELECT status FROM run"), "complete")
    }

    func testKilledRecorderTakesTheCommandWithIt() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-kill")
        let output = workspace.file("killed.db")
        let (recorder, spinPID) = try startLongRecording(workspace, name: name, output: output)

        recorder.send(SIGKILL)
        let result = try recorder.waitForExit(timeout: 10)

        XCTAssertEqual(result.signal, SIGKILL)
        XCTAssertTrue(Processes.waitUntil(timeout: 3) { !Processes.isAlive(spinPID) },
                      "the command must die with the recorder (PR_SET_PDEATHSIG)")
        XCTAssertEqual(Processes.alive(named: name), [])
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "recording",
                       "a killed recorder cannot finish the run")
        XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok")
        XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples"), 0,
                             "batches committed before the kill survive it")
    }

    /// A second stop signal while the file is finished skips symbol resolution: the run is complete and
    /// `--resymbolize` adds the names later. SIGINT and SIGTERM sent together are two pending signals (two SIGINTs
    /// could merge into one), so the second is waiting when finishing starts, whatever the machine's load.
    func testSecondStopSignalSkipsSymbolResolution() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-skip")
        let output = workspace.file("skipped.db")
        let (recorder, _) = try startLongRecording(workspace, name: name, output: output)

        recorder.send(SIGINT)
        recorder.send(SIGTERM)
        let result = try recorder.waitForExit(timeout: 30)

        assertNoCrash(result)
        XCTAssertEqual(result.status, 128 + SIGINT, result.summary)
        XCTAssertTrue(result.stderr.contains("symbol resolution skipped (SIGTERM)")
                      && result.stderr.contains("--resymbolize"), result.summary)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "interrupted")
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM symbol_counts"), 0, "nothing half resolved")
        assertOneLineError(try Tool.report.run([output, "--by-symbol"]), contains: "--resymbolize")

        let resymbolize = try Tool.report.run(["--resymbolize", output])
        XCTAssertEqual(resymbolize.status, 0, resymbolize.summary)
        let symbols = try Tool.report.run([output, "--by-symbol"])
        XCTAssertEqual(symbols.status, 0, symbols.summary)
        XCTAssertTrue(symbols.stdout.contains("hot_a"), symbols.summary)
    }

    /// With `--call-graph dwarf`, the second stop signal also skips unwinding: the copied stacks move into the file
    /// (they lived in a scratch file), and `--resymbolize` unwinds them and resolves the names later.
    func testSecondStopSignalSkipsUnwindingAndKeepsTheStacks() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-skip-dwarf")
        let output = workspace.file("skipped-dwarf.db")
        let (recorder, _) = try startLongRecording(workspace, name: name, output: output,
                                                   options: ["--call-graph", "dwarf"])

        recorder.send(SIGINT)
        recorder.send(SIGTERM)
        let result = try recorder.waitForExit(timeout: 30)

        assertNoCrash(result)
        XCTAssertEqual(result.status, 128 + SIGINT, result.summary)
        XCTAssertTrue(result.stderr.contains("stack unwinding and symbol resolution skipped (SIGTERM)")
                      && result.stderr.contains("--resymbolize"), result.summary)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "interrupted")
        let samples = try database.scalarInt("SELECT COUNT(*) FROM samples")
        XCTAssertGreaterThan(samples, 0)
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM user_stacks"), samples,
                       "every copied stack is kept in the file")
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM unwind_stats"), 0, "nothing half unwound")
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM symbol_counts"), 0, "nothing half resolved")

        let resymbolize = try Tool.report.run(["--resymbolize", output])
        XCTAssertEqual(resymbolize.status, 0, resymbolize.summary)
        XCTAssertTrue(resymbolize.stdout.contains("unwound \(samples) stacks"), resymbolize.summary)
        let reopened = try Database(path: output)
        XCTAssertEqual(try reopened.scalarInt("SELECT sum(samples) FROM unwind_stats"), samples)
        let callers = try Tool.report.run([output, "--callers", "hot_a"])
        XCTAssertEqual(callers.status, 0, callers.summary)
        XCTAssertTrue(callers.stdout.contains("main"), "hot_a's caller, from the unwound stacks\n\(callers.summary)")
        let again = try Tool.report.run(["--resymbolize", output])
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertFalse(again.stdout.contains("unwound"), "stacks are unwound once\n\(again.summary)")
    }
}
