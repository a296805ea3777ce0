import Foundation
import TprofTestSupport
import XCTest

/// tprof-count's counts against perf stat's on programs whose counts are known: page faults within 1%, context
/// switches within 1%, task-clock within 2%.
final class AccuracyTests: XCTestCase {
    /// Touching N fresh pages faults N times (plus the loader's few dozen), run after run: the two tools count
    /// separate runs here, because the same execution would add perf's own thousands of faults to tprof-count's.
    func testPageFaultsMatchPerfStat() throws {
        let faults = try CountWorkbench.faults()
        let counted = CountWorkbench.csvByEvent(try Tool.count.run(
            ["-e", "page-faults", "--format", "csv", "--", faults, "20000"]))
        let value = try XCTUnwrap(counted["page-faults"]?["value"].flatMap(Double.init), "\(counted)")
        XCTAssertGreaterThanOrEqual(value, 20000)
        assertWithin(1, value, of: try CountWorkbench.perfStat("page-faults", [faults, "20000"]), "page-faults")
    }

    /// The same execution: tprof-count counts perf stat counting the program, whose 2000 sleeps dwarf perf's own
    /// few switches; counting two runs apart would compare the machine's noise as well.
    func testContextSwitchesMatchPerfStatOnTheSameExecution() throws {
        let sleeps = try CountWorkbench.sleeps()
        let result = try Tool.count.run(["-e", "context-switches", "--format", "csv", "--", "perf", "stat", "-x,",
                                         "-e", "context-switches", "--", sleeps, "2000"])
        let counted = CountWorkbench.csvByEvent(result)
        let value = try XCTUnwrap(counted["context-switches"]?["value"].flatMap(Double.init), result.summary)
        let perf = try XCTUnwrap(CountWorkbench.perfCSVValue(result.stderr, event: "context-switches"), result.summary)
        XCTAssertGreaterThanOrEqual(perf, 2000)
        assertWithin(1, value, of: perf, "context-switches")
    }

    /// The same execution: perf stat's own CPU (some 10 ms) is small against a 2 s burn, while two separate runs
    /// of it would differ by the machine's load.
    func testTaskClockMatchesPerfStatOnTheSameExecution() throws {
        let burn = try CountWorkbench.burn()
        let result = try Tool.count.run(["-e", "task-clock", "--format", "csv", "--", "perf", "stat", "-x,",
                                         "-e", "task-clock", "--", burn, "2"])
        let counted = CountWorkbench.csvByEvent(result)
        XCTAssertEqual(counted["task-clock"]?["unit"], "msec")
        let value = try XCTUnwrap(counted["task-clock"]?["value"].flatMap(Double.init), result.summary)
        let perf = try XCTUnwrap(CountWorkbench.perfCSVValue(result.stderr, event: "task-clock"), result.summary)
        XCTAssertGreaterThan(perf, 1900)
        assertWithin(2, value, of: perf, "task-clock (msec)")
    }
}
