import Foundation
import TprofTestSupport
import XCTest

/// `tprof-report --annotate REGEX --off-cpu`: where inside a function its threads blocked, and for how long.
final class OffCPUAnnotateTests: XCTestCase {
    /// nap() sleeps in the main thread (2 s), in the child that writes the pipe (1 s) and in the thread that holds
    /// the mutex (0.5 s): all that time is charged inside nap, at its call to nanosleep, not at the scheduler.
    func testOffCPUTimeIsChargedWhereTheFunctionBlocked() throws {
        let database = try OffCPUTimeTests.dwarf().database
        let result = try Tool.report.run([database, "--annotate", "^nap$", "--off-cpu", "--format", "json"])
        XCTAssertEqual(result.status, 0, result.summary)
        let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]],
                                 result.stdout)
        let blocked = rows.filter { ($0["nanoseconds"] as? Int ?? 0) > 0 }
        let total = blocked.reduce(0) { $0 + ($1["nanoseconds"] as? Int ?? 0) }
        let designed = OffCPUWorkload.napSeconds + OffCPUWorkload.pipeSeconds + OffCPUWorkload.lockSeconds
        XCTAssertEqual(Double(total) / 1e9, designed, accuracy: designed * 0.05, "\(blocked)")
        let hottest = try XCTUnwrap(blocked.max { ($0["nanoseconds"] as? Int ?? 0) < ($1["nanoseconds"] as? Int ?? 0) })
        XCTAssertTrue((hottest["instruction"] as? String)?.hasPrefix("call") ?? false,
                      "nap blocks in a call: \(hottest)")
        XCTAssertEqual(hottest["percent"] as? Double ?? 0, 100, accuracy: 0.01, "one call site holds all its time")

        let listing = try Tool.report.run([database, "--annotate", "^nap$", "--off-cpu"])
        XCTAssertEqual(listing.status, 0, listing.summary)
        XCTAssertTrue(listing.stdout.contains("ms off CPU"), listing.stdout)
        XCTAssertTrue(listing.stdout.contains("percent       ms"), listing.stdout)
    }

    /// Counted as samples, without --off-cpu, nap holds no on-CPU samples of its own: it only sleeps.
    func testWithoutOffCPUTheSwitchOutsAreNotSamplesOfTheFunction() throws {
        let result = try Tool.report.run([try OffCPUTimeTests.dwarf().database, "--annotate", "^nap$"])
        XCTAssertNotEqual(result.status, 0, result.summary)
        assertOneLineError(result, contains: "no sampled function matches")
    }
}
