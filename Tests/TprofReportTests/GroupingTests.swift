import TprofTestSupport
import XCTest

/// Every grouping, alone and combined, against COUNT(*) GROUP BY over the samples table.
final class GroupingTests: XCTestCase {
    /// The synthetic database holds exactly what the synthetic backend's formula generates: nothing dropped, and the
    /// sample_counts rollup agrees with the samples table.
    func testSyntheticDatabaseHoldsTheShapeItWasGivenWithNothingDropped() throws {
        let db = try Fixtures.get().synthetic
        let counters = try queryDatabase(db, """
            SELECT sum(read), sum(written), sum(overflow), sum(dropbuf_sample), sum(unwritten), sum(kernel_lost),
                   sum(kernel_lost_samples) FROM counters
            """)
        let total = String(Fixtures.samplesPerCPU * UInt64(Fixtures.cpus.count))
        XCTAssertEqual(counters, [[total, total, "0", "0", "0", "0", "0"]])

        var stored: [[Int64]: Int64] = [:]
        for row in try queryDatabase(db, "SELECT pid, tid, cpu, event, mode, count(*) FROM samples GROUP BY 1, 2, 3, 4, 5") {
            let values = row.compactMap { Int64($0) }
            stored[Array(values.prefix(5))] = values[5]
        }
        XCTAssertEqual(stored, Fixtures.expectedSyntheticGroups())

        let rollupMismatches = try queryInt(db, """
            SELECT count(*) FROM (
                SELECT pid, tid, cpu, event, mode, count(*) AS n FROM samples GROUP BY 1, 2, 3, 4, 5
                EXCEPT
                SELECT pid, tid, cpu, event, mode, sum(samples) FROM sample_counts GROUP BY 1, 2, 3, 4, 5)
            """)
        XCTAssertEqual(rollupMismatches, 0, "sample_counts disagrees with the samples table")
    }

    func testEachGroupingAloneMatchesRawCountsOnSyntheticAndRealRecordings() throws {
        let fixtures = try Fixtures.get()
        for db in [fixtures.synthetic, fixtures.real] {
            for grouping in GroupingFlag.allCases {
                assertReport(db, [grouping.flag], expected: try RawCounts(db, [grouping]))
            }
        }
    }

    func testNoGroupingMeansByProcess() throws {
        let db = try Fixtures.get().synthetic
        let report = assertReport(db, [], expected: try RawCounts(db, [.pid]))
        XCTAssertEqual(report?.rows.count, Fixtures.shape.processes)
    }

    func testPidAndCpuCombineIntoOneRowPerProcessAndCPU() throws {
        let fixtures = try Fixtures.get()
        let report = assertReport(fixtures.synthetic, ["--by-pid", "--by-cpu"],
                                  expected: try RawCounts(fixtures.synthetic, [.pid, .cpu]))
        XCTAssertEqual(report?.rows.count, Fixtures.shape.processes * Fixtures.cpus.count)
        assertReport(fixtures.real, ["--by-cpu", "--by-pid"], expected: try RawCounts(fixtures.real, [.pid, .cpu]))
    }

    func testOtherCombinationsShareTheirCommonColumnsOnce() throws {
        let db = try Fixtures.get().synthetic
        let combinations: [[GroupingFlag]] = [[.pid, .tid], [.tid, .mode, .event], [.comm, .cpu, .mode],
                                              [.pid, .tid, .comm, .cpu, .mode, .event]]
        for combination in combinations {
            assertReport(db, combination.map(\.flag), expected: try RawCounts(db, combination))
        }
    }

    /// Shares follow from the shape: 4 processes get a quarter each; every 5th sample is a kernel sample.
    func testSyntheticSharesFollowTheShape() throws {
        let db = try Fixtures.get().synthetic
        let byPID = assertReport(db, ["--by-pid"], expected: try RawCounts(db, [.pid]))
        XCTAssertEqual(byPID?.keys.map { $0[0] }.sorted(), ["1000", "1001", "1002", "1003"])
        XCTAssertEqual(byPID?.keys.map { $0[1] }.sorted(), ["synth0", "synth1", "synth2", "synth3"])
        for percent in byPID?.percents ?? [] { XCTAssertEqual(percent, 25, accuracy: 0.1) }

        let byMode = assertReport(db, ["--by-mode"], expected: try RawCounts(db, [.mode]))
        XCTAssertEqual(byMode?.keys, [["user"], ["kernel"]])
        XCTAssertEqual(byMode?.percents.first ?? 0, 80, accuracy: 0.1)

        let byTID = assertReport(db, ["--by-tid"], expected: try RawCounts(db, [.tid]))
        XCTAssertEqual(byTID?.rows.count, Fixtures.shape.processes * Fixtures.shape.threadsPerProcess)
    }
}
