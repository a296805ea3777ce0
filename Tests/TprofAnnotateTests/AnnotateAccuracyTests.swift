import Foundation
import TprofTestSupport
import XCTest

/// The samples `--annotate` puts on each instruction: all of the function's self samples, on the instructions
/// perf annotate finds them on in the same execution, under the report's filters.
final class AnnotateAccuracyTests: XCTestCase {
    func testInstructionRowsSumToTheFunctionsSelfSamples() throws {
        let database = try HotLoop.withPerf.value().database
        let rows = try annotateRows(database, "^hot_loop$")
        let total = try XCTUnwrap(bySymbolSamples(database, "hot_loop"))
        XCTAssertGreaterThan(total, 100, "the hot loop holds most samples")
        XCTAssertEqual(samples(rows).reduce(0, +), total)
        XCTAssertFalse(rows.contains { $0["instruction"]?.isEmpty ?? true }, "every row is an instruction")
    }

    func testFiltersApplyAsInOtherReports() throws {
        let database = try HotLoop.withPerf.value().database
        let pid = try XCTUnwrap(Database(path: database).scalarText(
            "SELECT pid FROM symbol_groups WHERE symbol = 'hot_loop' LIMIT 1"))
        for filter in [["--since", "0.3"], ["--until", "0.2"], ["--pid", pid], ["--event", "nosuchevent"]] {
            let total = try bySymbolSamples(database, "hot_loop", filter) ?? 0
            if total == 0 {
                let result = try Tool.report.run([database, "--annotate", "^hot_loop$"] + filter)
                assertOneLineError(result, contains: "no sampled function matches")
                continue
            }
            XCTAssertEqual(samples(try annotateRows(database, "^hot_loop$", filter)).reduce(0, +), total,
                           "filter \(filter)")
        }
    }

    /// perf samples at its own rate and tprof at its own, so shares differ; the instructions that hold the samples
    /// and their addresses do not.
    func testHotInstructionsMatchPerfAnnotateOnTheSameExecution() throws {
        let fixture = try HotLoop.withPerf.value()
        let perf = try ChildProcess.run("/usr/bin/perf", ["annotate", "--stdio", "-i", fixture.perfData, "-s",
                                                          "hot_loop"], timeout: 60)
        XCTAssertEqual(perf.status, 0, perf.summary)
        var perfShares: [UInt64: Double] = [:]
        for line in perf.stdout.split(separator: "\n") {
            // "   47.64 :   1153:   mov    %ecx,%eax"
            let fields = line.split(separator: ":", maxSplits: 2).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3, let share = Double(fields[0]), let address = UInt64(fields[1], radix: 16)
            else { continue }
            perfShares[address] = share
        }
        XCTAssertGreaterThan(perfShares.count, 5, perf.stdout)
        let rows = try annotateRows(fixture.database, "^hot_loop$")
        var shares: [UInt64: Double] = [:]
        for row in rows {
            let address = try XCTUnwrap(UInt64((row["address"] ?? "").dropFirst(2), radix: 16))
            shares[address] = Double(row["percent"] ?? "") ?? -1
        }
        XCTAssertEqual(Set(shares.keys), Set(perfShares.keys), "the same instructions: capstone as objdump")
        let hot = Set(shares.filter { $0.value >= 5 }.keys)
        let perfHot = Set(perfShares.filter { $0.value >= 5 }.keys)
        XCTAssertFalse(hot.isEmpty)
        XCTAssertTrue(hot.isSubset(of: perfShares.filter { $0.value > 0 }.keys),
                      "tprof's hot instructions hold perf's samples too: tprof \(shares), perf \(perfShares)")
        XCTAssertTrue(perfHot.isSubset(of: shares.filter { $0.value > 0 }.keys),
                      "perf's hot instructions hold tprof's samples too: tprof \(shares), perf \(perfShares)")
    }
}
