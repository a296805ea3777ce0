import Foundation
import TprofTestSupport
import XCTest

/// `--tree --format json`: the call tree as nested JSON (name, self, total, children), the same tree the text
/// shows; csv has no nesting and is refused.
final class CallTreeJSONTests: XCTestCase {
    private struct Node {
        var name: String
        var kernel: Bool
        var selfSamples: Int64
        var total: Int64
        var children: [Node]

        init(_ object: Any) throws {
            let fields = try XCTUnwrap(object as? [String: Any], "a node is not an object: \(object)")
            name = try XCTUnwrap(fields["name"] as? String, "name of \(fields)")
            kernel = try XCTUnwrap(fields["kernel"] as? Bool, "kernel of \(fields)")
            selfSamples = try XCTUnwrap((fields["self"] as? NSNumber)?.int64Value, "self of \(fields)")
            total = try XCTUnwrap((fields["total"] as? NSNumber)?.int64Value, "total of \(fields)")
            XCTAssertNotNil(fields["dso"] as? String, "dso of \(fields)")
            children = try XCTUnwrap(fields["children"] as? [Any], "children of \(fields)").map(Node.init)
        }

        /// (level, name as the text tree prints it, total), depth first.
        func lines(level: Int = 0) -> [String] {
            ["\(level) \(name)\(kernel ? " [k]" : "") \(total)"] + children.flatMap { $0.lines(level: level + 1) }
        }
    }

    /// A recording of the spin workload with call chains.
    private func recording() throws -> String {
        let directory = try makeTemporaryDirectory(prefix: "tprof-tree-json")
        let program = try compileC(source: Workload.spinSource, name: "spin", in: directory)
        let database = directory.file("spin.db")
        let result = try Tool.record.run(["-q", "-g", "-o", database, "--", program, "0.3"])
        XCTAssertEqual(result.status, 0, result.summary)
        return database
    }

    private func jsonTree(_ arguments: [String]) throws -> [Node] {
        let result = try runReport(arguments + ["--tree", "--format", "json"])
        XCTAssertEqual(result.status, 0, result.summary)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return try XCTUnwrap(object as? [Any], "not an array: \(result.stdout.prefix(300))").map(Node.init)
    }

    /// The text tree's lines as (level, name, samples).
    private func textTree(_ arguments: [String]) throws -> [String] {
        let result = try runReport(arguments + ["--tree"])
        XCTAssertEqual(result.status, 0, result.summary)
        return result.stdout.split(separator: "\n").filter { $0.contains("%") && !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            let rest = String(line.dropFirst(20))
            let indent = rest.prefix(while: { $0 == " " }).count
            return "\(indent / 2) \(rest.dropFirst(indent)) \(fields.count > 1 ? String(fields[1]) : "")"
        }
    }

    func testTheJSONTreeIsTheTextTree() throws {
        let database = try recording()
        let tree = try jsonTree([database])
        XCTAssertFalse(tree.isEmpty)
        XCTAssertEqual(tree.flatMap { $0.lines() }, try textTree([database]))
        func check(_ node: Node) {
            XCTAssertEqual(node.total, node.selfSamples + node.children.reduce(0) { $0 + $1.total }, node.name)
            node.children.forEach(check)
        }
        tree.forEach(check)
        let folded = try runReport([database, "--folded"]).stdout.split(separator: "\n")
            .compactMap { $0.split(separator: " ").last.flatMap { Int64($0) } }
        XCTAssertEqual(tree.reduce(0) { $0 + $1.total }, folded.reduce(0, +), "all samples are in the tree")
        XCTAssertTrue(tree.flatMap { $0.lines() }.contains { $0.contains(" hot_a ") }, "\(tree.flatMap { $0.lines() })")

        // --depth and --inverted shape it as they shape the text.
        for extra in [["--depth", "2"], ["--inverted"], ["--inverted", "--depth", "1"]] {
            XCTAssertEqual(try jsonTree([database] + extra).flatMap { $0.lines() }, try textTree([database] + extra),
                           extra.joined(separator: " "))
        }
        assertOneLineError(try runReport([database, "--tree", "--format", "csv"]), contains: "--tree")
    }
}
