import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// `kill -9` of tprof-record at random moments: every batch committed before the kill is in a sound database,
/// reports read it and say the run did not finish, and the recorded command dies with the recorder.
final class KillNineTests: XCTestCase {
    func testKillNineAtRandomMomentsKeepsEveryCommittedBatch() throws {
        let workspace = try FaultWorkspace(for: self)
        let cases = 10
        var withSamples = 0
        for index in 0..<cases {
            // Stratified over 0.2-1.5 s, so short and long runs are both always tried.
            let delay = 0.2 + 1.3 * (Double(index) + Double.random(in: 0..<1)) / Double(cases)
            let callGraph = index % 3 == 1
            let output = workspace.file("killed-\(index).db")
            let context = "kill -9 case \(index) (after \(String(format: "%.2f", delay)) s\(callGraph ? ", -g" : ""))"
            let run = try RunningRecording.start(
                workspace, prefix: "k9-\(index)", arguments: ["-q", "-o", output, "-F", "999"] + (callGraph ? ["-g"] : []))

            run.sleep(untilRunningFor: delay)
            // What a reader saw committed just before the kill: all of it must survive (no assumption about how
            // many samples a busy machine lets the command take in a given time).
            let committedBeforeKill = (try? Database(path: output).scalarInt("SELECT COUNT(*) FROM samples")) ?? 0
            run.recorder.send(SIGKILL)
            let result = try run.recorder.waitForExit(timeout: 10)

            XCTAssertEqual(result.signal, SIGKILL, "\(context): \(result.summary)")
            XCTAssertTrue(Processes.waitUntil(timeout: 1) { !Processes.isAlive(run.spinPID) },
                          "\(context): the recorded command outlived the recorder by more than 1 s (PR_SET_PDEATHSIG)")
            XCTAssertEqual(Processes.alive(named: run.spinName), [], context)

            let database = try Database(path: output)
            XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok", context)
            XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "recording",
                           "\(context): a killed recorder cannot have finished the run")
            let samples = try database.scalarInt("SELECT COUNT(*) FROM samples")
            XCTAssertGreaterThanOrEqual(samples, committedBeforeKill,
                                        "\(context): samples committed before the kill were lost")
            try assertCommittedBatchesPresent(database, context)
            for row in try CounterRow.all(database) {
                XCTAssertGreaterThanOrEqual(row.read, row.written + row.overflow + row.dropbufSample + row.unwritten,
                                            "\(context): counters never claim more than was read (\(row))")
            }
            if callGraph && samples > 0 {
                XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE stack_id != 0"), 0,
                                     "\(context): call chains of committed batches are kept")
                XCTAssertEqual(try database.scalarInt("""
                    SELECT COUNT(*) FROM samples WHERE stack_id != 0
                      AND stack_id NOT IN (SELECT id FROM stacks)
                    """), 0, "\(context): every committed sample's stack was committed with it")
            }

            let report = try Tool.report.run([output, "--by-pid"])
            assertNoTrap(report, context)
            if samples > 0 {
                XCTAssertEqual(report.status, 0, "\(context): \(report.summary)")
                XCTAssertTrue(report.stdout.contains(run.spinName), "\(context): a row for the command\n\(report.summary)")
                XCTAssertTrue(report.stderr.contains("WARNING") && report.stderr.contains("did not finish"),
                              "\(context): the report warns that the run did not finish\n\(report.summary)")
                withSamples += 1
            } else {
                assertOneLineError(report, contains: "no samples")
            }
            if callGraph && samples > 0 {
                // Symbols are resolved when recording ends: a killed run says so instead of showing nothing, and
                // --resymbolize recovers them.
                let unresolved = try Tool.report.run([output, "--folded"])
                assertOneLineError(unresolved, contains: "--resymbolize")
                let resymbolize = try Tool.report.run(["--resymbolize", output])
                assertNoTrap(resymbolize, context)
                XCTAssertEqual(resymbolize.status, 0, "\(context): \(resymbolize.summary)")
                let folded = try Tool.report.run([output, "--folded"])
                XCTAssertEqual(folded.status, 0, "\(context): \(folded.summary)")
                XCTAssertTrue(folded.stdout.contains("hot_a") || folded.stdout.contains("hot_b"),
                              "\(context): the spin's hot functions after --resymbolize\n\(folded.summary)")
            }
            print("kill -9 case \(index)\(callGraph ? " (-g)" : ""): \(committedBeforeKill) samples seen committed "
                + "before the kill, \(samples) in the file")
        }
        print("kill -9: \(cases) cases (\(withSamples) with samples)")
    }

    /// kill -9 while the recorder finishes the database after a Ctrl-C (final counters, indexes, symbols): the file
    /// is sound and holds every committed batch, whether the status update made it or not.
    func testKillNineWhileFinishingKeepsASoundDatabase() throws {
        let workspace = try FaultWorkspace(for: self)
        let cases = 4
        var statuses: [String: Int] = [:]
        for index in 0..<cases {
            let output = workspace.file("finishing-\(index).db")
            let pause = Double(index) * 0.4 + Double.random(in: 0..<0.4)
            let context = "kill -9 \(String(format: "%.2f", pause)) s after SIGINT (case \(index))"
            let run = try RunningRecording.start(workspace, prefix: "kf-\(index)",
                                                 arguments: ["-q", "-o", output, "-F", "1999", "-g"])
            run.sleep(untilRunningFor: 0.6)
            run.recorder.send(SIGINT)
            usleep(UInt32(pause * 1e6))
            run.recorder.send(SIGKILL)
            let result = try run.recorder.waitForExit(timeout: 30)
            XCTAssertNil(trapMarker(in: result.stderr), "\(context): \(result.summary)")
            if result.signal == nil { XCTAssertEqual(result.status, 128 + SIGINT, "\(context): \(result.summary)") }
            XCTAssertTrue(Processes.waitUntil(timeout: 2) { Processes.alive(named: run.spinName).isEmpty }, context)

            let database = try Database(path: output)
            XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok", context)
            let status = try database.scalarText("SELECT status FROM run") ?? "NULL"
            statuses[status, default: 0] += 1
            XCTAssertTrue(["recording", "interrupted"].contains(status), "\(context): status \(status)")
            XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples"), 0, context)
            try assertCommittedBatchesPresent(database, context)
            let report = try Tool.report.run([output, "--by-pid"])
            assertNoTrap(report, context)
            XCTAssertEqual(report.status, 0, "\(context): \(report.summary)")
            XCTAssertTrue(report.stdout.contains(run.spinName), "\(context): \(report.summary)")
            if status == "recording" {
                XCTAssertTrue(report.stderr.contains("did not finish"), "\(context): \(report.summary)")
            }
            print("\(context): status \(status), recorder \(result.signal == SIGKILL ? "killed" : "had finished")")
        }
        print("kill -9 while finishing: \(cases) cases (statuses \(statuses))")
    }
}
