import Foundation
import TprofTestSupport
import XCTest

/// Every kind of report takes `--off-cpu`: the same intervals as tables in milliseconds, stacks in microseconds,
/// pprof in nanoseconds, and the timeline split over its buckets.
final class OffCPUReportTests: XCTestCase {
    private func database() throws -> String { try OffCPUTimeTests.dwarf().database }

    func testCallersOfASleepAreTheFunctionsThatSlept() throws {
        let rows = try OffCPUWorkbench.report(try database(), ["--off-cpu", "--callers", "nap"])
        XCTAssertEqual(rows.first, ["percent", "off-cpu ms", "caller"])
        var callers: [String: Double] = [:]
        for row in rows.dropFirst() { callers[row[2]] = Double(row[1]) }
        for (caller, seconds) in [("main", OffCPUWorkload.napSeconds), ("wait_pipe", OffCPUWorkload.pipeSeconds),
                                  ("holder", OffCPUWorkload.lockSeconds)] {
            XCTAssertEqual(callers[caller] ?? 0, seconds * 1000, accuracy: seconds * 1000 * 0.05, caller)
        }
    }

    /// The off-CPU tracepoints take every switch: the header counts the switch-outs rather than a sampling rate.
    func testTheHeaderCountsSwitchOutsWithoutARate() throws {
        let database = try database()
        let result = try Tool.report.run([database, "--header"])
        XCTAssertEqual(result.status, 0, result.summary)
        let lines = result.stdout.split(separator: "\n").filter { $0.contains("off-cpu") }
        XCTAssertEqual(lines.count, 2, result.stdout)
        let switchOuts = try Database(path: database).scalarInt("SELECT samples FROM events WHERE name = 'off-cpu'")
        XCTAssertTrue(lines[0].contains("off-cpu, period 1, \(switchOuts) switch-outs"), String(lines[0]))
        XCTAssertFalse(lines.contains { $0.contains("Hz") }, result.stdout)
    }

    func testOutputFilesSayTheUnit() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-offcpu-reports")
        defer { directory.remove() }
        let database = try database()
        for (option, file) in [("--flamegraph", "off.svg"), ("--speedscope", "off.json"), ("--pprof", "off.pb.gz")] {
            let result = try Tool.report.run([database, "--off-cpu", option, directory.file(file)])
            XCTAssertEqual(result.status, 0, result.summary)
        }
        let svg = try String(contentsOfFile: directory.file("off.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("off-CPU time (µs)"), "the flame graph's title names the unit")
        XCTAssertTrue(svg.contains("µs off CPU"))
        let speedscope = try String(contentsOfFile: directory.file("off.json"), encoding: .utf8)
        XCTAssertTrue(speedscope.contains("\"unit\":\"microseconds\""))
        let pprof = try ChildProcess.run("/bin/gzip", ["-dc", directory.file("off.pb.gz")])
        XCTAssertTrue(pprof.stdout.contains("off-cpu") && pprof.stdout.contains("nanoseconds"),
                      "pprof's value type off-cpu in nanoseconds")
    }

    func testDiffComparesTimes() throws {
        let rows = try OffCPUWorkbench.report(try database(), ["--off-cpu", "--by-comm", "--diff",
                                                              try OffCPUTimeTests.framePointers().database])
        XCTAssertEqual(rows.first?.suffix(2), ["base off-cpu ms", "new off-cpu ms"])
    }

    func testTheTimelineSplitsIntervalsOverItsBuckets() throws {
        let database = try database()
        let main = try OffCPUTimeTests.mainThread(try Database(path: database))
        let rows = try OffCPUWorkbench.report(database, ["--off-cpu", "--timeline", "--bucket", "0.5"])
        XCTAssertEqual(rows.first, ["second", "series", "off-cpu ms"])
        let ofMain = rows.dropFirst().filter { $0[1].hasPrefix("\(main) ") }.compactMap { Double($0[2]) }
        // A 2 s sleep fills whole buckets, and no bucket holds more than its width.
        XCTAssertGreaterThanOrEqual(ofMain.filter { $0 > 499 }.count, 3)
        XCTAssertLessThanOrEqual(ofMain.max() ?? 0, 500.001)
        let total = try OffCPUWorkbench.report(database, ["--off-cpu", "--by-tid", "--tid", "\(main)"])
        let milliseconds = try XCTUnwrap(total.dropFirst().first.flatMap { Double($0[1]) })
        XCTAssertEqual(ofMain.reduce(0, +), milliseconds, accuracy: 1)
    }

    func testReportsOfSamplesLeaveTheSwitchOutsOut() throws {
        let rows = try OffCPUWorkbench.report(try database(), ["--by-event"])
        XCTAssertEqual(rows.dropFirst().map { $0[2] }, ["cpu-clock"])
        let refused = try Tool.report.run([try database(), "--wall", "--event", "cpu-clock"])
        XCTAssertEqual(refused.status, 64, refused.summary)
    }
}
