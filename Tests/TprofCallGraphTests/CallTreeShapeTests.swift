import Foundation
import TprofTestSupport
import XCTest

/// The call tree of a real `-g` recording of the workload has the shape and the proportions the program was
/// written with: main -> outer -> mid -> leaf and main -> other -> leaf share leaf's work 60:40.
final class CallTreeShapeTests: XCTestCase {
    static let outerPath = ["main", "outer", "mid", "leaf"]
    static let otherPath = ["main", "other", "leaf"]
    static let recPath = ["main"] + Array(repeating: "rec", count: 6) + ["leaf"]

    func testFoldedStacksSplitLeafsWorkSixtyForty() throws {
        let recording = try CallGraphRecording.shared()
        guard let text = report(recording.path, ["--folded"]) else { return }
        let stacks = parseFolded(text)
        XCTAssertEqual(sum(stacks), recording.samples, "folded counts do not add up to the samples")
        XCTAssertEqual(Set(stacks.map(\.comm)), [CallGraphWorkload.name, CallGraphWorkload.helperName], text)

        let outer = sum(stacks.filter { $0.userPartEnds(with: Self.outerPath) })
        let other = sum(stacks.filter { $0.userPartEnds(with: Self.otherPath) })
        let rec = sum(stacks.filter { $0.userPartEnds(with: Self.recPath) })
        // The exact stacks are there, ending in leaf (no kernel frame on top).
        XCTAssertTrue(stacks.contains { $0.frames.last == "leaf" && $0.userPartEnds(with: Self.outerPath) }, text)
        XCTAssertTrue(stacks.contains { $0.frames.last == "leaf" && $0.userPartEnds(with: Self.otherPath) }, text)
        XCTAssertTrue(stacks.contains { $0.frames.last == "leaf" && $0.userPartEnds(with: Self.recPath) },
                      "no main;rec;rec;rec;rec;rec;rec;leaf stack\n\(text)")
        // The two families hold nearly all the parent's samples, split 3:2.
        XCTAssertGreaterThan(outer + other, recording.parentSamples * 3 / 4, text)
        assertShare(percent(outer, of: outer + other), near: 60, within: 3,
                    "main;outer;mid;leaf among the two families (\(outer) vs \(other) samples)", evidence: text)
        assertShare(percent(other, of: outer + other), near: 40, within: 3,
                    "main;other;leaf among the two families", evidence: text)
        // The recursion takes 0.5 / 5.5 of the loop's work.
        assertShare(percent(rec, of: outer + other + rec), near: 100 * 0.5 / 5.5, within: 3,
                    "the recursive path's share", evidence: text)
        print("folded: outer family \(outer), other family \(other) -> "
              + String(format: "%.2f%% : %.2f%%", percent(outer, of: outer + other), percent(other, of: outer + other))
              + ", rec \(rec) of \(recording.samples) samples")
    }

    func testCallersOfLeafAreMidOtherAndRecSixtyForty() throws {
        let recording = try CallGraphRecording.shared()
        guard let text = report(recording.path, ["--callers", "leaf", "--format", "csv"]),
              let folded = report(recording.path, ["--folded"]) else { return }
        let rows = csvRecords(text)
        var samples: [String: Int64] = [:]
        var shares: [String: Double] = [:]
        for row in rows {
            if let caller = row["caller"] {
                samples[caller] = Int64(row["samples"] ?? "")
                shares[caller] = Double(row["percent"] ?? "")
            }
        }
        XCTAssertEqual(Set(samples.keys), ["mid", "other", "rec"], text)
        let mid = samples["mid"] ?? 0, other = samples["other"] ?? 0
        assertShare(percent(mid, of: mid + other), near: 60, within: 3, "mid among leaf's callers mid and other",
                    evidence: text)
        XCTAssertGreaterThan(samples["rec"] ?? 0, 0, text)
        // Each caller's count is the samples of the stacks where it calls leaf; shares are of leaf's samples.
        let stacks = parseFolded(folded)
        for caller in ["mid", "other", "rec"] {
            XCTAssertEqual(samples[caller], sum(stacks.filter { $0.contains([caller, "leaf"]) }), "caller \(caller)")
        }
        let withLeaf = sum(stacks.filter { $0.frames.contains("leaf") })
        XCTAssertEqual(shares["mid"] ?? 0, percent(mid, of: withLeaf), accuracy: 0.01, text)
        print("callers of leaf: mid \(mid), other \(other), rec \(samples["rec"] ?? 0) -> "
              + String(format: "mid %.2f%% of mid+other", percent(mid, of: mid + other)))
    }

