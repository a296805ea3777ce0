import Foundation
import TprofTestSupport
import XCTest

/// `--header` against the run and events tables, `--stat` against the counters table, and the footer warnings.
final class HeaderAndStatisticsTests: XCTestCase {
    /// `--header --format csv` as a dictionary of field to values (`event` may repeat).
    private func headerFields(_ db: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: [String]] {
        let result = try runReport([db, "--header", "--format", "csv"])
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        let rows = parseCSV(result.stdout)
        XCTAssertEqual(rows.first, ["field", "value"], file: file, line: line)
        var fields: [String: [String]] = [:]
        for row in rows.dropFirst() where row.count == 2 { fields[row[0], default: []].append(row[1]) }
        return fields
    }

    func testHeaderShowsTheRunAndEventsTables() throws {
        let fixtures = try Fixtures.get()
        for db in [fixtures.synthetic, fixtures.real] {
            let fields = try headerFields(db)
            let run = try queryDatabase(db, """
                SELECT status, host, kernel_release, machine, cpu_count, coalesce(cpu_model, ''), duration_ns,
                       start_time_ns, target, coalesce(exit_status, '') FROM run
                """)[0]
            XCTAssertEqual(fields["status"], [run[0] + (run[9].isEmpty ? "" : ", exit status \(run[9])")])
            let host = fields["host"]?.first ?? ""
            for part in [run[1], "Linux \(run[2]) \(run[3])", "\(run[4]) CPUs", run[5]] {
                XCTAssertTrue(host.contains(part), "host '\(host)' lacks '\(part)'")
            }
            XCTAssertEqual(fields["duration"], [String(format: "%.3f s", (Double(run[6]) ?? 0) / 1e9)])
            let started = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: (Double(run[7]) ?? 0) / 1e9))
            XCTAssertEqual(fields["started"], [started])

