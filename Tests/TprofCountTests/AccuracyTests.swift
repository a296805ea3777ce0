import Foundation
import TprofTestSupport
import XCTest

/// tprof-count's counts against perf stat's on programs whose counts are known: page faults within 1%, context
/// switches within 1%, task-clock within 2%.
final class AccuracyTests: XCTestCase {
    // Each test attaches both tools to one execution of a program that waits for them: separate runs would compare
    // the machine's noise as well (preemptions, the loader), and nesting one tool under the other would count the
    // inner tool's own faults, switches and CPU in the outer one's.

    /// Touching N fresh pages faults N times.
    func testPageFaultsMatchPerfStat() throws {
        let counts = try CountWorkbench.countedTogether("page-faults", try CountWorkbench.faults(), ["20000"])
        XCTAssertGreaterThanOrEqual(counts.perf, 20000)
        assertWithin(1, counts.tprof, of: counts.perf, "page-faults")
    }

    /// N short sleeps switch out N times.
    func testContextSwitchesMatchPerfStat() throws {
        let counts = try CountWorkbench.countedTogether("context-switches", try CountWorkbench.sleeps(), ["2000"])
        XCTAssertGreaterThanOrEqual(counts.perf, 2000)
        assertWithin(1, counts.tprof, of: counts.perf, "context-switches")
    }

    /// A 2 s burn of CPU time.
    func testTaskClockMatchesPerfStat() throws {
        let counts = try CountWorkbench.countedTogether("task-clock", try CountWorkbench.burn(), ["2"])
        XCTAssertGreaterThan(counts.perf, 1900)
        assertWithin(2, counts.tprof, of: counts.perf, "task-clock (msec)")
    }
}
