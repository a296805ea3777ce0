import Foundation
import TprofTestSupport
import XCTest

/// Addresses outside any file: anonymous executable memory shows as `[unknown] 0x...` unless a JIT's perf map
/// names it; `symbol_stats` counts how well addresses resolved.
final class UnknownAddressTests: XCTestCase {
    /// Runs the anonymous-code program under tprof; returns the recording and the spin loop's address it printed.
    private func recordAnonymousCode(_ bench: SymbolWorkbench, jitName: String? = nil) throws
        -> (recording: TprofRecording, pid: Int32, spin: String) {
        let program = try bench.compileC(SymbolWorkloads.anonymousCode, name: "anoncode")
        let recording = try bench.recordTprof([program, "0.5"] + (jitName.map { [$0] } ?? []))
        let words = recording.result.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count >= 4, words[0] == "pid", let pid = Int32(words[1]), words[2] == "spin" else {
            throw TestSupportError("the program did not print its pid and spin address\n\(recording.result.summary)")
        }
        return (recording, pid, String(words[3]))
    }

    func testAnonymousCodeShowsAsUnknownAddress() throws {
        let bench = try SymbolWorkbench()
        let (recording, _, spin) = try recordAnonymousCode(bench)
        let tprof = try recording.symbolProfile()
        let top = try XCTUnwrap(tprof.rows.first)
        XCTAssertEqual(top.symbol, "[unknown] 0x\(spin)", "the spin loop in anonymous memory\n\(tprof.listing)")
        XCTAssertGreaterThan(top.percent, 90, tprof.listing)
        XCTAssertFalse(top.kernel)
        let database = try recording.open()
        XCTAssertEqual(try database.scalarText("SELECT d.kind FROM addresses a JOIN dsos d ON d.id = a.dso_id "
            + "WHERE a.pc = \(Int64(spin, radix: 16) ?? 0)"), "anonymous", "the loop's memory is anonymous")

        // symbol_stats: every sample is counted once, and the loop's samples are not counted as resolved.
        let stats = try recording.rows(["--sql", "SELECT * FROM symbol_stats"])
        let statsSamples = stats.reduce(0) { $0 + ((($1["samples"] as? NSNumber)?.intValue) ?? 0) }
        XCTAssertEqual(Int64(statsSamples), try database.scalarInt("SELECT sum(samples) FROM sample_counts"),
                       "symbol_stats counts every sample: \(stats)")
        let unresolved = stats.filter { $0["resolved"] as? String != "symbol" }
            .reduce(0) { $0 + ((($1["samples"] as? NSNumber)?.intValue) ?? 0) }
        XCTAssertEqual(unresolved, top.samples, "the loop's samples are the unresolved ones: \(stats)")
        for row in stats {
            XCTAssertGreaterThan((row["addresses"] as? NSNumber)?.intValue ?? 0, 0, "\(stats)")
        }
    }

    func testPerfMapNamesJittedCode() throws {
        let bench = try SymbolWorkbench()
        let name = "tprof_test_jitted_loop"
        let (recording, pid, spin) = try recordAnonymousCode(bench, jitName: name)
        let map = "/tmp/perf-\(pid).map"
        defer { try? FileManager.default.removeItem(atPath: map) }
        let tprof = try recording.symbolProfile()
        let top = try XCTUnwrap(tprof.rows.first)
        XCTAssertEqual(top.symbol, name, "the perf map names the loop\n\(tprof.listing)")
        XCTAssertEqual(top.dso, map, tprof.listing)
        XCTAssertGreaterThan(top.percent, 90, tprof.listing)
        let address = try recording.rows(["--by-address", "--limit", "1"]).first
        XCTAssertEqual(address?["address"] as? String, "0x" + spin)
        XCTAssertEqual(address?["symbol"] as? String, name + "+0x40", "the jmp is 0x40 bytes into the map's entry")
    }
}
