import Foundation
import TprofFinish
import TprofStore
import TprofTestSupport
import XCTest

/// The bounds on what is kept: a function longer than the per-function bound is cut, functions and source lines
/// past the total bound are left out, and `annotation_limits` counts what was. Small bounds, on a copy of a real
/// recording whose code was emptied.
final class CodeBoundsTests: XCTestCase {
    private func emptiedCopy() throws -> (TemporaryDirectory, String) {
        let directory = try makeTemporaryDirectory(prefix: "tprof-annotate-bounds")
        let copy = directory.file("copy.db")
        try FileManager.default.copyItem(atPath: try HotLoop.withPerf.value().database, toPath: copy)
        try SQLiteDatabase(path: copy, mode: .readWrite).execute(
            "DELETE FROM code_lines; DELETE FROM code; DELETE FROM source_lines; DELETE FROM annotation_limits")
        return (directory, copy)
    }

    func testAFunctionPastThePerFunctionBoundIsCutAndCounted() throws {
        let (_, copy) = try emptiedCopy()
        let db = try SQLiteDatabase(path: copy, mode: .readWrite)
        try CodeCapture(database: db, useRunningKernel: true, functionCap: 16, totalCap: 40).run()
        let check = try Database(path: copy)
        let hot = "FROM code WHERE address = (SELECT address FROM symbols WHERE name = 'hot_loop')"
        XCTAssertEqual(try check.scalarInt("SELECT length(bytes) \(hot)"), 16)
        let size = try check.scalarInt("SELECT size \(hot)")
        XCTAssertGreaterThan(size, 16)
        XCTAssertEqual(try check.scalarText("SELECT note \(hot)"),
                       "cut at 16 of \(size) bytes (at most 16 per function, 40 in all)")
        XCTAssertLessThanOrEqual(try check.scalarInt("""
            SELECT coalesce((SELECT sum(length(bytes)) FROM code), 0)
                 + coalesce((SELECT sum(length(CAST(text AS BLOB))) FROM source_lines), 0)
            """), 40, "the total bound holds")
        let limits = try check.rows("SELECT * FROM annotation_limits")
        XCTAssertEqual(limits.count, 1)
        XCTAssertEqual(limits.first?.prefix(2), [.integer(16), .integer(40)])
        XCTAssertGreaterThanOrEqual(try check.scalarInt("SELECT functions_cut FROM annotation_limits"), 1)
        XCTAssertGreaterThanOrEqual(try check.scalarInt("SELECT code_bytes_left_out FROM annotation_limits"), size - 16)
        XCTAssertGreaterThan(try check.scalarInt("SELECT source_lines_left_out FROM annotation_limits"), 0)

        let listing = try Tool.report.run([copy, "--annotate", "^hot_loop$"])
        XCTAssertTrue(listing.stdout.contains("note: cut at 16 of \(size) bytes"), listing.stdout)
        XCTAssertEqual(samples(try annotateRows(copy, "^hot_loop$")).reduce(0, +),
                       try bySymbolSamples(copy, "hot_loop"), "samples past the code kept keep their rows")
    }

    func testFunctionsPastTheTotalBoundAreLeftOutColdestFirst() throws {
        let (_, copy) = try emptiedCopy()
        let db = try SQLiteDatabase(path: copy, mode: .readWrite)
        try CodeCapture(database: db, useRunningKernel: true, functionCap: 64 << 10, totalCap: 10).run()
        let check = try Database(path: copy)
        XCTAssertEqual(try check.scalarInt("""
            SELECT count(*) FROM code WHERE address = (SELECT address FROM symbols WHERE name = 'hot_loop')
            """), 1, "the hottest function comes first")
        XCTAssertEqual(try check.scalarInt("""
            SELECT count(*) FROM code WHERE address = (SELECT address FROM symbols WHERE name = 'cold_loop')
            """), 0, "a colder one is left out")
        XCTAssertGreaterThanOrEqual(try check.scalarInt("SELECT functions_left_out FROM annotation_limits"), 1)
        let listing = try Tool.report.run([copy, "--annotate", "^cold_loop$"])
        XCTAssertEqual(listing.status, 0, listing.summary)
        XCTAssertTrue(listing.stdout.contains("code not shown: the code was not kept"), listing.stdout)
    }
}
