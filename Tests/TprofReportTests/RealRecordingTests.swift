import Foundation
import TprofTestSupport
import XCTest

/// A real recording (tprof-record, perf_event) of a program whose two children burn CPU in a 2:1 ratio.
final class RealRecordingTests: XCTestCase {
    func testChildrensSharesMatchTheirCPUTime() throws {
        let fixtures = try Fixtures.get()
        let run = fixtures.realRun
        XCTAssertEqual(run.hog.cpuSeconds / run.plain.cpuSeconds, 2, accuracy: 0.25,
                       "the children did not burn CPU 2:1\n\(run.record.summary)")
        guard let report = assertReport(fixtures.real, ["--by-pid"], expected: try RawCounts(fixtures.real, [.pid])) else {
            return
        }
        var share: [Int64: Double] = [:]
        for row in report.rows { if let pid = Int64(row[2]) { share[pid] = Double(row[0]) } }
        let hogShare = try XCTUnwrap(share[run.hog.pid], "the busier child is missing\n\(report.result.stdout)")
        let plainShare = try XCTUnwrap(share[run.plain.pid], "the other child is missing\n\(report.result.stdout)")
        XCTAssertEqual(report.rows.first?[2], String(run.hog.pid), "the busier child is not first")

        // Each child's share of all samples against its share of the CPU time the program used, within 5 points.
        let cpuTotal = run.hog.cpuSeconds + run.plain.cpuSeconds + run.parent.cpuSeconds
        XCTAssertEqual(hogShare, 100 * run.hog.cpuSeconds / cpuTotal, accuracy: 5, report.result.stdout)
        XCTAssertEqual(plainShare, 100 * run.plain.cpuSeconds / cpuTotal, accuracy: 5, report.result.stdout)
        // And the 2:1 design: two thirds and one third of the children's samples.
        XCTAssertEqual(100 * hogShare / (hogShare + plainShare), 200.0 / 3, accuracy: 5, report.result.stdout)

        let samples = try queryInt(fixtures.real, "SELECT count(*) FROM samples")
        let hz = try queryInt(fixtures.real, "SELECT requested_frequency FROM events WHERE id = 0")
        XCTAssertEqual(Double(samples) / Double(hz), cpuTotal, accuracy: 0.25 * cpuTotal,
                       "samples at \(hz) Hz do not cover the program's CPU time")
    }

    /// A child that renames itself shows its new name; a child that only forks keeps its parent's name, as
    /// the kernel copies the name on fork (perf shows it the same way).
    func testChildrenAreNamedAsTheKernelNamesThem() throws {
        let fixtures = try Fixtures.get()
        let run = fixtures.realRun
        guard let report = assertReport(fixtures.real, ["--by-pid"], expected: try RawCounts(fixtures.real, [.pid])) else {
            return
        }
        var names: [String: String] = [:]
        for key in report.keys { names[key[0]] = key[1] }
        XCTAssertEqual(names[String(run.hog.pid)], RealRecording.hogName, report.result.stdout)
        XCTAssertEqual(names[String(run.plain.pid)], RealRecording.programName, report.result.stdout)
        let byComm = assertReport(fixtures.real, ["--by-comm"], expected: try RawCounts(fixtures.real, [.comm]))
        XCTAssertFalse(byComm?.keys.contains([""]) ?? true, "samples without a command name\n\(byComm?.result.stdout ?? "")")
    }

    func testEventAndModeOfARealRecording() throws {
        let fixtures = try Fixtures.get()
        let byEvent = assertReport(fixtures.real, ["--by-event"], expected: try RawCounts(fixtures.real, [.event]))
        XCTAssertEqual(byEvent?.keys, [["cpu-clock"]])
        let byMode = assertReport(fixtures.real, ["--by-mode"], expected: try RawCounts(fixtures.real, [.mode]))
        XCTAssertEqual(byMode?.keys.first, ["user"], "a CPU-bound program runs mostly in user mode")
    }
}
