import Foundation
import TprofStore
import TprofTestSupport
import XCTest

/// Files written by earlier versions (kept in `Tests/Fixtures`, recorded by those versions) are read as they are,
/// never changed by a report, and brought to the current schema by `--resymbolize` with the same answers.
final class OlderSchemaTests: XCTestCase {
    /// A file of `Tests/Fixtures`: `tprof-record [-g] -F 999 -- spin 1` by the build that last wrote its schema.
    private struct Fixture {
        var file: String
        var version: Int
        /// Recorded with -g: the builds of schema 1 and 2 had no call graphs, and schema 3's was recorded without.
        var callGraph: Bool

        var path: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/\(file)").path
        }

        /// Schema 1 and 2 had no symbol tables: a report naming symbols is refused until `--resymbolize`.
        var hasSymbols: Bool { version >= 3 }
    }

    /// One file of every earlier schema (see Tests/Fixtures/README.md).
    private static let fixtures = [
        Fixture(file: "schema-1-flat.db", version: 1, callGraph: false),
        Fixture(file: "schema-2-flat.db", version: 2, callGraph: false),
        Fixture(file: "schema-3-flat.db", version: 3, callGraph: false),
        Fixture(file: "schema-4-call-graph.db", version: 4, callGraph: true),
        Fixture(file: "schema-5-call-graph.db", version: 5, callGraph: true),
        Fixture(file: "schema-6-call-graph.db", version: 6, callGraph: true),
        Fixture(file: "schema-7-call-graph.db", version: 7, callGraph: true),
    ]

    /// `tprof-record -g -F 999 -- spin 1` by the build of schema 6, where each (process, stack node) had a
    /// `stack_addresses` row; schema 7 names frames through `addresses` and made that table a view.
    private static var schema6: String { fixtures[5].path }

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

    // MARK: Every report kind on every schema

    /// Every kind of report `tprof-report` makes, by its arguments; `file` is the one it writes, if any, and
    /// `symbols` says it names symbols (refused on a file of schema 1 or 2).
    private static func kinds(_ db: String, symbol: String, out: String)
        -> [(arguments: [String], file: String?, symbols: Bool)] {
        let groupings = ["pid", "tid", "comm", "cpu", "mode", "event"].map { (["--by-\($0)"], nil as String?, false) }
            + ["symbol", "dso", "line", "address"].map { (["--by-\($0)"], nil as String?, true) }
        let files: [(arguments: [String], file: String?, symbols: Bool)] = [
            (["--flamegraph"], out + "/fg.svg", true), (["--pprof"], out + "/run.pb.gz", true),
            (["--speedscope"], out + "/run.json", true), (["--timeline"], out + "/timeline.svg", false),
        ]
        return groupings + files.map { ($0.arguments + [$0.file!], $0.file, $0.symbols) } + [
            (["--tree"], nil, true), (["--by-symbol", "--children"], nil, true), (["--callers", symbol], nil, true),
            (["--callees", symbol], nil, true), (["--folded"], nil, true), (["--timeline"], nil, false),
            (["--diff", db], nil, false), (["--stat"], nil, false), (["--header"], nil, false),
            (["--counts"], nil, false),
            (["--sql", "SELECT * FROM by_process"], nil, false),
        ]
    }

    /// Runs every kind on `db`: each exits 0 with output (on stdout or in its file), except that a file without
    /// symbol tables refuses the kinds naming symbols with one line saying how to get them.
    private func assertEveryKind(_ db: String, refusesSymbols: Bool, _ label: String, out: String) throws {
        var symbol = "main"
        if !refusesSymbols {
            let top = try runReport([db, "--by-symbol", "--format", "csv", "--limit", "1"])
            symbol = csvRecords(top.stdout).first?["symbol"] ?? ""
            XCTAssertFalse(symbol.isEmpty, "\(label): no symbol\n\(top.summary)")
        }
        for kind in Self.kinds(db, symbol: symbol, out: out) {
            let result = try runReport([db] + kind.arguments)
            let what = "\(label) \(kind.arguments.joined(separator: " "))"
            assertNoCrash(result)
            XCTAssertFalse(result.stderr.contains("no such"), "\(what): \(result.summary)")
            if refusesSymbols && kind.symbols {
                assertOneLineError(result, contains: "has schema version", "from before tprof-record resolved symbols",
                                   "--resymbolize")
                continue
            }
            XCTAssertEqual(result.status, 0, "\(what): \(result.summary)")
            if let file = kind.file {
                XCTAssertGreaterThan(FileManager.default.contents(atPath: file)?.count ?? 0, 0, what)
                try? FileManager.default.removeItem(atPath: file)
            } else {
                XCTAssertFalse(result.stdout.isEmpty, "\(what): no output")
            }
        }
    }

    func testEveryReportReadsTheFileOfEveryEarlierSchemaWithoutChangingIt() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-older")
        let out = try TemporaryDirectory(prefix: "tprof-report-older-out")
        for fixture in Self.fixtures {
            let db = try copyDatabase(fixture.path, to: directory, as: "\(fixture.version).db")
            let before = FileState(of: db)
            // user_version as the file's header holds it (bytes 60-63, big-endian): read without opening the file.
            let version = before.bytes.count >= 64 ? before.bytes[60..<64].reduce(0) { $0 << 8 | Int($1) } : -1
            XCTAssertEqual(version, fixture.version, fixture.file)
            try assertEveryKind(db, refusesSymbols: !fixture.hasSymbols, fixture.file, out: out.path)
            XCTAssertEqual(FileState(of: db), before, "a report changed \(fixture.file) or left files beside it")
            XCTAssertEqual(FileManager.default.contents(atPath: fixture.path), before.bytes, fixture.file)
        }
    }

    func testResymbolizeBringsTheFileOfEveryEarlierSchemaToTheCurrentOne() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-report-older-upgrade")
        let out = try TemporaryDirectory(prefix: "tprof-report-older-out")
        for fixture in Self.fixtures {
            let db = try copyDatabase(fixture.path, to: directory, as: "\(fixture.version).db")
            let byPID = try runReport([db, "--by-pid", "--format", "csv"])
            let result = try runReport([db, "--resymbolize"])
            XCTAssertEqual(result.status, 0, "\(fixture.file): \(result.summary)")
            XCTAssertEqual(try queryInt(db, "PRAGMA user_version"), Int64(RecordingDatabase.schemaVersion))
            XCTAssertEqual(try runReport([db, "--by-pid", "--format", "csv"]).stdout, byPID.stdout, fixture.file)
            try assertEveryKind(db, refusesSymbols: false, "\(fixture.file) upgraded", out: out.path)
        }
    }
}