    func testCalleesOfMainAreOuterOtherAndRec() throws {
        let recording = try CallGraphRecording.shared()
        guard let text = report(recording.path, ["--callees", "main", "--format", "csv"]) else { return }
        var samples: [String: Int64] = [:]
        for row in csvRecords(text) { if let callee = row["callee"] { samples[callee] = Int64(row["samples"] ?? "") } }
        for callee in ["outer", "other", "rec", "helper_start"] {
            XCTAssertGreaterThan(samples[callee] ?? 0, 0, "main's callee \(callee) is missing\n\(text)")
        }
        XCTAssertNil(samples["mid"], "mid is outer's callee, not main's\n\(text)")
        XCTAssertNil(samples["leaf"], "leaf is never called by main directly\n\(text)")
        let outer = samples["outer"] ?? 0, other = samples["other"] ?? 0
        assertShare(percent(outer, of: outer + other), near: 60, within: 3, "outer among main's callees outer and other",
                    evidence: text)
        // A symbol nobody sampled is a one-line error.
        let missing = try Tool.report.run([recording.path, "--callees", "no_such_function"])
        assertOneLineError(missing, contains: "no_such_function")
    }

    func testTreeListsMainThenOuterThenMid() throws {
        let recording = try CallGraphRecording.shared()
        guard let text = report(recording.path, ["--tree"]),
              let csv = report(recording.path, ["--by-symbol", "--children", "--format", "csv"]) else { return }
        let lines = parseTree(text)
        let inclusive = Dictionary(csvRecords(csv).compactMap { row -> (String, Double)? in
            guard let symbol = row["symbol"], let share = Double(row["children"] ?? "") else { return nil }
            return (symbol, share)
        }, uniquingKeysWith: { first, _ in first })

        guard let mainIndex = lines.firstIndex(where: { $0.name == "main" && $0.samples >= recording.parentSamples / 2 })
        else { return XCTFail("no main in the tree\n\(text)") }
        let main = lines[mainIndex]
        // The children of a node are the following lines one level deeper, until a line at its level or above.
        func children(of index: Int) -> [Int] {
            var result: [Int] = []
            var next = index + 1
            while next < lines.count && lines[next].level > lines[index].level {
                if lines[next].level == lines[index].level + 1 { result.append(next) }
                next += 1
            }
            return result
        }
        let mainChildren = children(of: mainIndex)
        guard let outerIndex = mainChildren.first(where: { lines[$0].name == "outer" }),
              let otherIndex = mainChildren.first(where: { lines[$0].name == "other" }),
              let midIndex = children(of: outerIndex).first(where: { lines[$0].name == "mid" }),
              children(of: midIndex).contains(where: { lines[$0].name == "leaf" }) else {
            return XCTFail("the tree has no main > outer > mid > leaf and main > other\n\(text)")
        }
        XCTAssertLessThan(mainIndex, outerIndex)
        XCTAssertLessThan(outerIndex, midIndex)
        XCTAssertEqual(mainChildren.first, outerIndex, "outer, the heaviest, is not main's first child\n\(text)")
        let outer = lines[outerIndex], mid = lines[midIndex], other = lines[otherIndex]
        // Both processes run main (the tree merges processes), so main holds nearly every sample; the helper
        // child's helper_start is a child of main too.
        XCTAssertGreaterThanOrEqual(main.percent, outer.percent + other.percent)
        assertShare(main.percent, near: 100, within: 1, "main in the tree", evidence: text)
        XCTAssertTrue(mainChildren.contains { lines[$0].name == "helper_start" }, text)
        assertShare(outer.percent, near: inclusive["outer"] ?? .nan, within: 0.01,
                    "outer in the tree against its inclusive share", evidence: text)
        XCTAssertEqual(mid.samples, outer.samples, accuracy: max(2, outer.samples / 100),
                       "outer only calls mid\n\(text)")
        assertShare(percent(outer.samples, of: outer.samples + other.samples), near: 60, within: 3,
                    "outer among outer and other in the tree", evidence: text)

        // --depth 2 stops after two levels; --inverted starts from leaf, the hottest self symbol, and its callers.
        if let shallow = report(recording.path, ["--tree", "--depth", "2"]) {
            XCTAssertEqual(parseTree(shallow).map(\.level).max(), 1, shallow)
        }
        if let inverted = report(recording.path, ["--tree", "--inverted", "--depth", "2"]) {
            let rows = parseTree(inverted)
            XCTAssertEqual(rows.first?.name, "leaf", inverted)
            let callers = Set(rows.dropFirst().prefix { $0.level == 1 }.map(\.name))
            XCTAssertTrue(callers.isSuperset(of: ["mid", "other", "rec"]), inverted)
        }
    }

