import Foundation
import TprofStore
import TprofTestSupport
import XCTest

/// `--sql`: one read-only statement, from the command line or stdin; the example queries of Examples/queries.
final class SQLQueryTests: XCTestCase {
    func testQueryResultsInEveryFormat() throws {
        let db = try Fixtures.get().synthetic
        let samples = try queryInt(db, "SELECT count(*) FROM samples")
        let csv = try runReport([db, "--sql", "SELECT count(*) AS n, 'a,b' AS text FROM samples", "--format", "csv"])
        XCTAssertEqual(csv.status, 0, csv.summary)
        XCTAssertEqual(parseCSV(csv.stdout), [["n", "text"], [String(samples), "a,b"]])
        let json = try runReport([db, "--sql", "SELECT count(*) AS n, NULL AS empty FROM samples", "--format", "json"])
        let objects = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        XCTAssertEqual((objects?.first?["n"] as? NSNumber)?.int64Value, samples)
        XCTAssertTrue(objects?.first?["empty"] is NSNull)
        let table = try runReport([db, "--sql", "SELECT * FROM by_process"])
        XCTAssertEqual(table.status, 0, table.summary)
        XCTAssertEqual(table.stdout.split(separator: "\n").count, 2 + Fixtures.shape.processes, table.stdout)
        XCTAssertEqual(table.stdout.split(separator: "\n").first?.split(separator: " ").first, "pid",
                       "an --sql result has no '#' header: \(table.stdout)")
    }

    func testQueryFromStandardInput() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-stdin")
        let db = try Fixtures.get().synthetic
        let file = directory.file("query.sql")
        try "-- samples per CPU\nSELECT cpu, count(*) AS samples\nFROM samples\nGROUP BY cpu\nORDER BY cpu;\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try runReportWithStdin(db, sqlFile: file, arguments: ["--format", "csv"])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(parseCSV(result.stdout), [["cpu", "samples"]]
            + (try queryDatabase(db, "SELECT cpu, count(*) FROM samples GROUP BY cpu ORDER BY cpu")))
    }

    /// Statements that would change the file, or reach another one, fail with one line and change nothing.
    func testStatementsThatWriteAreRefused() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-sql-write")
        let db = try copyDatabase(try Fixtures.get().real, to: directory, as: "run.db")
        let before = FileState(of: db)
        let statements = [
            "INSERT INTO modes (id, name) VALUES (9, 'x')",
            "UPDATE run SET status = 'failed'",
            "DELETE FROM samples",
            "DROP TABLE samples",
            "DROP VIEW by_process",
            "CREATE TABLE t (x)",
            "CREATE TEMP TABLE t (x)",
            "CREATE INDEX samples_by_pid ON samples (pid)",
            "ATTACH DATABASE '\(directory.file("other.db"))' AS other",
            "PRAGMA user_version = 5",
            "VACUUM",
            "VACUUM INTO '\(directory.file("copy.db"))'",
            "REINDEX",
            "ANALYZE",
            "SELECT 1; DELETE FROM samples",
            "",
        ]
        for statement in statements {
            let result = try runReport([db, "--sql", statement])
            assertOneLineError(result)
            XCTAssertEqual(result.stdout, "", statement)
            XCTAssertEqual(FileState(of: db), before, "'\(statement)' changed the database or its directory")
        }
        // Statements that may answer but must not change anything.
        for statement in ["PRAGMA journal_mode = DELETE", "PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA optimize"] {
            assertNoCrash(try runReport([db, "--sql", statement]))
            XCTAssertEqual(FileState(of: db), before, "'\(statement)' changed the database or its directory")
        }
        // The same through stdin.
        let file = directory.file("drop.sql")
        try "DROP TABLE samples;\n".write(toFile: file, atomically: true, encoding: .utf8)
        assertOneLineError(try runReportWithStdin(db, sqlFile: file))
        XCTAssertEqual(FileState(of: db).bytes, before.bytes)
        XCTAssertEqual(try queryInt(db, "SELECT count(*) FROM samples"), try queryInt(try Fixtures.get().real, "SELECT count(*) FROM samples"))
        XCTAssertEqual(try queryInt(db, "PRAGMA user_version"), Int64(RecordingDatabase.schemaVersion))
    }

    func testQueryErrorsAreOneLine() throws {
        let db = try Fixtures.get().synthetic
        for statement in ["SELECT nosuchcolumn FROM samples", "SELEC 1", "SELECT * FROM nosuchtable",
                          "SELECT load_extension('/tmp/x')"] {
            assertOneLineError(try runReport([db, "--sql", statement]))
        }
    }

    /// Every file in Examples/queries runs, as `tprof-report DB --sql "$(cat file)"` and through stdin, and
    /// returns rows on a real recording.
    func testExampleQueriesRunOnARealRecording() throws {
        let fixtures = try Fixtures.get()
        let files = try FileManager.default.contentsOfDirectory(atPath: exampleQueriesDirectory)
            .filter { $0.hasSuffix(".sql") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 5, "example queries in \(exampleQueriesDirectory)")
        for name in files {
            let path = exampleQueriesDirectory + "/" + name
            let sql = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertTrue(sql.hasPrefix("-- "), "\(name) does not start with a comment saying what it shows")
            for db in [fixtures.real, fixtures.synthetic] {
                let result = try runReport([db, "--sql", sql, "--format", "csv"])
                XCTAssertEqual(result.status, 0, "\(name)\n\(result.summary)")
                XCTAssertEqual(result.stderrLines, [], "\(name)\n\(result.summary)")
                let rows = parseCSV(result.stdout)
                XCTAssertGreaterThanOrEqual(rows.count, 2, "\(name) returned no rows on \(db)\n\(result.stdout)")
                for row in rows { XCTAssertEqual(row.count, rows.first?.count, "\(name): ragged CSV") }
            }
            let piped = try runReportWithStdin(fixtures.real, sqlFile: path)
            XCTAssertEqual(piped.status, 0, "\(name) through stdin\n\(piped.summary)")
        }
    }

    /// The drop summary example shows every CPU plus a total, with nothing unaccounted for.
    func testDropSummaryExampleAddsUp() throws {
        let db = try Fixtures.get().dropped
        let sql = try String(contentsOfFile: exampleQueriesDirectory + "/drop_summary.sql", encoding: .utf8)
        let result = try runReport([db, "--sql", sql, "--format", "csv"])
        XCTAssertEqual(result.status, 0, result.summary)
        let rows = parseCSV(result.stdout)
        let header = rows.first ?? []
        XCTAssertEqual(rows.dropFirst().map { $0[0] }, Fixtures.cpus.map(String.init) + ["total"])
        guard let unaccounted = header.firstIndex(of: "unaccounted"), let dropped = header.firstIndex(of: "dropped") else {
            return XCTFail("columns: \(header)")
        }
        for row in rows.dropFirst() { XCTAssertEqual(row[unaccounted], "0", "\(row)") }
        XCTAssertEqual(rows.last?[dropped],
                       String(try queryInt(db, "SELECT sum(overflow + dropbuf_sample + unwritten) FROM counters")))
    }
}
