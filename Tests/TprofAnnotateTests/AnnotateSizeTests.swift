import Foundation
import TprofStore
import TprofTestSupport
import XCTest

/// The code and source text kept for annotation are small beside the samples.
final class AnnotateSizeTests: XCTestCase {
    /// Examples/spin as scripts/demo.sh records it (`-F 999 -g`, 1 s here): the file with its code and source text
    /// against the same file without them, both vacuumed.
    func testSpinExampleCodeAndSourceAddAtMostTenPercent() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-annotate-size")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/spin/spin.c")
        let spin = try compileC(source: try String(contentsOf: source, encoding: .utf8), name: "spin",
                                flags: ["-fno-inline"], in: directory)
        let database = directory.file("spin.db")
        let recorded = try Tool.record.run(["-q", "-F", "999", "-g", "-o", database, "--", spin, "1"])
        XCTAssertEqual(recorded.status, 0, recorded.summary)
        let db = try Database(path: database)
        XCTAssertGreaterThan(try db.scalarInt("SELECT count(bytes) FROM code"), 0)
        XCTAssertGreaterThan(try db.scalarInt("SELECT count(*) FROM source_lines"), 0)
        let with = directory.file("with.db")
        let without = directory.file("without.db")
        try db.connection.execute("VACUUM INTO '\(with)'; VACUUM INTO '\(without)'")
        try SQLiteDatabase(path: without, mode: .readWrite)
            .execute("DELETE FROM code_lines; DELETE FROM code; DELETE FROM source_lines; VACUUM")
        let sizes = try [with, without].map { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) }
        XCTAssertLessThanOrEqual(Double(sizes[0]), Double(sizes[1]) * 1.10, "with \(sizes[0]) bytes, without \(sizes[1])")
    }
}