            let events = try queryDatabase(db, """
                SELECT name, requested_frequency, achieved_rate FROM events ORDER BY id
                """)
            XCTAssertEqual(fields["event"]?.count, events.count)
            for (line, event) in zip(fields["event"] ?? [], events) {
                XCTAssertTrue(line.hasPrefix(event[0] + ", \(event[1]) Hz requested"), line)
                if let rate = Double(event[2]) {
                    XCTAssertTrue(line.contains(String(format: "%.1f Hz achieved", rate)), line)
                }
            }
            let samples = try queryInt(db, "SELECT count(*) FROM samples")
            XCTAssertEqual(fields["samples"], ["\(samples) samples, 0 dropped by tprof, 0 lost by the kernel"])
        }
        let real = try headerFields(fixtures.real)
        let command = try queryDatabase(fixtures.real, "SELECT command FROM run")[0][0]
        let arguments = try JSONSerialization.jsonObject(with: Data(command.utf8)) as? [String] ?? []
        XCTAssertEqual(real["command"], [arguments.joined(separator: " ")])
        XCTAssertEqual(real["status"], ["complete, exit status 0"])
        XCTAssertEqual(try headerFields(fixtures.synthetic)["command"], ["system-wide"])
    }

    func testHeaderAsTableAndJSON() throws {
        let db = try Fixtures.get().real
        let table = try runReport([db, "--header"])
        XCTAssertEqual(table.status, 0, table.summary)
        XCTAssertEqual(table.stderrLines, [])
        let lines = table.stdout.split(separator: "\n")
        XCTAssertGreaterThanOrEqual(lines.count, 6)
        for line in lines { XCTAssertTrue(line.hasPrefix("# "), String(line)) }
        XCTAssertEqual(lines.first.map(String.init), "# tprof report: \(db)")

        let json = try runReport([db, "--header", "--format", "json"])
        XCTAssertEqual(json.status, 0, json.summary)
        let objects = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: String]]
        XCTAssertEqual(objects?.first?["field"], "command")
        XCTAssertEqual(objects?.count, lines.count - 1)
    }

    /// `--stat --format csv`: one row per CPU equal to the counters table, then a total row of their sums.
    func testStatisticsEqualTheCountersTableWithATotalRow() throws {
        let fixtures = try Fixtures.get()
        let columns = ["read", "written", "sample", "overflow", "buf", "emptybuf", "dropbuf", "dropbuf_sample",
                       "kernel_lost", "kernel_lost_samples", "throttle", "unthrottle", "sideband_dropped", "unwritten",
                       "ignored_records", "malformed_records", "malformed_bytes"]
        for db in [fixtures.synthetic, fixtures.dropped, fixtures.real] {
            let result = try runReport([db, "--stat", "--format", "csv"])
            XCTAssertEqual(result.status, 0, result.summary)
            let rows = parseCSV(result.stdout)
            XCTAssertEqual(rows.first, ["cpu"] + columns)
            let perCPU = try queryDatabase(db, "SELECT cpu, \(columns.joined(separator: ", ")) FROM counters ORDER BY cpu")
            XCTAssertEqual(Array(rows.dropFirst().dropLast()), perCPU)
            let sums = try queryDatabase(db, "SELECT 'total', \(columns.map { "sum(\($0))" }.joined(separator: ", ")) FROM counters")
            XCTAssertEqual(rows.last, sums.first)

            let text = try runReport([db, "--stat"])
            XCTAssertEqual(text.status, 0, text.summary)
            XCTAssertTrue(text.stdout.hasPrefix("tprof statistics:\n"), text.stdout)
            for (index, column) in columns.enumerated() {
                XCTAssertTrue(text.stdout.contains("\t\(column) \(sums[0][index + 1])\n"), "\(column) in\n\(text.stdout)")
            }
        }
    }

    /// A file from before schema 6 has no record accounting columns: `--stat` leaves them empty in csv and out of
    /// the text block, and reports everything else.
    func testStatisticsOfAFileWithoutTheRecordColumns() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-report-schema5")
        let db = try copyDatabase(try Fixtures.get().real, to: directory, as: "v5.db")
        try modifyDatabase(db, """
            ALTER TABLE counters DROP COLUMN ignored_records; ALTER TABLE counters DROP COLUMN malformed_records;
            ALTER TABLE counters DROP COLUMN malformed_bytes; PRAGMA user_version = 5;
            """)

        let csv = try runReport([db, "--stat", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.summary)
        let rows = parseCSV(csv.stdout)
        XCTAssertEqual(rows.first?.suffix(3), ["ignored_records", "malformed_records", "malformed_bytes"])
        XCTAssertEqual(rows.last?.suffix(3), ["", "", ""], "not counted is not 0")
        XCTAssertEqual(rows.last?[1], String(try queryInt(db, "SELECT sum(read) FROM counters")))
        let text = try runReport([db, "--stat"])
        XCTAssertEqual(text.status, 0, text.summary)
        XCTAssertTrue(text.stdout.contains("\tread "), text.stdout)
        for column in ["ignored_records", "malformed_records", "malformed_bytes"] {
            XCTAssertFalse(text.stdout.contains("\t\(column) "), "\(column) in the totals block\n\(text.stdout)")
        }
    }

    /// Every CPU's samples are accounted for: read = written + overflow + dropbuf_sample + unwritten, and written
    /// equals the samples stored for that CPU.
    func testDropInvariantHoldsInEveryRecording() throws {
        let fixtures = try Fixtures.get()
        for db in [fixtures.synthetic, fixtures.dropped, fixtures.real] {
            let broken = try queryDatabase(db, """
                SELECT c.cpu, c.read, c.written, c.overflow, c.dropbuf_sample, c.unwritten,
                       (SELECT count(*) FROM samples s WHERE s.cpu = c.cpu) AS stored
                FROM counters c
                WHERE c.read != c.written + c.overflow + c.dropbuf_sample + c.unwritten
                   OR c.written != (SELECT count(*) FROM samples s WHERE s.cpu = c.cpu)
                """)
            XCTAssertEqual(broken, [], "counters that do not add up in \(db)")
        }
    }

    func testNoWarningWhenNothingWasLostAndTheRunIsComplete() throws {
        let fixtures = try Fixtures.get()
        for db in [fixtures.synthetic, fixtures.real] {
            for arguments in [["--by-pid"], ["--stat"]] {
                let result = try runReport([db] + arguments)
                XCTAssertEqual(result.status, 0, result.summary)
                XCTAssertEqual(result.stderrLines, [], result.summary)
            }
        }
    }

    func testFooterWarnsOnStderrWhenSamplesWereDropped() throws {
        let fixtures = try Fixtures.get()
        let db = fixtures.dropped
        let dropped = try queryInt(db, "SELECT sum(overflow) + sum(dropbuf_sample) + sum(unwritten) FROM counters")
        XCTAssertGreaterThan(dropped, 0)
        let warning = "tprof-report: WARNING: \(dropped) samples were lost (\(dropped) dropped by tprof's buffers, "
            + "0 lost by the kernel)"
        // The report itself stays correct for what was kept.
        let report = assertReport(db, ["--by-pid", "--by-cpu"], expected: try RawCounts(db, [.pid, .cpu]),
                                  allowedStderr: [warning])
        XCTAssertEqual(report?.result.stderrLines.filter { $0.hasPrefix(warning) }.count, 1)
        XCTAssertFalse(report?.result.stdout.contains("WARNING") ?? true, "the warning went to stdout")
        for arguments in [["--by-pid"], ["--stat"], ["--by-mode", "--format", "json"]] {
            let result = try runReport([db] + arguments)
            XCTAssertEqual(result.status, 0, result.summary)
            XCTAssertEqual(result.stderrLines.filter { $0.hasPrefix(warning) }.count, 1, result.summary)
            XCTAssertFalse(result.stdout.contains("WARNING"), result.summary)
        }
        let header = try runReport([db, "--header"])
        XCTAssertTrue(header.stdout.contains("\(try queryInt(db, "SELECT count(*) FROM samples")) samples, \(dropped) dropped by tprof"),
                      header.stdout)
    }

    func testFooterWarnsWhenTheRunDidNotComplete() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-status")
        let fixtures = try Fixtures.get()
        for (status, text) in [("recording", "this run did not finish (status: recording)"),
                               ("interrupted", "this run did not complete (status: interrupted)"),
                               ("failed", "this run did not complete (status: failed)")] {
            let db = try copyDatabase(fixtures.real, to: directory, as: "\(status).db")
            try modifyDatabase(db, "UPDATE run SET status = '\(status)'")
            let report = assertReport(db, ["--by-pid"], expected: try RawCounts(db, [.pid]),
                                      allowedStderr: ["tprof-report: WARNING: \(text)"])
            XCTAssertEqual(report?.result.stderrLines.count, 1, report?.result.summary ?? "")
            let stat = try runReport([db, "--stat"])
            XCTAssertEqual(stat.stderrLines.count, 1, stat.summary)
            XCTAssertTrue(stat.stderr.contains(text), stat.summary)
        }
    }
}
