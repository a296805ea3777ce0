import Foundation
import TprofTestSupport
import XCTest

/// Each report kind takes the options it declares and refuses the rest with one line naming what was refused,
/// before any database is opened.
final class ReportKindTests: XCTestCase {
    /// The flags that select a kind, each with a value where it takes one.
    static let selectors: [[String]] = [
        ["--children"], ["--callers", "leaf"], ["--callees", "leaf"], ["--tree"], ["--folded"],
        ["--flamegraph", "fg.svg"], ["--timeline"], ["--pprof", "p.pb.gz"], ["--speedscope", "s.json"], ["--header"],
        ["--resymbolize"], ["--stat"], ["--sql", "SELECT 1"],
    ]

    func testTwoKindsAreRefused() throws {
        for (index, first) in Self.selectors.enumerated() {
            for second in Self.selectors[(index + 1)...] where first[0] != second[0] {
                let result = try runReport(["missing.db"] + first + second)
                assertOneLineError(result, contains: "give only one of", first[0], second[0])
            }
        }
    }

    func testWhatAKindDoesNotTakeIsRefused() throws {
        let cases: [([String], [String])] = [
            (["--depth", "3"], ["--depth", "--tree"]),
            (["--inverted"], ["--inverted", "--tree"]),
            (["--icicle"], ["--icicle", "--flamegraph"]),
            (["--bucket", "1"], ["--bucket", "--timeline"]),
            (["--force"], ["--force", "--flamegraph", "--pprof", "--speedscope", "--timeline"]),
            (["--tree", "--force"], ["--force"]),
            (["--header", "--pid", "1"], ["--header", "--pid"]),
            (["--stat", "--by-cpu"], ["--stat", "--by-cpu"]),
            (["--tree", "--by-pid"], ["--tree", "--by-pid"]),
            (["--children", "--by-pid"], ["--children", "--by-symbol"]),
            (["--timeline", "--by-tid"], ["--timeline", "--by-pid", "--by-cpu", "--by-symbol"]),
            (["--timeline", "--by-pid", "--by-cpu"], ["--timeline"]),
            (["--tree", "--diff", "base.db"], ["--tree", "--diff", "--folded", "--flamegraph"]),
            (["--pprof", "p.pb.gz", "--diff", "base.db"], ["--pprof", "--diff"]),
            (["--tree", "--format", "csv"], ["--tree", "csv"]),
            (["--folded", "--format", "json"], ["--folded", "--format"]),
            (["--callers", "a", "--callees", "b"], ["--callers", "--callees"]),
            (["other.db", "--tree"], ["several databases"]),
            (["other.db", "--diff", "base.db"], ["--diff"]),
        ]
        for (arguments, texts) in cases {
            let result = try runReport(["missing.db"] + arguments)
            assertOneLineError(result)
            for text in texts {
                XCTAssertTrue(result.stderr.contains(text), "\(arguments): stderr lacks '\(text)'\n\(result.summary)")
            }
        }
    }

    func testGroupingsMayComeInAnyOrderAndTwice() throws {
        let db = try Fixtures.get().synthetic
        let canonical = try runReport([db, "--by-pid", "--by-cpu", "--format", "csv"])
        XCTAssertEqual(canonical.status, 0, canonical.summary)
        let reordered = try runReport([db, "--by-cpu", "--by-pid", "--by-cpu", "--format", "csv"])
        XCTAssertEqual(reordered.stdout, canonical.stdout, reordered.summary)
    }
}
