import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// SIGINT, SIGTERM and SIGHUP at random moments of a recording: a clean finish every time.
final class StopSignalFaultTests: XCTestCase {
    func testStopSignalsAtRandomMomentsFinishCleanly() throws {
        let workspace = try FaultWorkspace(for: self)
        let signals: [(number: Int32, name: String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]
        var cases = 0
        for round in 0..<2 {
            for (number, name) in signals {
                let callGraph = round == 1
                let delay = Double.random(in: 0.3...1.0)
                let output = workspace.file("\(name)-\(round).db")
                let context = "\(name) round \(round) (after \(String(format: "%.2f", delay)) s\(callGraph ? ", -g" : ""))"
                let run = try RunningRecording.start(
                    workspace, prefix: "sig\(number)-\(round)",
                    arguments: ["-q", "-o", output, "-F", "1999"] + (callGraph ? ["-g"] : []))

                run.sleep(untilRunningFor: delay)
                let sent = Date()
                run.recorder.send(number)
                let result = try run.recorder.waitForExit(timeout: 60)
                cases += 1

                assertNoTrap(result, context)
                XCTAssertEqual(result.status, 128 + number,
                               "\(context): the command got the signal too and its status is passed on\n\(result.summary)")
                XCTAssertFalse(Processes.isAlive(run.spinPID), "\(context): the recorded command was not ended")
                XCTAssertEqual(Processes.alive(named: run.spinName), [], context)
                let database = try Database(path: output)
                XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok", context)
                XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "interrupted", context)
                XCTAssertEqual(try database.scalarText("SELECT status_reason FROM run"),
                               "stopped by signal \(number) (\(name))", context)
                XCTAssertEqual(try database.scalarInt("SELECT exit_signal FROM run"), Int64(number), context)
                try assertExactAccounting(database, context)
                XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples"),
                               try database.scalarInt("SELECT coalesce(SUM(samples), 0) FROM events"),
                               "\(context): events.samples")
                XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples"), 0, context)
                let walSize = (try? FileManager.default.attributesOfItem(atPath: output + "-wal"))?[.size] as? Int ?? 0
                XCTAssertEqual(walSize, 0, "\(context): a finished run is checkpointed")
                print("\(context): exit \(result.status) after \(String(format: "%.2f", Date().timeIntervalSince(sent))) s")
            }
        }
        print("stop signals: \(cases) cases")
    }
}
