import Foundation
import TprofStore
import TprofTestSupport
import XCTest

/// Files written by earlier versions (kept in `Tests/Fixtures`, recorded by those versions) are read as they are,
/// never changed by a report, and brought to the current schema by `--resymbolize` with the same answers.
final class OlderSchemaTests: XCTestCase {
    /// `tprof-record -g -F 999 -- spin 1` by the build of schema 6, where each (process, stack node) had a
    /// `stack_addresses` row; schema 7 names frames through `addresses` and made that table a view.
    private static var schema6: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/schema-6-call-graph.db").path
    }

    /// User frames only: kernel names come from the running kernel when it is the recorded one.
    private static let userReports: [[String]] = [
        ["--folded", "--user"], ["--tree", "--user"], ["--by-symbol", "--user", "--format", "csv"],
        ["--by-symbol", "--children", "--user", "--format", "csv"],
    ]

    private static let frameNames = """
        SELECT f.pid, f.stack_id, f.symbol FROM stack_frames f JOIN stacks s ON s.id = f.stack_id
        WHERE s.kernel = 0 ORDER BY 1, 2
        """

    func testASchema6FileIsReadWithoutBeingChanged() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-schema6")
        let db = try copyDatabase(Self.schema6, to: directory, as: "old.db")
        XCTAssertEqual(try queryInt(db, "PRAGMA user_version"), 6)
        let before = FileState(of: db)
        for arguments in Self.userReports + [["--pprof", directory.file("old.pb.gz")]] {
            let result = try runReport([db] + arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.summary)")
        }
        let folded = try runReport([db, "--folded", "--user"]).stdout
        XCTAssertTrue(folded.contains("spin;__libc_start_call_main;hot_a "), folded)
        // Through this build's views: by_mode's mode is the id there too (the file's own view has the name), and
        // views the file never had answer.
        let modes = try runReport([db, "--sql", "SELECT mode, mode_name FROM by_mode ORDER BY mode", "--format", "csv"])
        XCTAssertEqual(parseCSV(modes.stdout), [["mode", "mode_name"], ["1", "kernel"], ["2", "user"]], modes.summary)
        let hottest = try runReport([db, "--sql", "SELECT stack, samples FROM by_stack LIMIT 1", "--format", "csv"])
        XCTAssertEqual(parseCSV(hottest.stdout).last, ["__libc_start_call_main;hot_a", "654"], hottest.summary)
        XCTAssertEqual(FileState(of: db).bytes, before.bytes, "a report changed a schema 6 file")
    }

    func testResymbolizeBringsASchema6FileToTheCurrentSchemaWithTheSameAnswers() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-schema6-upgrade")
        let db = try copyDatabase(Self.schema6, to: directory, as: "old.db")
        let reports = try Self.userReports.map { try runReport([db] + $0).stdout }
        let frames = try queryDatabase(db, Self.frameNames)
        XCTAssertGreaterThan(frames.count, 3)

        let result = try runReport([db, "--resymbolize"])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(try queryInt(db, "PRAGMA user_version"), Int64(RecordingDatabase.schemaVersion))
        XCTAssertEqual(try queryDatabase(db, "SELECT type FROM sqlite_master WHERE name = 'stack_addresses'"),
                       [["view"]])
        XCTAssertEqual(try queryDatabase(db, Self.frameNames), frames, "frames named otherwise after the upgrade")
        XCTAssertEqual(try queryDatabase(db, "PRAGMA foreign_key_check"), [], "rows the declared joins do not find")
        for (arguments, expected) in zip(Self.userReports, reports) {
            XCTAssertEqual(try runReport([db] + arguments).stdout, expected, "\(arguments) after the upgrade")
        }
        // Upgraded once: a second run finds the current schema and changes nothing of it.
        XCTAssertEqual(try runReport([db, "--resymbolize"]).status, 0)
        XCTAssertEqual(try queryInt(db, "PRAGMA user_version"), Int64(RecordingDatabase.schemaVersion))
    }
}
