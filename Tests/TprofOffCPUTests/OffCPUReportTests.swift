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

    /// `--since`/`--until` take the part of each interval inside the window, whenever it started.
    func testATimeWindowCutsTheIntervals() throws {
        let database = try database()
        let db = try Database(path: database)
        let main = try OffCPUTimeTests.mainThread(db)
        // The middle second of the 2 s nap.
        let nap = try db.rows("SELECT start, duration FROM off_cpu WHERE tid = \(main) ORDER BY duration DESC LIMIT 1")
        guard case .integer(let start)? = nap.first?[0], case .integer(let duration)? = nap.first?[1] else {
            return XCTFail("no interval of the main thread")
        }
        XCTAssertGreaterThan(duration, 1_900_000_000)
        let since = start + 500_000_000
        let window = ["--since", String(format: "%.9f", Double(since) / 1e9),
                      "--until", String(format: "%.9f", Double(since + 1_000_000_000) / 1e9)]
        let rows = try OffCPUWorkbench.report(database, ["--off-cpu", "--by-tid", "--tid", "\(main)"] + window)
        XCTAssertEqual(rows.dropFirst().first.flatMap { Double($0[1]) } ?? 0, 1000, accuracy: 0.01)
        let folded = try OffCPUWorkbench.offCPUStacks(database, ["--tid", "\(main)"] + window)
        XCTAssertEqual(Double(folded.stacks.reduce(0) { $0 + $1.microseconds }) / 1000, 1000, accuracy: 0.01)
        // From the middle of the nap on: the half left of it and every later interval, whole.
        let after = try db.scalarInt("""
            SELECT sum(start + duration - max(start, \(since))) FROM off_cpu WHERE tid = \(main) AND start + duration > \(since)
            """)
        let since2 = ["--since", String(format: "%.9f", Double(since) / 1e9)]
        let late = try OffCPUWorkbench.report(database, ["--off-cpu", "--by-tid", "--tid", "\(main)"] + since2)
        XCTAssertEqual(late.dropFirst().first.flatMap { Double($0[1]) } ?? 0, Double(after) / 1e6, accuracy: 0.01)
    }

    /// `--wall --timeline`: each thread's wall-clock time per bucket, on CPU and off, which fills the buckets of
    /// its lifetime.
    func testTheWallTimelineFillsTheBucketsOfAThreadsLifetime() throws {
        let database = try database()
        let main = try OffCPUTimeTests.mainThread(try Database(path: database))
        let rows = try OffCPUWorkbench.report(database, ["--wall", "--timeline", "--bucket", "0.5", "--tid", "\(main)"])
        XCTAssertEqual(rows.first, ["second", "series", "wall ms"])
        let buckets = rows.dropFirst().compactMap { Double($0[2]) }
        // The first and last buckets are the thread's start and end; those between are whole.
        XCTAssertGreaterThanOrEqual(buckets.count, 9)
        for bucket in buckets.dropFirst().dropLast() { XCTAssertEqual(bucket, 500, accuracy: 10) }
        let total = try OffCPUWorkbench.report(database, ["--wall", "--by-tid", "--tid", "\(main)"])
        XCTAssertEqual(buckets.reduce(0, +), try XCTUnwrap(total.dropFirst().first.flatMap { Double($0[1]) }),
                       accuracy: 2)
    }

    func testReportsOfSamplesLeaveTheSwitchOutsOut() throws {
        let rows = try OffCPUWorkbench.report(try database(), ["--by-event"])
        XCTAssertEqual(rows.dropFirst().map { $0[2] }, ["cpu-clock"])
        let refused = try Tool.report.run([try database(), "--wall", "--event", "cpu-clock"])
        XCTAssertEqual(refused.status, 64, refused.summary)
    }
}
