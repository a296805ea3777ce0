@testable import TprofRecorder
import XCTest

/// The finishing progress bar: a bar, the share done, done of the total, and the time left from the pace so far.
final class ProgressBarTests: XCTestCase {
    func testTheBarShowsDoneOfTheTotalAndTheTimeLeft() {
        XCTAssertEqual(ProgressBar.text(task: "resolving symbols", unit: "addresses", done: 12_345, total: 50_000,
                                        elapsed: 2),
                       "resolving symbols [####................] 24% 12,345/50,000 addresses, 7 s left")
    }

    func testNoTimeLeftIsGuessedInTheFirstSecondOrAtTheEnd() {
        XCTAssertEqual(ProgressBar.text(task: "unwinding stacks", unit: "stacks", done: 10, total: 100, elapsed: 0.5),
                       "unwinding stacks [##..................] 10% 10/100 stacks")
        XCTAssertEqual(ProgressBar.text(task: "unwinding stacks", unit: "stacks", done: 100, total: 100, elapsed: 9),
                       "unwinding stacks [####################] 100% 100/100 stacks")
    }

    func testLongWaitsAreSaidInMinutes() {
        XCTAssertEqual(ProgressBar.text(task: "t", unit: "u", done: 1, total: 101, elapsed: 1),
                       "t [....................] 0% 1/101 u, 1 min 40 s left")
    }

    func testAnEmptyStepIsDone() {
        XCTAssertEqual(ProgressBar.text(task: "t", unit: "u", done: 0, total: 0, elapsed: 0),
                       "t [####################] 100% 0/0 u")
    }

    func testGroupedDigits() {
        XCTAssertEqual(ProgressBar.grouped(0), "0")
        XCTAssertEqual(ProgressBar.grouped(999), "999")
        XCTAssertEqual(ProgressBar.grouped(1000), "1,000")
        XCTAssertEqual(ProgressBar.grouped(153_542), "153,542")
        XCTAssertEqual(ProgressBar.grouped(1_234_567), "1,234,567")
    }
}