    /// rec appears six times on its stacks; its inclusive share counts each sample once.
    func testRecursiveFunctionIsCountedOncePerSample() throws {
        let recording = try CallGraphRecording.shared()
        guard let csv = report(recording.path, ["--by-symbol", "--children", "--format", "csv"]),
              let folded = report(recording.path, ["--folded"]) else { return }
        let rows = csvRecords(csv)
        guard let rec = rows.first(where: { $0["symbol"] == "rec" }),
              let share = Double(rec["children"] ?? ""), let samples = Int64(rec["samples"] ?? ""),
              let selfShare = Double(rec["self"] ?? "") else {
            return XCTFail("no rec row\n\(csv)")
        }
        // Independently of tprof-report: the samples whose chain holds a frame named rec, from the tables.
        let containing = try recording.database.scalarInt("""
            WITH RECURSIVE chain(sample, pid, node) AS (
                SELECT rowid, pid, stack_id FROM samples WHERE stack_id != 0
                UNION ALL
                SELECT c.sample, c.pid, s.parent_id FROM chain c JOIN stacks s ON s.id = c.node WHERE s.parent_id <> 0)
            SELECT count(DISTINCT c.sample) FROM chain c JOIN stacks s ON s.id = c.node
            JOIN addresses a ON a.pid = c.pid AND a.pc = s.named_pc AND a.valid_from = -9223372036854775808
            WHERE a.name = 'rec'
            """)
        XCTAssertEqual(samples, containing, "rec's inclusive samples are not the samples whose stack holds rec\n\(csv)")
        XCTAssertEqual(samples, sum(parseFolded(folded).filter { $0.frames.contains("rec") }))
        XCTAssertLessThanOrEqual(share, 100)
        assertShare(share, near: percent(containing, of: recording.samples), within: 0.001,
                    "rec's inclusive share", evidence: csv)
        XCTAssertLessThan(selfShare, 1, "rec does almost no work itself\n\(csv)")
        // Not multiplied by the depth: six frames per stack would make it about six times the recursive path.
        let paths = sum(parseFolded(folded).filter { $0.contains(Self.recPath) })
        XCTAssertLessThan(samples, 2 * paths, csv)
        // Every inclusive share is at most 100%, main's is the parent's share, leaf's self share is most of it.
        for row in rows { XCTAssertLessThanOrEqual(Double(row["children"] ?? "") ?? 101, 100.0001, "\(row)") }
        if let main = rows.first(where: { $0["symbol"] == "main" }), let mainShare = Double(main["children"] ?? "") {
            assertShare(mainShare, near: 100, within: 1, "main's inclusive share (both processes run main)",
                        evidence: csv)
        } else {
            XCTFail("no main row\n\(csv)")
        }
    }
}
