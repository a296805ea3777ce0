import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// Which databases a report reads: tprof.db when none is given, each database once, a word after --timeline that
/// is not a chart, and an unfinished file in a directory the reader may not write.
final class DatabaseArgumentTests: XCTestCase {
    func testWithoutADatabaseTheReportReadsTprofDB() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-report-default", worldWritable: true)
        let missing = try Tool.report.run(["--by-pid"], currentDirectory: directory.path)
        assertOneLineError(missing, contains: "tprof.db")
        XCTAssertEqual(missing.stdout, "")

        let db = try copyDatabase(try Fixtures.get().synthetic, to: directory, as: "tprof.db")
        let given = try runReport([db, "--by-pid", "--format", "csv"])
        let implicit = try Tool.report.run(["--by-pid", "--format", "csv"], currentDirectory: directory.path)
        XCTAssertEqual(implicit.status, 0, implicit.summary)
        XCTAssertEqual(implicit.stdout, given.stdout)
        XCTAssertFalse(implicit.stdout.isEmpty)
    }

    /// The same file twice (by its path, a symlink or a hard link) would be counted twice; a --diff against itself
    /// is a self-diff, which stays allowed.
    func testTheSameDatabaseTwiceIsRefused() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-report-twice")
        let db = try copyDatabase(try Fixtures.get().synthetic, to: directory, as: "run.db")
        let other = try copyDatabase(try Fixtures.get().synthetic, to: directory, as: "copy.db")
        XCTAssertEqual(symlink(db, directory.file("link.db")), 0)
        XCTAssertEqual(link(db, directory.file("hard.db")), 0)
        for second in [db, directory.file("link.db"), directory.file("hard.db")] {
            let result = try runReport([db, other, second, "--by-pid"])
            assertOneLineError(result, contains: "same database")
            XCTAssertEqual(result.stdout, "")
        }
        let twoCopies = try runReport([db, other, "--by-pid", "--format", "csv"])
        XCTAssertEqual(twoCopies.status, 0, twoCopies.summary)
        let selfDiff = try runReport([db, "--diff", db, "--by-pid"])
        XCTAssertEqual(selfDiff.status, 0, selfDiff.summary)
    }

    /// `--timeline NAME` without .svg leaves NAME as a second database: the message is about the timeline.
    func testTimelineWithoutAChartNameSaysWhatTimelineTakes() throws {
        let db = try Fixtures.get().synthetic
        for arguments in [[db, "--timeline", "chart.png"], [db, "--timeline", "chart"], ["--timeline", db, "x.db"]] {
            let result = try runReport(arguments)
            assertOneLineError(result, contains: "--timeline takes a file name ending in .svg")
            XCTAssertFalse(result.stderr.contains("grouped"), result.summary)
        }
    }

    /// A recording killed before it finished (its last batches in the -wal, no -shm) in a directory the reader
    /// may not write: SQLite cannot read the -wal there, and the report says so in one line, not as damage.
    func testAnUnfinishedFileInADirectoryTheReaderCannotWrite() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-report-unfinished")
        let source = try copyDatabase(try Fixtures.get().synthetic, to: directory, as: "source.db")
        let writer = try SQLiteDatabase(path: source, mode: .readWrite)
        try writer.execute("PRAGMA wal_autocheckpoint = 0; UPDATE run SET status = 'recording';")
        let locked = try makeTemporaryDirectory(prefix: "tprof-report-unfinished-ro")
        let db = locked.file("killed.db")
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: source + suffix, toPath: db + suffix)
            XCTAssertEqual(chmod(db + suffix, 0o644), 0)
        }
        withExtendedLifetime(writer) {}
        XCTAssertEqual(chmod(locked.path, 0o555), 0)
        let before = FileState(of: db)
        let result = try runReport([db, "--by-pid"], user: "nobody")
        if result.status == 0 {
            XCTAssertTrue(result.stdout.contains("pid"), result.summary)
        } else {
            assertOneLineError(result, contains: "-shm", "\(locked.path)")
            XCTAssertFalse(result.stderr.contains("damaged"), result.summary)
        }
        XCTAssertEqual(FileState(of: db), before)
    }
}
