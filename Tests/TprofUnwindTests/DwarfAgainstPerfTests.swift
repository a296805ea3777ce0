import Foundation
import TprofTestSupport
import XCTest

/// `--call-graph dwarf` on optimised C code without frame pointers, through a shared library: the full chains,
/// in the same shares as `perf record --call-graph dwarf`; `-g` on the same program cuts them short.
final class DwarfAgainstPerfTests: XCTestCase {
    /// The shared recording: `tprof-record -e cpu-clock -F 999 --call-graph dwarf -- dwprog 2`.
    static func dwarfRecording() throws -> String {
        let workbench = try UnwindWorkbench.shared()
        return try workbench.recording("dwarf", options: ["-F", "999", "--call-graph", "dwarf"],
                                       program: workbench.program, arguments: ["2"])
    }

    /// The design's shares: leaf(3K) under outer, leaf(2K) under other.
    static let designed: [StackFamily: Double] = [.outer: 60, .other: 40]

    func testFullChainsAgreeWithPerf() throws {
        let workbench = try UnwindWorkbench.shared()
        // One execution for both tools: tprof-record runs perf record, which runs the program, same event, rate
        // and unwinding. tprof's report is of the program's own process (perf's is left out).
        let perfData = workbench.directory.file("perf.data")
        let database = try workbench.record(
            "dwarf-same-execution.db", options: ["-F", "999", "--call-graph", "dwarf"], program: workbench.program,
            arguments: ["2"], launcher: ["/usr/bin/perf", "record", "-q", "-B", "-N", "-e", "cpu-clock", "-F", "999",
                                         "--call-graph", "dwarf", "-o", perfData, "--"])
        let comm = String(URL(fileURLWithPath: workbench.program).lastPathComponent.prefix(15))
        let tprof = try UnwindWorkbench.folded(database, filters: ["--comm", comm])
        let samples = try Database(path: database).scalarInt(
            "SELECT count(*) FROM samples WHERE pid IN (SELECT pid FROM processes WHERE comm = '\(comm)')")
        XCTAssertEqual(tprof.total, samples)
        XCTAssertGreaterThan(samples, 0)

        // The whole chain from main to leaf, through the library, for both paths.
        let outerChain = tprof.stacks.filter { $0.frames.containsRun(["main", "outer", "mid", "leaf"]) }
        let otherChain = tprof.stacks.filter { $0.frames.containsRun(["main", "other", "leaf"]) }
        XCTAssertTrue(outerChain.contains { $0.frames.suffix(4) == ["main", "outer", "mid", "leaf"] },
                      "no folded stack ends in main;outer;mid;leaf")
        XCTAssertTrue(otherChain.contains { $0.frames.suffix(3) == ["main", "other", "leaf"] },
                      "no folded stack ends in main;other;leaf")
        // ... from the process's entry point.
        XCTAssertTrue(outerChain.contains { $0.frames.first == "_start" }, "chains do not reach _start")
        // mid is the library's.
        let frames = try Database(path: database).rows("""
            SELECT DISTINCT dso FROM stack_frames WHERE symbol = 'mid'
            """)
        XCTAssertEqual(frames.count, 1)
        if case .text(let dso)? = frames.first?.first { XCTAssertEqual(dso, workbench.library) }

        let script = try ChildProcess.run("/usr/bin/perf", ["script", "-i", perfData, "-F", "comm,ip,sym"],
                                          timeout: 180)
        XCTAssertEqual(script.status, 0, String(script.summary.prefix(2000)))
        let perf = CountedStacks.perfScript(script.stdout)
        XCTAssertEqual(Double(perf.total), Double(tprof.total), accuracy: max(2, Double(perf.total) / 100),
                       "both tools sampled the same execution")

        let tprofShares = tprof.familyShares()
        let perfShares = perf.familyShares()
        for family in StackFamily.allCases {
            let ours = tprofShares[family] ?? 0
            let theirs = perfShares[family] ?? 0
            print("dwarf unwinding: \(family.rawValue) \(String(format: "%.2f", ours))% (tprof, \(tprof.total) samples) "
                + "vs \(String(format: "%.2f", theirs))% (perf, \(perf.total) samples)")
            XCTAssertEqual(ours, theirs, accuracy: 3, "share of the \(family.rawValue) family: tprof vs perf")
        }
        for (family, expected) in Self.designed {
            XCTAssertEqual(tprofShares[family] ?? 0, expected, accuracy: 5, "tprof's \(family.rawValue) share")
        }
        XCTAssertLessThan(tprofShares[.rest] ?? 100, 5, "samples outside the two chains")
    }

    func testFramePointersCutTheChainsShort() throws {
        let workbench = try UnwindWorkbench.shared()
        let database = try workbench.recording("fp", options: ["-F", "999", "-g"], program: workbench.program,
                                               arguments: ["1"])
        let stacks = try UnwindWorkbench.folded(database)
        XCTAssertGreaterThan(stacks.total, 500)
        // leaf is still where the time goes ...
        let inLeaf = stacks.share { $0.contains("leaf") }
        XCTAssertGreaterThan(inLeaf, 90)
        // ... but the frame-pointer walk cannot get from leaf (no frame pointers anywhere) to its callers.
        let withCallers = stacks.share { $0.containsRun(["outer", "mid", "leaf"]) || $0.containsRun(["other", "leaf"]) }
        let fromMain = stacks.share { frames in
            guard let leaf = frames.firstIndex(of: "leaf") else { return false }
            return frames[..<leaf].contains("main")
        }
        print("frame pointers: \(String(format: "%.2f", withCallers))% of samples show leaf's caller, "
            + "\(String(format: "%.2f", fromMain))% reach main")
        XCTAssertLessThan(withCallers, 5, "frame pointers unexpectedly walked optimised code")
        XCTAssertLessThan(fromMain, 5)
        XCTAssertFalse(stacks.stacks.contains { $0.frames.containsRun(["main", "outer", "mid", "leaf"]) })
        // The typical frame-pointer stack is leaf alone.
        let leafAlone = stacks.share { $0.first == "leaf" }
        XCTAssertGreaterThan(leafAlone, 80)
    }
}
