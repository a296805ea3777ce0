import TprofTestSupport
import XCTest

/// Every filter, alone and with groupings, against COUNT(*) over the samples table with the same condition.
final class FilterTests: XCTestCase {
    func testPidFilterTakesRepeatedAndCommaSeparatedValues() throws {
        let db = try Fixtures.get().synthetic
        assertReport(db, ["--pid", "1001"], expected: try RawCounts(db, [.pid], where: "s.pid = 1001"))
        assertReport(db, ["--by-tid", "--pid", "1000,1002"],
                     expected: try RawCounts(db, [.tid], where: "s.pid IN (1000, 1002)"))
        assertReport(db, ["--by-cpu", "--pid", "1000", "--pid", "1003"],
                     expected: try RawCounts(db, [.cpu], where: "s.pid IN (1000, 1003)"))
    }

    func testTidFilter() throws {
        let db = try Fixtures.get().synthetic
        assertReport(db, ["--by-tid", "--tid", "101002"], expected: try RawCounts(db, [.tid], where: "s.tid = 101002"))
        assertReport(db, ["--by-mode", "--tid", "1000,101000"],
                     expected: try RawCounts(db, [.mode], where: "s.tid IN (1000, 101000)"))
    }

    func testCommFilterMatchesTheThreadName() throws {
        let fixtures = try Fixtures.get()
        assertReport(fixtures.synthetic, ["--by-tid", "--comm", "synth2"],
                     expected: try RawCounts(fixtures.synthetic, [.tid], where: "t.comm = 'synth2'"))
        assertReport(fixtures.real, ["--by-pid", "--comm", RealRecording.hogName],
                     expected: try RawCounts(fixtures.real, [.pid], where: "t.comm = 'hog,\"2x\"'"))
    }

    func testCpuFilterTakesCPULists() throws {
        let db = try Fixtures.get().synthetic
        assertReport(db, ["--by-pid", "--cpu", "1"], expected: try RawCounts(db, [.pid], where: "s.cpu = 1"))
        assertReport(db, ["--by-cpu", "--cpu", "0-1"], expected: try RawCounts(db, [.cpu], where: "s.cpu IN (0, 1)"))
        assertReport(db, ["--by-cpu", "--cpu", "5"], expected: try RawCounts(db, [.cpu], where: "s.cpu = 5"))
    }

    func testKernelAndUserFiltersSplitTheSamples() throws {
        let fixtures = try Fixtures.get()
        for db in [fixtures.synthetic, fixtures.real] {
            let kernel = assertReport(db, ["--by-pid", "--kernel"], expected: try RawCounts(db, [.pid], where: "s.mode = 1"))
            let user = assertReport(db, ["--by-mode", "--user"], expected: try RawCounts(db, [.mode], where: "s.mode = 2"))
            let all = try queryInt(db, "SELECT count(*) FROM samples")
            XCTAssertEqual((kernel?.samples.reduce(0, +) ?? 0) + (user?.samples.reduce(0, +) ?? 0), all,
                           "kernel and user samples do not add up to all samples (no other modes here)")
        }
    }

    func testEventFilterByNameAndBaseName() throws {
        let fixtures = try Fixtures.get()
        assertReport(fixtures.synthetic, ["--by-event", "--event", "synthetic-1"],
                     expected: try RawCounts(fixtures.synthetic, [.event], where: "e.name = 'synthetic-1'"))
        assertReport(fixtures.synthetic, ["--by-pid", "--event", "synthetic-0,synthetic-1"],
                     expected: try RawCounts(fixtures.synthetic, [.pid]))
        assertReport(fixtures.real, ["--by-pid", "--event", "cpu-clock"], expected: try RawCounts(fixtures.real, [.pid]))
        assertReport(fixtures.real, ["--by-pid", "--event", "cycles"],
                     expected: try RawCounts(fixtures.real, [.pid], where: "0"))
    }

    func testSinceAndUntilSelectATimeRange() throws {
        let fixtures = try Fixtures.get()
        let db = fixtures.synthetic
        assertReport(db, ["--by-cpu", "--since", "0.25", "--until", "0.75"],
                     expected: try RawCounts(db, [.cpu], where: "s.time >= 250000000 AND s.time < 750000000"))
        assertReport(db, ["--by-pid", "--since", "0.5"], expected: try RawCounts(db, [.pid], where: "s.time >= 500000000"))
        assertReport(db, ["--by-mode", "--until", "0.5"], expected: try RawCounts(db, [.mode], where: "s.time < 500000000"))
        let middle = try RawCounts(db, [.cpu], where: "s.time >= 250000000 AND s.time < 750000000")
        XCTAssertGreaterThan(middle.total, 0)
        XCTAssertLessThan(middle.total, try queryInt(db, "SELECT count(*) FROM samples"))
        assertReport(fixtures.real, ["--by-tid", "--since", "0.1", "--until", "0.3"],
                     expected: try RawCounts(fixtures.real, [.tid], where: "s.time >= 100000000 AND s.time < 300000000"))
        assertReport(db, ["--by-pid", "--since", "100"], expected: try RawCounts(db, [.pid], where: "s.time >= 100000000000"))
    }

