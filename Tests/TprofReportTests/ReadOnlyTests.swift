import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// The report opens databases read-only: views an older file lacks live in the TEMP schema, and neither the file
/// nor the directory around it changes.
final class ReadOnlyTests: XCTestCase {
    /// The views every recording has (Schema/002-views.sql); later schema versions add more.
    static let reportViews = ["by_comm", "by_cpu", "by_event", "by_mode", "by_process", "by_thread", "by_time",
                              "counter_totals", "sample_facts", "sample_groups"]

    /// A copy of the real recording as schema version 1 would have it: no views, user_version 1.
    private func versionOneCopy(in directory: TemporaryDirectory) throws -> (path: String, views: [String]) {
        let db = try copyDatabase(try Fixtures.get().real, to: directory, as: "v1.db")
        let views = try queryDatabase(db, "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name").map { $0[0] }
        XCTAssertTrue(Set(ReadOnlyTests.reportViews).isSubset(of: views), "views: \(views)")
        try modifyDatabase(db, views.map { "DROP VIEW \($0);" }.joined() + "PRAGMA user_version = 1;")
        XCTAssertEqual(try queryInt(db, "PRAGMA user_version"), 1)
        XCTAssertEqual(try queryInt(db, "SELECT count(*) FROM sqlite_master WHERE type = 'view'"), 0)
        return (db, views)
    }

    func testViewsMissingFromAnOlderFileAreCreatedInTheTempSchemaOnly() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-v1")
        let (db, views) = try versionOneCopy(in: directory)
        let before = FileState(of: db)

        for grouping in GroupingFlag.allCases {
            assertReport(db, [grouping.flag], expected: try RawCounts(db, [grouping]))
        }
        assertReport(db, ["--by-pid", "--since", "0.1"], expected: try RawCounts(db, [.pid], where: "s.time >= 100000000"))

        let temp = try runReport([db, "--sql", "SELECT name FROM sqlite_temp_master WHERE type = 'view' ORDER BY name",
                                  "--format", "csv"])
        XCTAssertEqual(temp.status, 0, temp.summary)
        XCTAssertEqual(parseCSV(temp.stdout).dropFirst().map { $0[0] }, views)
        let main = try runReport([db, "--sql", "SELECT count(*) AS views FROM main.sqlite_master WHERE type = 'view'",
                                  "--format", "csv"])
        XCTAssertEqual(parseCSV(main.stdout), [["views"], ["0"]])
        let counterTotals = try runReport([db, "--sql", "SELECT read, dropped FROM counter_totals", "--format", "csv"])
        XCTAssertEqual(parseCSV(counterTotals.stdout).last, [String(try queryInt(db, "SELECT sum(read) FROM counters")), "0"])

        let stat = try runReport([db, "--stat"])
        XCTAssertEqual(stat.status, 0, stat.summary)
        let header = try runReport([db, "--header"])
        XCTAssertEqual(header.status, 0, header.summary)

        XCTAssertEqual(FileState(of: db), before, "the report wrote to the version 1 file or beside it")
        XCTAssertEqual(try queryInt(db, "PRAGMA user_version"), 1)
        XCTAssertEqual(try queryInt(db, "SELECT count(*) FROM sqlite_master WHERE type = 'view'"), 0)
    }

    /// Every kind of run leaves the file's bytes and the directory's contents as they were.
    func testNoReportChangesTheFileOrLeavesFilesBeside() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-untouched")
        let db = try copyDatabase(try Fixtures.get().real, to: directory, as: "run.db")
        let before = FileState(of: db)
        XCTAssertEqual(before.neighbours, ["run.db"])
        let runs: [[String]] = [
            ["--by-pid"], ["--by-tid", "--since", "0.1", "--format", "json"], ["--header"], ["--stat"],
            ["--sql", "SELECT count(*) FROM sample_facts"], ["--by-comm", "--format", "csv", "--limit", "1"],
            ["--sql", "DELETE FROM samples"], ["--kernel", "--user"],
        ]
        for arguments in runs {
            let result = try runReport([db] + arguments)
            assertNoCrash(result)
            XCTAssertEqual(FileState(of: db), before, "tprof-report \(arguments.joined(separator: " ")) changed \(directory.path)")
        }
    }

    /// A finished recording in a directory the user may not write is still readable (SQLite must not need to
    /// create -wal or -shm files for it).
    func testReadableFileInADirectoryTheUserCannotWrite() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-readonly-dir")
        let db = try copyDatabase(try Fixtures.get().real, to: directory, as: "run.db")
        XCTAssertEqual(chmod(db, 0o644), 0)
        XCTAssertEqual(chmod(directory.path, 0o755), 0)
        let before = FileState(of: db)
        let result = try runReport([db, "--by-pid", "--format", "csv"], user: "nobody")
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stderrLines, [], result.summary)
        let expected = try RawCounts(db, [.pid])
        let rows = parseCSV(result.stdout).dropFirst()
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: rows.map { (Array($0.dropFirst(2)), Int64($0[1]) ?? -1) }),
                       expected.counts)
        XCTAssertEqual(FileState(of: db), before)
    }

    /// A recording still being written (its -wal file present) is read with what was committed so far.
    func testDatabaseWithAWriteAheadLogIsReadIncludingTheLog() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-wal")
        let db = try copyDatabase(try Fixtures.get().synthetic, to: directory, as: "live.db")
        let writer = try SQLiteDatabase(path: db, mode: .readWrite)
        try writer.execute("PRAGMA wal_autocheckpoint = 0; UPDATE run SET status = 'recording'; DELETE FROM samples WHERE pid = 1000; DELETE FROM sample_counts WHERE pid = 1000;")
        var info = stat()
        XCTAssertEqual(stat(db + "-wal", &info), 0, "no -wal file while a writer is open")
        XCTAssertGreaterThan(info.st_size, 0)
        let report = assertReport(db, ["--by-pid"], expected: try RawCounts(db, [.pid]),
                                  allowedStderr: ["WARNING: this run did not finish (status: recording)"])
        XCTAssertEqual(report?.keys.map { $0[0] }.contains("1000"), false)
        XCTAssertEqual(report?.rows.count, Fixtures.shape.processes - 1)
        withExtendedLifetime(writer) {}
    }
}
