import Foundation
import TprofTestSupport
import XCTest

/// What `--annotate` prints: the listing, the source view, csv and json rows, `--stat`, and one line for a bad
/// request.
final class AnnotateOutputTests: XCTestCase {
    func testListingInterleavesSourceAndNamesJumpTargetsAndOtherMatches() throws {
        let database = try HotLoop.withPerf.value().database
        let result = try Tool.report.run([database, "--annotate", "_loop"])
        XCTAssertEqual(result.status, 0, result.summary)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains { $0.hasPrefix("hot_loop  [.] ") && $0.contains("build id ") }, result.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("also matched: cold_loop (") }, "the other match named")
        XCTAssertTrue(lines.contains { $0.contains("hotloop.c:") && $0.contains("x = x * 1103515245u + 12345u;") },
                      "source lines between the instructions")
        XCTAssertTrue(lines.contains { $0.contains(": jne 0x") && $0.contains("<hot_loop+0x") }, "jump target named")
        XCTAssertEqual(lines.filter { $0.hasPrefix("*") }.count, 3, "the 3 hottest marked")
        XCTAssertFalse(result.stdout.contains("\u{1b}["), "no colour when stdout is not a terminal")
    }

    /// On a terminal (a pseudo-terminal from script(1)) the hottest instructions are coloured through terminfo.
    func testHottestInstructionsAreColouredOnATerminal() throws {
        let database = try HotLoop.withPerf.value().database
        let command = "'\(try Tool.report.path())' '\(database)' --annotate '^hot_loop$'"
        let result = try ChildProcess.run("/usr/bin/env", ["TERM=xterm", "script", "-qec", command, "/dev/null"],
                                          timeout: 60)
        XCTAssertEqual(result.status, 0, result.summary)
        let coloured = result.stdout.split(whereSeparator: \.isNewline).filter { $0.contains("\u{1b}[31m") }
        XCTAssertEqual(coloured.count, 3, result.stdout)
        XCTAssertTrue(coloured.allSatisfy { $0.contains("*") }, "the marked rows are the coloured ones")
    }

    func testSourceViewCountsEachLine() throws {
        let database = try HotLoop.withPerf.value().database
        let rows = try annotateRows(database, "^hot_loop$", ["--source"])
        XCTAssertEqual(Array(rows.first?.keys.sorted() ?? []), ["percent", "samples", "source_file", "source_line",
                                                                  "text"])
        XCTAssertEqual(samples(rows).reduce(0, +), try bySymbolSamples(database, "hot_loop"))
        let loop = try XCTUnwrap(rows.first { $0["text"]?.contains("x ^= x >> 7;") == true })
        XCTAssertGreaterThan(Int(loop["samples"] ?? "") ?? 0, 0, "the loop body holds samples")
        XCTAssertTrue(rows.contains { $0["text"]?.contains("unsigned hot_loop(unsigned n) {") == true },
                      "context around the sampled lines")
    }

    func testCSVAndJSONGiveOneRowPerInstruction() throws {
        let database = try HotLoop.withPerf.value().database
        let csv = try Tool.report.run([database, "--annotate", "^hot_loop$", "--format", "csv"])
        XCTAssertEqual(csv.stdout.split(separator: "\n").first,
                       "address,offset,samples,percent,instruction,source_file,source_line")
        let rows = csvRecords(csv.stdout)
        XCTAssertEqual(rows.first?["offset"], "0")
        XCTAssertTrue(rows.allSatisfy { $0["source_file"]?.hasSuffix("/hotloop.c") == true }, "\(rows)")
        let json = try Tool.report.run([database, "--annotate", "^hot_loop$", "--format", "json"])
        let objects = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(objects.count, rows.count)
        XCTAssertEqual(Set(objects.first?.keys.map { $0 } ?? []),
                       ["address", "offset", "samples", "percent", "instruction", "source_file", "source_line"])
        XCTAssertEqual(objects.compactMap { $0["samples"] as? Int }.reduce(0, +), samples(rows).reduce(0, +))
    }

    func testStatSaysWhatCodeAndSourceTheFileHolds() throws {
        let database = try HotLoop.withPerf.value().database
        let result = try Tool.report.run([database, "--stat"])
        XCTAssertEqual(result.status, 0, result.summary)
        let db = try Database(path: database)
        let bytes = try db.scalarInt("SELECT sum(length(bytes)) FROM code")
        XCTAssertTrue(result.stdout.contains("with code, \(bytes) bytes)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("bounds: 65536 bytes per function, 16777216 in all"), result.stdout)
    }

    /// A file of an older schema (before code was kept) is read as it is: the reason, and the sampled addresses.
    func testARecordingFromBeforeCodeWasKeptSaysSoAndListsItsAddresses() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/schema-6-call-graph.db").path
        let result = try Tool.report.run([fixture, "--annotate", "^hot_a$"])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertTrue(result.stdout.contains("code not shown: the recording was made before tprof kept code (schema 6)"),
                      result.stdout)
        let rows = try annotateRows(fixture, "^hot_a$")
        XCTAssertTrue(rows.allSatisfy { $0["instruction"] == "" }, "\(rows)")
        XCTAssertEqual(samples(rows).reduce(0, +), try bySymbolSamples(fixture, "hot_a"))
    }

    func testBadRequestsGiveOneLine() throws {
        let database = try HotLoop.withPerf.value().database
        assertOneLineError(try Tool.report.run([database, "--annotate", "no_such_function"]),
                           contains: "no sampled function matches 'no_such_function'")
        assertOneLineError(try Tool.report.run([database, "--by-symbol", "--source"]),
                           contains: "--source goes with --annotate")
        assertOneLineError(try Tool.report.run([database, "--annotate", ""]), contains: "empty value for --annotate")
        assertOneLineError(try Tool.report.run([database, "--annotate", "hot", "--tree"]), contains: "give only one of")
        let limited = try Tool.report.run([database, "--annotate", "hot", "--limit", "3"])
        assertOneLineError(limited, contains: "--annotate takes no --limit")
        XCTAssertEqual(limited.status, 64)
    }
}
