import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TprofStore
import TprofTestSupport
import XCTest

/// A symbol name holding characters XML 1.0 forbids (a JIT map or a damaged file can name a symbol anything) still
/// gives SVG documents an XML parser reads, with the name's other characters kept.
final class OddSymbolNameTests: XCTestCase {
    func testControlCharactersInASymbolNameLeaveTheSVGValid() throws {
        let recording = try CallGraphRecording.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-odd-name")
        let database = directory.file("odd.db")
        try FileManager.default.copyItem(atPath: recording.path, toPath: database)
        let connection = try SQLiteDatabase(path: database, mode: .readWrite)
        let oddName = "'le' || char(1) || 'af' || char(27) || '<&>' || char(65535)"
        try connection.execute("UPDATE symbols SET name = \(oddName) WHERE name = 'leaf'; "
            + "UPDATE addresses SET name = \(oddName) WHERE name = 'leaf'")

        let flameGraph = directory.file("fg.svg")
        XCTAssertNotNil(report(database, ["--flamegraph", flameGraph]))
        let graph = try FlameGraphSVG(path: flameGraph)
        XCTAssertTrue(graph.frames.contains { $0.name == "leaf<&>" }, graph.frames.map(\.name).joined(separator: ", "))

        let timeline = directory.file("timeline.svg")
        XCTAssertNotNil(report(database, ["--timeline", timeline, "--by-symbol"]))
        let parser = try XCTUnwrap(XMLParser(contentsOf: URL(fileURLWithPath: timeline)))
        XCTAssertTrue(parser.parse(), "\(timeline): \(parser.parserError.map { "\($0)" } ?? "")")
    }
}
