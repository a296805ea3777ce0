import Foundation
import TprofTestSupport
import XCTest

/// `--format json` writes each row's members in the table's column order, a repeated column name included.
final class JSONColumnOrderTests: XCTestCase {
    func testMembersFollowTheColumnsAndKeepRepeatedNames() throws {
        let db = try Fixtures.get().synthetic
        let result = try runReport([db, "--sql", "SELECT 2 AS b, 'x\"' AS a, NULL AS a, 0.5 AS c", "--format", "json"])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stdout, """
            [
              {
                "b": 2,
                "a": "x\\"",
                "a": null,
                "c": 0.5
              }
            ]

            """)
    }

    func testGroupedReportKeysAreTheCSVHeader() throws {
        let db = try Fixtures.get().synthetic
        let csv = try runReport([db, "--by-pid", "--by-cpu", "--format", "csv", "--limit", "1"])
        let json = try runReport([db, "--by-pid", "--by-cpu", "--format", "json", "--limit", "1"])
        XCTAssertEqual(json.status, 0, json.summary)
        let header = try XCTUnwrap(csv.stdout.split(separator: "\n").first).split(separator: ",").map(String.init)
        let keys = json.stdout.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("\""), let end = trimmed.dropFirst().firstIndex(of: "\"") else { return nil }
            return String(trimmed[trimmed.index(after: trimmed.startIndex)..<end])
        }
        XCTAssertEqual(keys, header, json.stdout)
    }
}
