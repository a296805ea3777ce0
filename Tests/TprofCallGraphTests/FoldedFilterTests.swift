import Foundation
import TprofTestSupport
import XCTest

/// `--folded` with the report filters, and on a recording made without call chains.
final class FoldedFilterTests: XCTestCase {
    func testCommFilterSplitsTheProcesses() throws {
        let recording = try CallGraphRecording.shared()
        guard let helperText = report(recording.path, ["--folded", "--comm", CallGraphWorkload.helperName]),
              let parentText = report(recording.path, ["--folded", "--comm", CallGraphWorkload.name]),
              let allText = report(recording.path, ["--folded"]) else { return }
        let helper = parseFolded(helperText), parent = parseFolded(parentText)
        XCTAssertEqual(Set(helper.map(\.comm)), [CallGraphWorkload.helperName], helperText)
        XCTAssertEqual(Set(parent.map(\.comm)), [CallGraphWorkload.name])
        XCTAssertEqual(sum(helper), recording.helperSamples)
        XCTAssertEqual(sum(parent), recording.parentSamples)
        XCTAssertFalse(helper.contains { $0.frames.contains("outer") }, helperText)
        XCTAssertFalse(parent.contains { $0.frames.contains("helper_spin") })
        // Together they are the unfiltered output, line for line.
        XCTAssertEqual(Set(helper + parent), Set(parseFolded(allText)))
    }

    /// The first and the second half of the run (split at the median sample's time) add up to the whole, and each
    /// half holds the samples of its time range.
    func testSinceAndUntilSplitTheRun() throws {
        let recording = try CallGraphRecording.shared()
        let db = recording.database
        let median = try db.scalarInt(
            "SELECT time FROM samples ORDER BY time LIMIT 1 OFFSET \(recording.samples / 2)")
        let split = (Double(median) / 1e9 * 1000).rounded() / 1000
        let boundary = Int64(split * 1e9)
        let text = String(format: "%.3f", split)
        guard let firstText = report(recording.path, ["--folded", "--until", text]),
              let secondText = report(recording.path, ["--folded", "--since", text]),
              let allText = report(recording.path, ["--folded"]) else { return }
        let first = parseFolded(firstText), second = parseFolded(secondText)
        let before = try db.scalarInt("SELECT count(*) FROM samples WHERE time < \(boundary)")
        XCTAssertEqual(sum(first), before, "--until \(text)")
        XCTAssertEqual(sum(second), recording.samples - before, "--since \(text)")
        XCTAssertGreaterThan(sum(first), recording.samples / 4)
        XCTAssertGreaterThan(sum(second), recording.samples / 4)
        var merged: [String: Int64] = [:]
        for stack in first + second { merged[stack.key, default: 0] += stack.count }
        var whole: [String: Int64] = [:]
        for stack in parseFolded(allText) { whole[stack.key] = stack.count }
        XCTAssertEqual(merged, whole, "the two halves do not add up to the whole run")

        // A window: per process, its samples in the window.
        let from = (split / 2 * 1000).rounded() / 1000
        let window = ["--since", String(format: "%.3f", from), "--until", text]
        guard let windowText = report(recording.path, ["--folded"] + window) else { return }
        let fromBoundary = Int64(from * 1e9)
        var expected: [String: Int64] = [:]
        for row in try db.rows("""
            SELECT p.comm, count(*) FROM samples s JOIN processes p ON p.pid = s.pid
            WHERE s.time >= \(fromBoundary) AND s.time < \(boundary) GROUP BY p.comm
            """) {
            if case .text(let comm) = row[0], case .integer(let count) = row[1] { expected[comm] = count }
        }
        var measured: [String: Int64] = [:]
        for stack in parseFolded(windowText) { measured[stack.comm, default: 0] += stack.count }
        XCTAssertEqual(measured, expected, "folded \(window)")
    }

    func testModeAndSymbolFiltersKeepWholeStacks() throws {
        let recording = try CallGraphRecording.shared()
        if let text = report(recording.path, ["--folded", "--kernel"]) {
            let stacks = parseFolded(text)
            XCTAssertEqual(sum(stacks), try recording.database.scalarInt("SELECT count(*) FROM samples WHERE mode = 1"))
            for stack in stacks {
                XCTAssertTrue(stack.frames.last?.hasSuffix("_[k]") ?? false, "a --kernel stack ends in user space: \(stack.key)")
            }
            // The user-space callers of the system call are still there.
            XCTAssertTrue(stacks.contains { $0.frames.contains("main") }, text)
        }
        if let text = report(recording.path, ["--folded", "--user"]) {
            for stack in parseFolded(text) {
                XCTAssertFalse(stack.frames.contains { $0.hasSuffix("_[k]") }, "a --user stack has kernel frames: \(stack.key)")
            }
        }
        if let text = report(recording.path, ["--folded", "--symbol", "^helper_spin$"]) {
            let stacks = parseFolded(text)
            XCTAssertFalse(stacks.isEmpty)
            for stack in stacks {
                XCTAssertEqual(stack.comm, CallGraphWorkload.helperName)
                XCTAssertEqual(Array(stack.frames.suffix(3)), ["main", "helper_start", "helper_spin"], stack.key)
            }
        }
    }

    /// Without -g every sample is a one-frame stack: the command and the sampled symbol.
    func testFlatRecordingGivesOneFrameStacks() throws {
        let workbench = try CallGraphWorkbench.shared()
        let path = try workbench.record("flat.db", options: [], arguments: ["0.3"])
        let db = try Database(path: path)
        let samples = try db.scalarInt("SELECT count(*) FROM samples")
        XCTAssertGreaterThan(samples, 150)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM samples WHERE stack_id != 0"), 0)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM stacks"), 0)
        guard let text = report(path, ["--folded"]) else { return }
        let stacks = parseFolded(text)
        XCTAssertEqual(sum(stacks), samples)
        for stack in stacks { XCTAssertEqual(stack.frames.count, 1, "not one frame: \(stack.key)") }
        let hottest = stacks.max { $0.count < $1.count }
        XCTAssertEqual(hottest?.key, "\(CallGraphWorkload.name);leaf", text)
        assertShare(percent(hottest?.count ?? 0, of: samples), near: 95, within: 5, "leaf's share of a flat recording",
                    evidence: text)
        // Call-graph reports still work: leaf has no recorded caller.
        if let callers = report(path, ["--callers", "leaf", "--format", "csv"]) {
            XCTAssertEqual(csvRecords(callers).map { $0["caller"] ?? "" }, ["(root)"], callers)
        }
    }
}
