import Foundation
import TprofTestSupport
import XCTest

/// A process that execs another program half-way: its samples from before the exec are unwound with the files
/// mapped then, and their frames named from them, not from the program it became.
final class DwarfAcrossExecTests: XCTestCase {
    func testSamplesBeforeAnExecUnwindInTheOldImage() throws {
        let workbench = try UnwindWorkbench.shared()
        // 0.5 s in dwexec, then dwprog until the process has used 0.8 s of CPU.
        let database = try workbench.record("exec.db", options: ["-F", "999", "--call-graph", "dwarf"],
                                            program: workbench.execProgram,
                                            arguments: ["0.5", workbench.program, "0.8"])
        let stacks = try UnwindWorkbench.folded(database)
        let inBurn = stacks.share { $0.contains("burn") }
        let burnChained = stacks.share { $0.containsRun(["main", "before_exec", "burn"]) && $0.first == "_start" }
        let leafChained = stacks.share { $0.containsRun(["main", "outer", "mid", "leaf"]) || $0.containsRun(["main", "other", "leaf"]) }
        print("dwarf across exec: \(String(format: "%.2f", inBurn))% in burn (before the exec), "
            + "\(String(format: "%.2f", burnChained))% with _start...main;before_exec;burn, "
            + "\(String(format: "%.2f", leafChained))% with the full chains after it")
        XCTAssertGreaterThan(inBurn, 40)
        XCTAssertGreaterThan(burnChained, inBurn - 3, "samples before the exec lost their callers")
        XCTAssertGreaterThan(leafChained, 25)
        XCTAssertFalse(stacks.stacks.contains { $0.frames.contains("[truncated]") && $0.frames.contains("burn") })
        let db = try Database(path: database)
        let complete = try db.scalarInt("SELECT coalesce(sum(samples), 0) FROM unwind_stats WHERE reason = 'complete'")
        let all = try db.scalarInt("SELECT sum(samples) FROM unwind_stats")
        let outcomes = try db.rows("SELECT reason, samples FROM unwind_stats")
        XCTAssertGreaterThan(Double(complete) / Double(max(1, all)), 0.95, "outcomes: \(outcomes)")
        // The frames of the image before the exec are named from it.
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM stack_frames WHERE symbol LIKE '[unknown]%' AND dso = '[unknown]' AND kernel = 0
            """), 0)
    }
}