    func testATimeWindowSearchesTheTimeIndexInsteadOfScanningTheSamples() throws {
        let db = try Fixtures.get().synthetic
        let database = try Database(path: db)
        let plan = try database.connection.prepare("EXPLAIN QUERY PLAN SELECT count(*) FROM samples WHERE time >= 1 AND time < 2")
        var steps: [String] = []
        while try plan.step() { steps.append(plan.text(3) ?? "") }
        XCTAssertTrue(steps.contains { $0.contains("samples_by_time") }, "\(steps)")
    }

    func testLimitKeepsTheTopRowsOfTheFullReport() throws {
        let db = try Fixtures.get().synthetic
        let full = assertReport(db, ["--by-tid", "--by-cpu"], expected: try RawCounts(db, [.tid, .cpu]))
        let limited = assertReport(db, ["--by-tid", "--by-cpu", "--limit", "3"],
                                   expected: try RawCounts(db, [.tid, .cpu]), partial: true)
        XCTAssertEqual(limited?.rows, full.map { Array($0.rows.prefix(3)) })
        let one = assertReport(db, ["--limit", "1"], expected: try RawCounts(db, [.pid]), partial: true)
        XCTAssertEqual(one?.rows.count, 1)
    }

    func testPercentLimitLeavesOutSmallRows() throws {
        let db = try Fixtures.get().synthetic
        // Per process and mode: 20% for each process's user samples, 5% for its kernel samples.
        let report = assertReport(db, ["--by-pid", "--by-mode", "--percent-limit", "10"],
                                  expected: try RawCounts(db, [.pid, .mode]), partial: true)
        XCTAssertEqual(report?.rows.count, Fixtures.shape.processes)
        XCTAssertEqual(Set(report?.keys.map { $0[2] } ?? []), ["user"])
        for percent in report?.percents ?? [] { XCTAssertGreaterThanOrEqual(percent, 10) }
        let none = assertReport(db, ["--by-pid", "--percent-limit", "100"], expected: try RawCounts(db, [.pid]),
                                partial: true)
        XCTAssertEqual(none?.rows.count, 0)
    }

    func testFiltersCombineWithEachOtherAndWithGroupings() throws {
        let fixtures = try Fixtures.get()
        let db = fixtures.synthetic
        assertReport(db, ["--by-tid", "--by-event", "--cpu", "1", "--kernel", "--event", "synthetic-1"],
                     expected: try RawCounts(db, [.tid, .event], where: "s.cpu = 1 AND s.mode = 1 AND e.name = 'synthetic-1'"))
        assertReport(db, ["--by-comm", "--by-cpu", "--pid", "1000,1001", "--user", "--since", "0.2", "--until", "0.9"],
                     expected: try RawCounts(db, [.comm, .cpu], where: """
                        s.pid IN (1000, 1001) AND s.mode = 2 AND s.time >= 200000000 AND s.time < 900000000
                        """))
        assertReport(db, ["--by-pid", "--by-mode", "--tid", "101003", "--comm", "synth3", "--cpu", "0"],
                     expected: try RawCounts(db, [.pid, .mode], where: "s.tid = 101003 AND t.comm = 'synth3' AND s.cpu = 0"))
        assertReport(fixtures.real, ["--by-pid", "--by-cpu", "--user", "--pid", String(fixtures.realRun.hog.pid)],
                     expected: try RawCounts(fixtures.real, [.pid, .cpu],
                                             where: "s.mode = 2 AND s.pid = \(fixtures.realRun.hog.pid)"))
        // Filters that exclude each other leave no rows, with a note on stderr and exit status 0.
        assertReport(db, ["--by-pid", "--pid", "1000", "--tid", "1001"],
                     expected: try RawCounts(db, [.pid], where: "0"))
    }

    /// Filter values are bound as SQL parameters: text that would be SQL is only a name that matches nothing.
    func testFilterValuesThatLookLikeSQLAreOnlyData() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-injection")
        let db = try copyDatabase(try Fixtures.get().synthetic, to: directory, as: "run.db")
        let samples = try queryInt(db, "SELECT count(*) FROM samples")
        let attack = "x' OR 1=1; DROP TABLE samples; --"
        for flag in ["--comm", "--event"] {
            assertReport(db, ["--by-pid", flag, attack], expected: try RawCounts(db, [.pid], where: "0"))
            assertReport(db, ["--by-tid", flag, "synth0\" OR \"1\"=\"1"], expected: try RawCounts(db, [.tid], where: "0"))
        }
        XCTAssertEqual(try queryInt(db, "SELECT count(*) FROM samples"), samples)
        XCTAssertEqual(try queryInt(db, "SELECT count(*) FROM sqlite_master WHERE name = 'samples'"), 1)
    }
}
