import Foundation
import TprofTestSupport
import XCTest

/// The same report as an aligned table, as CSV and as JSON.
final class FormatTests: XCTestCase {
    /// Column spans of an aligned table, from its line of dashes.
    private func columnSpans(_ dashes: String) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        var start: Int?
        for (index, character) in Array(Array(dashes + " ").enumerated()) {
            if character == "-" && start == nil { start = index }
            if character != "-", let begin = start {
                spans.append(begin..<index)
                start = nil
            }
        }
        return spans
    }

    /// Splits a table (after its '#' header and blank line) into cells by the dash line's spans, checking that
    /// nothing but spaces lies between the columns and that numbers are right-aligned.
    private func parseTable(_ text: String, numericColumns: Set<String>, file: StaticString = #filePath,
                            line: UInt = #line) -> (header: [String], rows: [[String]]) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let dashIndex = lines.firstIndex(where: { $0.hasPrefix("---") }), dashIndex > 0 else {
            XCTFail("no dash line in\n\(text)", file: file, line: line)
            return ([], [])
        }
        let spans = columnSpans(lines[dashIndex])
        let width = spans.last?.upperBound ?? 0
        func cells(_ text: String) -> [String] {
            let padded = Array(text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0))
            XCTAssertLessThanOrEqual(text.count, width, "line wider than the table: \(text)", file: file, line: line)
            var previousEnd = 0
            return spans.map { span in
                XCTAssertTrue(padded[previousEnd..<span.lowerBound].allSatisfy { $0 == " " },
                              "text between columns in: \(text)", file: file, line: line)
                previousEnd = span.upperBound
                return String(padded[span])
            }
        }
        let header = cells(lines[dashIndex - 1]).map { $0.trimmingCharacters(in: .whitespaces) }
        var rows: [[String]] = []
        for row in lines[(dashIndex + 1)...] where !row.isEmpty {
            let raw = cells(row)
            for (index, cell) in raw.enumerated() where numericColumns.contains(header[index]) {
                XCTAssertFalse(cell.hasSuffix(" ") && !cell.allSatisfy { $0 == " " },
                               "number not right-aligned in column \(header[index]): '\(cell)'", file: file, line: line)
            }
            rows.append(raw.map { $0.trimmingCharacters(in: .whitespaces) })
        }
        return (header, rows)
    }

    func testTableIsAlignedWithAHashHeaderAndTheSameFiguresAsCSV() throws {
        let fixtures = try Fixtures.get()
        for (db, groupings) in [(fixtures.synthetic, [GroupingFlag.tid, .mode]), (fixtures.real, [.pid, .cpu])] {
            let arguments = groupings.map(\.flag)
            guard let csv = assertReport(db, arguments, expected: try RawCounts(db, groupings)) else { continue }
            let result = try runReport([db] + arguments)
            XCTAssertEqual(result.status, 0, result.summary)
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let headerLines = lines.prefix { !$0.isEmpty }
            XCTAssertGreaterThanOrEqual(headerLines.count, 5, result.stdout)
            for header in headerLines { XCTAssertTrue(header.hasPrefix("# "), "header line without '# ': \(header)") }
            XCTAssertTrue(headerLines.first?.hasPrefix("# tprof report: \(db)") ?? false, result.stdout)

            let table = parseTable(result.stdout, numericColumns: ["percent", "samples", "pid", "tid", "cpu"])
            XCTAssertEqual(table.header, csv.columns)
            XCTAssertEqual(table.rows.count, csv.rows.count)
            for (tableRow, csvRow) in zip(table.rows, csv.rows) {
                XCTAssertEqual(tableRow[0], String(format: "%.2f%%", Double(csvRow[0]) ?? .nan))
                XCTAssertEqual(Array(tableRow.dropFirst()), Array(csvRow.dropFirst()))
            }
        }
    }

    func testCSVQuotesFieldsWithCommasAndQuotes() throws {
        let fixtures = try Fixtures.get()
        let report = assertReport(fixtures.real, ["--by-comm"], expected: try RawCounts(fixtures.real, [.comm]))
        XCTAssertTrue(report?.keys.contains([RealRecording.hogName]) ?? false, report?.result.stdout ?? "")
        XCTAssertTrue(report?.result.stdout.contains("\"hog,\"\"2x\"\"\"") ?? false, report?.result.stdout ?? "")
    }

    func testJSONIsAnArrayOfObjectsWithNumbersAsNumbers() throws {
        let fixtures = try Fixtures.get()
        for (db, groupings) in [(fixtures.synthetic, [GroupingFlag.pid, .cpu, .mode]), (fixtures.real, [.comm, .event])] {
            let arguments = groupings.map(\.flag)
            guard let csv = assertReport(db, arguments, expected: try RawCounts(db, groupings)) else { continue }
            let result = try runReport([db] + arguments + ["--format", "json"])
            XCTAssertEqual(result.status, 0, result.summary)
            XCTAssertEqual(result.stderrLines, [])
            let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
            guard let objects = parsed as? [[String: Any]] else {
                XCTFail("not an array of objects: \(result.stdout)")
                continue
            }
            XCTAssertEqual(objects.count, csv.rows.count)
            for (object, row) in zip(objects, csv.rows) {
                XCTAssertEqual(Set(object.keys), Set(csv.columns))
                for (index, column) in csv.columns.enumerated() {
                    let value = object[column]
                    switch column {
                    case "percent":
                        XCTAssertFalse(value is String, "\(column) is a string")
                        XCTAssertEqual((value as? NSNumber)?.doubleValue ?? .nan, Double(row[index]) ?? 0, accuracy: 1e-9)
                    case "samples", "pid", "tid", "cpu":
                        XCTAssertFalse(value is String, "\(column) is a string")
                        XCTAssertEqual((value as? NSNumber)?.int64Value, Int64(row[index]), column)
                    default:
                        if row[index].isEmpty {
                            XCTAssertTrue(value is NSNull || (value as? String) == "", "\(column): \(String(describing: value))")
                        } else {
                            XCTAssertEqual(value as? String, row[index], column)
                        }
                    }
                }
            }
        }
    }

    func testEmptyResultIsAValidDocumentInEveryFormat() throws {
        let db = try Fixtures.get().synthetic
        let csv = try runReport([db, "--pid", "4242", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.summary)
        XCTAssertEqual(parseCSV(csv.stdout), [["percent", "samples", "pid", "command"]])
        let json = try runReport([db, "--pid", "4242", "--format", "json"])
        XCTAssertEqual(json.status, 0, json.summary)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any])?.count, 0)
        let table = try runReport([db, "--pid", "4242"])
        XCTAssertEqual(table.status, 0, table.summary)
        XCTAssertEqual(table.stderrLines, ["tprof-report: no samples match"])
    }
}
