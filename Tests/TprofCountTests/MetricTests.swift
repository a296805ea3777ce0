import TprofDatabase
import TprofExport
import TprofReport
import XCTest

/// perf stat's derived metrics and scaling, on rows this machine's PMU-less VM cannot produce (multiplexed
/// hardware events): the count scaled by enabled/running with the running percentage, insn per cycle, GHz and the
/// share of branches missed.
final class MetricTests: XCTestCase {
    private func row(_ event: String, _ value: UInt64?, enabled: UInt64 = 1_000_000_000,
                     running: UInt64 = 1_000_000_000) -> CountRow {
        CountRow(intervalStart: 0, intervalEnd: 2_000_000_000, cpu: nil, tid: nil, event: event, baseName: event,
                 value: value, timeEnabled: enabled, timeRunning: running)
    }

    func testMultiplexedCountsAreScaledAndShowTheirRunningShare() throws {
        let cycles = row("cycles", 1_000_000, running: 500_000_000)
        XCTAssertEqual(cycles.scaledValue, 2_000_000)
        XCTAssertEqual(cycles.percentRunning, 50)
        let text = PerfStatText(title: "'x'", threadNames: [:]).summary(
            [row("task-clock", 1_000_000_000), cycles], elapsed: 2_000_000_000, commandTimes: nil)
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.contains(" cycles ") })
        XCTAssertTrue(line.contains("2000000      cycles"), String(line))
        XCTAssertTrue(line.hasSuffix("(50.00%)"), String(line))
        XCTAssertTrue(line.contains("0.002 GHz"), String(line))
    }

    func testInstructionsPerCycleAndBranchMisses() {
        let group = [row("task-clock", 1_000_000_000), row("cycles", 3_000_000_000),
                     row("instructions", 6_000_000_000), row("branch-instructions", 1_000_000),
                     row("branch-misses", 25_000), row("page-faults", 5_000)]
        func metric(_ event: String) -> CountMetric? {
            CountSheet.metric(for: group.first { $0.event == event }!, in: group)
        }
        XCTAssertEqual(metric("instructions"), CountMetric(value: 2, unit: "insn per cycle"))
        XCTAssertEqual(metric("cycles"), CountMetric(value: 3, unit: "GHz"))
        XCTAssertEqual(metric("branch-misses"), CountMetric(value: 2.5, unit: "of all branches", isPercent: true))
        XCTAssertEqual(metric("page-faults"), CountMetric(value: 5, unit: "K/sec"))
        XCTAssertEqual(metric("task-clock"), CountMetric(value: 0.5, unit: "CPUs utilized"))
        XCTAssertNil(CountSheet.metric(for: row("instructions", 5), in: [row("instructions", 5)]),
                     "no IPC without cycles")
        XCTAssertNil(CountSheet.metric(for: row("cycles", nil), in: group), "<not supported> has no metric")
    }
}
