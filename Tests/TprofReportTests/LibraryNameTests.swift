import Foundation
import TprofTestSupport
import XCTest

/// Tables show a library by its file name, as perf does; csv, json and `--full-paths` keep the full path.
final class LibraryNameTests: XCTestCase {
    func testTablesShowFileNamesAndOtherFormatsThePath() throws {
        let fixtures = try Fixtures.get()
        let program = fixtures.directory.file(RealRecording.programName)
        for grouping in ["--by-dso", "--by-symbol"] {
            let table = try runReport([fixtures.real, grouping])
            XCTAssertEqual(table.status, 0, table.summary)
            let rows = table.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
            let name = RealRecording.programName
            XCTAssertTrue(rows.contains { $0.contains(" \(name) ") || $0.hasSuffix(name) },
                          "\(grouping): no row names \(name)\n\(table.stdout)")
            XCTAssertFalse(rows.contains { $0.contains(program) },
                           "\(grouping): a full path in the table\n\(table.stdout)")

            let full = try runReport([fixtures.real, grouping, "--full-paths"])
            XCTAssertEqual(full.status, 0, full.summary)
            XCTAssertTrue(full.stdout.contains(program), "\(grouping) --full-paths\n\(full.stdout)")

            for format in ["csv", "json"] {
                let other = try runReport([fixtures.real, grouping, "--format", format])
                XCTAssertEqual(other.status, 0, other.summary)
                // JSON may escape the slashes.
                let escaped = program.replacingOccurrences(of: "/", with: "\\/")
                XCTAssertTrue(other.stdout.contains(program) || other.stdout.contains(escaped),
                              "\(grouping) --format \(format) lacks the full path\n\(other.stdout)")
            }
        }
    }
}
