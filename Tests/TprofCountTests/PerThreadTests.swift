import Foundation
import TprofTestSupport
import XCTest

/// --per-thread with a command: each of its threads and child processes counted apart, as the kernel reports
/// each one's count when it ends.
final class PerThreadTests: XCTestCase {
    /// Three threads touching 2000, 4000 and 6000 pages of their own: each row has its thread's page faults
    /// (and the thread's name), and the rows add up to the command's total.
    func testEachThreadOfACommandHasItsOwnCount() throws {
        let toucher = try CountWorkbench.toucher()
        let result = try Tool.count.run(["--per-thread", "-e", "page-faults,task-clock,context-switches", "--format", "csv", "--",
                                         toucher])
        XCTAssertEqual(result.status, 0, result.summary)
        let all = csvRecords(String(result.stderr[(result.stderr.range(of: "interval,cpu,tid,")?.lowerBound
            ?? result.stderr.startIndex)...]))
        // No count from another event: a thread's counters are swapped with another's at a context switch, and
        // counts that went to the wrong event show as millions of switches or page faults.
        let bounds = ["page-faults": 10_000.0, "task-clock": 60_000, "context-switches": 10_000]
        for row in all {
            let value = row["value"].flatMap(Double.init) ?? .infinity
            XCTAssertLessThan(value, bounds[row["event"] ?? ""] ?? 0, "\(row)\n\(result.summary)")
        }
        let rows = all.filter { $0["event"] == "page-faults" }
        func faults(_ comm: String) -> Double? {
            rows.first { $0["comm"] == comm }?["value"].flatMap(Double.init)
        }
        for thread in 0..<3 {
            let expected = Double((thread + 1) * 2000)
            let value = try XCTUnwrap(faults("toucher\(thread)"), "no row for toucher\(thread)\n\(result.summary)")
            XCTAssertGreaterThanOrEqual(value, expected, result.summary)
            XCTAssertLessThan(value, expected + 100, "toucher\(thread): \(value)\n\(result.summary)")
        }
        XCTAssertEqual(Set(rows.compactMap { $0["tid"] }).count, 4, "the main thread and three others\n\(result.summary)")
        let main = try XCTUnwrap(faults("toucher"), "the main thread keeps the program's name\n\(result.summary)")
        XCTAssertLessThan(main, 1000, result.summary)

        let total = CountWorkbench.csvByEvent(try Tool.count.run(["-e", "page-faults", "--format", "csv", "--",
                                                                   toucher]))
        let sum = rows.compactMap { $0["value"].flatMap(Double.init) }.reduce(0, +)
        assertWithin(1, sum, of: try XCTUnwrap(total["page-faults"]?["value"].flatMap(Double.init)),
                     "the threads' page faults against the command's total")
    }

    /// A command's child processes are rows of their own, each under its own name.
    func testChildProcessesOfACommandAreRowsOfTheirOwn() throws {
        let faults = try CountWorkbench.faults()
        let result = try Tool.count.run(["--per-thread", "-e", "page-faults", "--format", "csv", "--", "/bin/sh",
                                         "-c", "\(faults) 3000; \(faults) 5000"])
        XCTAssertEqual(result.status, 0, result.summary)
        let rows = csvRecords(String(result.stderr[(result.stderr.range(of: "interval,cpu,tid,")?.lowerBound
            ?? result.stderr.startIndex)...]))
        let children = rows.filter { $0["comm"] == "faults" }.compactMap { $0["value"].flatMap(Double.init) }.sorted()
        XCTAssertEqual(children.count, 2, result.summary)
        if children.count == 2 {
            XCTAssertGreaterThanOrEqual(children[0], 3000, result.summary)
            XCTAssertLessThan(children[0], 3200, result.summary)
            XCTAssertGreaterThanOrEqual(children[1], 5000, result.summary)
            XCTAssertLessThan(children[1], 5200, result.summary)
        }
        XCTAssertTrue(rows.contains { $0["comm"] == "sh" }, "the shell's own row\n\(result.summary)")
    }
}
