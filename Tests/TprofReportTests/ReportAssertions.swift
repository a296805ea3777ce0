import Foundation
import TprofTestSupport
import XCTest

/// A grouping flag of tprof-report and the columns it adds: the label tprof-report prints and the SQL over the raw
/// `samples` table (aliases s, p, t, e, m) that computes the same value.
enum GroupingFlag: String, CaseIterable {
    case pid, tid, comm, cpu, mode, event

    var flag: String { "--by-\(rawValue)" }

    var columns: [(label: String, rawSQL: String)] {
        switch self {
        case .pid: return [("pid", "s.pid"), ("command", "p.comm")]
        case .tid: return [("pid", "s.pid"), ("tid", "s.tid"), ("thread", "t.comm")]
        case .comm: return [("comm", "t.comm")]
        case .cpu: return [("cpu", "s.cpu")]
        case .mode: return [("mode", "m.name")]
        case .event: return [("event", "e.name")]
        }
    }
}

/// Sample counts computed straight from the `samples` table with COUNT(*) ... GROUP BY: what a report must show.
struct RawCounts {
    /// The key columns, as the report labels them.
    var columns: [String]
    /// Samples per key (the key columns' values as text, NULL as "").
    var counts: [[String]: Int64]
    /// Samples matching the filter, over all keys.
    var total: Int64

    /// Counts samples of `database` grouped as `groupings` (in tprof-report's order, shared columns once), keeping
    /// samples for which `condition` (SQL over s, p, t, e, m) holds.
    init(_ database: String, _ groupings: [GroupingFlag], where condition: String = "1") throws {
        var keys: [(label: String, rawSQL: String)] = []
        for grouping in GroupingFlag.allCases where groupings.contains(grouping) {
            for column in grouping.columns where !keys.contains(where: { $0.rawSQL == column.rawSQL }) {
                keys.append(column)
            }
        }
        columns = keys.map(\.label)
        let selected = keys.map(\.rawSQL) + ["count(*)"]
        let sql = """
            SELECT \(selected.joined(separator: ", "))
            FROM samples s
            LEFT JOIN processes p ON p.pid = s.pid
            LEFT JOIN threads t ON t.pid = s.pid AND t.tid = s.tid
            LEFT JOIN events e ON e.id = s.event
            LEFT JOIN modes m ON m.id = s.mode
            WHERE \(condition)
            \(keys.isEmpty ? "" : "GROUP BY " + keys.map(\.rawSQL).joined(separator: ", "))
            """
        counts = [:]
        total = 0
        for row in try queryDatabase(database, sql) {
            guard let count = Int64(row[row.count - 1]) else { throw TestSupportError("bad count in \(row)") }
            if count == 0 && keys.isEmpty { continue }
            counts[Array(row.dropLast())] = count
            total += count
        }
    }
}

/// A report as printed with `--format csv`.
struct ParsedReport {
    var columns: [String]
    /// Each row: percent, samples, then the key columns.
    var rows: [[String]]
    var result: ProcessResult

    var keys: [[String]] { rows.map { Array($0.dropFirst(2)) } }
    var samples: [Int64] { rows.map { Int64($0[1]) ?? -1 } }
    var percents: [Double] { rows.map { Double($0[0]) ?? .nan } }
}

/// The one assertion of this suite: runs `tprof-report database arguments --format csv` and checks that it is a
/// correct report of `expected`:
/// - exit status 0, no crash, and on stderr only the lines in `allowedStderr` (substrings);
/// - the header is `percent,samples` and the expected key columns;
/// - every row's sample count equals the raw COUNT(*) of its key, and (unless `partial`, for --limit and
///   --percent-limit) every key of the raw counts is present;
/// - rows are sorted by samples, most first; each share is samples / filtered total, and the shares sum to 100;
/// - the database file's bytes and the files beside it are unchanged: a report never writes.
@discardableResult
func assertReport(_ database: String, _ arguments: [String], expected: RawCounts, partial: Bool = false,
                  allowedStderr: [String] = [], file: StaticString = #filePath, line: UInt = #line) -> ParsedReport? {
    let before = FileState(of: database)
    let result: ProcessResult
    do {
        result = try runReport([database] + arguments + ["--format", "csv"])
    } catch {
        XCTFail("cannot run tprof-report: \(error)", file: file, line: line)
        return nil
    }
    let context = "tprof-report \(arguments.joined(separator: " "))\n\(result.summary)"
    assertNoCrash(result, file: file, line: line)
    XCTAssertEqual(result.status, 0, context, file: file, line: line)
    var allowed = allowedStderr
    if expected.counts.isEmpty || partial { allowed.append("tprof-report: no samples match") }
    for stderrLine in result.stderrLines where !allowed.contains(where: { stderrLine.contains($0) }) {
        XCTFail("unexpected line on stderr: \(stderrLine)\n\(context)", file: file, line: line)
    }
    XCTAssertEqual(FileState(of: database), before, "the report changed the database or the files beside it\n"
        + context, file: file, line: line)

    let table = parseCSV(result.stdout)
    guard let header = table.first else {
        XCTFail("no CSV header\n\(context)", file: file, line: line)
        return nil
    }
    XCTAssertEqual(header, ["percent", "samples"] + expected.columns, context, file: file, line: line)
    let report = ParsedReport(columns: header, rows: Array(table.dropFirst()), result: result)
    for row in report.rows where row.count != header.count {
        XCTFail("row \(row) has \(row.count) fields, the header \(header.count)\n\(context)", file: file, line: line)
        return report
    }

    var shown: [[String]: Int64] = [:]
    for (key, samples) in zip(report.keys, report.samples) {
        XCTAssertNil(shown[key], "key \(key) is shown twice\n\(context)", file: file, line: line)
        shown[key] = samples
    }
    if partial {
        for (key, samples) in shown {
            XCTAssertEqual(samples, expected.counts[key], "samples of \(key)\n\(context)", file: file, line: line)
        }
    } else {
        XCTAssertEqual(shown, expected.counts, "samples per key differ from COUNT(*) GROUP BY\n\(context)",
                       file: file, line: line)
    }
    XCTAssertEqual(report.samples, report.samples.sorted(by: >), "rows are not sorted by samples\n\(context)",
                   file: file, line: line)
    for (percent, samples) in zip(report.percents, report.samples) {
        XCTAssertEqual(percent, 100 * Double(samples) / Double(expected.total), accuracy: 1e-6,
                       "share of \(samples) samples\n\(context)", file: file, line: line)
    }
    if !partial && !report.rows.isEmpty {
        XCTAssertEqual(report.percents.reduce(0, +), 100, accuracy: 0.001, "shares do not sum to 100\n\(context)",
                       file: file, line: line)
    }
    return report
}
