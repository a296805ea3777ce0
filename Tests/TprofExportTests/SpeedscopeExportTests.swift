import Foundation
import TprofTestSupport
import XCTest

/// `tprof-report DB --speedscope FILE`: the speedscope file format, one sampled profile per thread.
final class SpeedscopeExportTests: XCTestCase {
    private struct Document {
        var frames: [[String: Any]]
        var profiles: [[String: Any]]
    }

    /// Writes and parses the speedscope file of `database`, checking what every such file must hold.
    private func document(of database: String, _ extra: [String] = [], file: StaticString = #filePath,
                          line: UInt = #line) throws -> Document {
        let directory = try makeTemporaryDirectory(prefix: "tprof-speedscope")
        let output = directory.file("profile.json")
        try ExportTools.report([database, "--speedscope", output] + extra)
        let object = try JSONSerialization.jsonObject(with: try ExportTools.bytes(output))
        let root = try XCTUnwrap(object as? [String: Any], "the document is not an object", file: file, line: line)
        XCTAssertEqual(root["$schema"] as? String, "https://www.speedscope.app/file-format-schema.json",
                       file: file, line: line)
        let shared = try XCTUnwrap(root["shared"] as? [String: Any], file: file, line: line)
        let frames = try XCTUnwrap(shared["frames"] as? [[String: Any]], file: file, line: line)
        XCTAssertFalse(frames.isEmpty, "no frames", file: file, line: line)
        for frame in frames {
            XCTAssertNotNil(frame["name"] as? String, "a frame without a name: \(frame)", file: file, line: line)
        }
        let profiles = try XCTUnwrap(root["profiles"] as? [[String: Any]], file: file, line: line)
        XCTAssertFalse(profiles.isEmpty, file: file, line: line)
        for profile in profiles {
            XCTAssertEqual(profile["type"] as? String, "sampled", file: file, line: line)
            XCTAssertNotNil(profile["unit"] as? String, file: file, line: line)
            XCTAssertNotNil(profile["name"] as? String, file: file, line: line)
            let start = try XCTUnwrap(profile["startValue"] as? Int, file: file, line: line)
            let end = try XCTUnwrap(profile["endValue"] as? Int, file: file, line: line)
            let samples = try XCTUnwrap(profile["samples"] as? [[Int]], file: file, line: line)
            let weights = try XCTUnwrap(profile["weights"] as? [Int], file: file, line: line)
            XCTAssertEqual(samples.count, weights.count, "samples and weights differ in length", file: file, line: line)
            XCTAssertLessThanOrEqual(start, end, file: file, line: line)
            XCTAssertEqual(end - start, weights.reduce(0, +), file: file, line: line)
            for stack in samples {
                XCTAssertFalse(stack.isEmpty, file: file, line: line)
                for index in stack where !(0..<frames.count).contains(index) {
                    XCTFail("frame index \(index) out of range 0..<\(frames.count)", file: file, line: line)
                }
            }
            for weight in weights where weight <= 0 {
                XCTFail("weight \(weight) is not positive", file: file, line: line)
            }
        }
        if let active = root["activeProfileIndex"] as? Int {
            XCTAssertTrue((0..<profiles.count).contains(active), file: file, line: line)
        }
        return Document(frames: frames, profiles: profiles)
    }

    private func totalWeight(_ document: Document) -> Int {
        document.profiles.reduce(0) { $0 + (($1["weights"] as? [Int]) ?? []).reduce(0, +) }
    }

    func testRealRecordingOneThread() throws {
        let workbench = try ExportWorkbench.shared()
        let document = try document(of: workbench.base)
        let database = try Database(path: workbench.base)
        XCTAssertEqual(Int64(totalWeight(document)), try database.scalarInt("SELECT count(*) FROM samples"))
        XCTAssertEqual(document.profiles.count, 1)
        // Stacks root first: leaf's samples end in leaf, with main before outer before mid.
        let names = document.frames.map { $0["name"] as? String ?? "?" }
        let profile = try XCTUnwrap(document.profiles.first)
        let samples = profile["samples"] as? [[Int]] ?? []
        let weights = profile["weights"] as? [Int] ?? []
        var leafWeight = 0
        for (stack, weight) in zip(samples, weights) where names[stack.last ?? 0] == "leaf" {
            let chain = stack.map { names[$0] }
            if let main = chain.firstIndex(of: "main"), let outer = chain.firstIndex(of: "outer"),
               let mid = chain.firstIndex(of: "mid") {
                XCTAssertTrue(main < outer && outer < mid, "not root first: \(chain)")
            }
            leafWeight += weight
        }
        XCTAssertGreaterThan(Double(leafWeight) / Double(max(1, totalWeight(document))), 0.5)
    }

    func testTwoThreadsGiveTwoProfiles() throws {
        let workbench = try ExportWorkbench.shared()
        let document = try document(of: workbench.threaded)
        let database = try Database(path: workbench.threaded)
        XCTAssertEqual(Int64(totalWeight(document)), try database.scalarInt("SELECT count(*) FROM samples"))
        let threads = try database.ints("SELECT DISTINCT tid FROM samples ORDER BY tid")
        XCTAssertEqual(threads.count, 2, "the threaded program was sampled in \(threads)")
        XCTAssertEqual(document.profiles.count, 2)
        let profileNames = document.profiles.compactMap { $0["name"] as? String }
        for tid in threads {
            XCTAssertEqual(profileNames.filter { $0.contains("tid \(tid)") }.count, 1,
                           "no single profile for thread \(tid): \(profileNames)")
        }
        // Each profile's total is its thread's samples.
        for profile in document.profiles {
            let name = profile["name"] as? String ?? ""
            guard let tid = threads.first(where: { name.contains("tid \($0)") }) else { continue }
            XCTAssertEqual(Int64((profile["weights"] as? [Int] ?? []).reduce(0, +)),
                           try database.scalarInt("SELECT count(*) FROM samples WHERE tid = \(tid)"))
        }
    }

    func testSyntheticRecordingOneProfilePerThread() throws {
        let workbench = try ExportWorkbench.shared()
        let document = try document(of: workbench.synthetic)
        let database = try Database(path: workbench.synthetic)
        XCTAssertEqual(Int64(totalWeight(document)), try database.scalarInt("SELECT count(*) FROM samples"))
        XCTAssertEqual(Int64(document.profiles.count),
                       try database.scalarInt("SELECT count(*) FROM (SELECT DISTINCT pid, tid FROM samples)"))
        XCTAssertEqual(document.profiles.count, 8)
        // Every stack is the synthetic 8-frame call chain (its first frame is the sampled pc).
        let depths = Set(document.profiles.flatMap { ($0["samples"] as? [[Int]] ?? []).map(\.count) })
        XCTAssertEqual(depths, [8])
        // --pid narrows it to that process's two threads.
        let one = try self.document(of: workbench.synthetic, ["--pid", "1002"])
        XCTAssertEqual(one.profiles.count, 2)
        XCTAssertEqual(Int64(totalWeight(one)), try database.scalarInt("SELECT count(*) FROM samples WHERE pid = 1002"))
    }
}
