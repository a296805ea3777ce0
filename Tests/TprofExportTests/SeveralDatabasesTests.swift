import Foundation
import TprofTestSupport
import XCTest

/// `tprof-report a.db b.db --by-comm`: one report over several runs, each read in place and left untouched.
final class SeveralDatabasesTests: XCTestCase {
    func testByCommOverTwoDatabases() throws {
        let workbench = try ExportWorkbench.shared()
        // Copies, so that the bytes compared are of files no other test reads at the same time.
        let directory = try makeTemporaryDirectory(prefix: "tprof-several")
        let first = directory.file("a.db")
        let second = directory.file("b.db")
        try FileManager.default.copyItem(atPath: workbench.base, toPath: first)
        try FileManager.default.copyItem(atPath: workbench.synthetic, toPath: second)
        let before = [try ExportTools.bytes(first), try ExportTools.bytes(second)]
        let listing = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()

        let rows = ExportTools.csvRows(try ExportTools.report([first, second, "--by-comm", "--format", "csv"]).stdout)
        XCTAssertEqual(Set(rows.compactMap { $0["database"] }), [first, second])
        // (The counts come from the originals: opening a copy in sqlite would leave -wal and -shm files beside it.)
        for (path, original) in [(first, workbench.base), (second, workbench.synthetic)] {
            let own = rows.filter { $0["database"] == path }
            let share = own.reduce(0.0) { $0 + (Double($1["percent"] ?? "") ?? .nan) }
            XCTAssertEqual(share, 100, accuracy: 0.01, "shares of \(path)")
            let samples = own.reduce(Int64(0)) { $0 + (Int64($1["samples"] ?? "") ?? -1) }
            XCTAssertEqual(samples, try Database(path: original).scalarInt("SELECT count(*) FROM samples"))
        }
        XCTAssertTrue(rows.contains { $0["database"] == first && $0["comm"] == ExportWorkload.name })
        XCTAssertEqual(Set(rows.filter { $0["database"] == second }.compactMap { $0["comm"] }),
                       ["synth0", "synth1", "synth2", "synth3"])

        // The table format too; then nothing changed on disk: same bytes, no -wal, -shm or -journal beside them.
        let table = try ExportTools.report([first, second, "--by-comm"]).stdout
        XCTAssertTrue(table.contains(first) && table.contains(second), table)
        XCTAssertEqual(try ExportTools.bytes(first), before[0], "\(first) was modified")
        XCTAssertEqual(try ExportTools.bytes(second), before[1], "\(second) was modified")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), listing)
    }
}
