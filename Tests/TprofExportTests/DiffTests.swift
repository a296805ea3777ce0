#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
import TprofTestSupport
import XCTest

/// `--diff BASE`: grouped reports, two-count folded stacks and differential flame graphs between the base run
/// (`exports 1 3 2`: leaf 60%, twig 40%) and the shifted run (`exports 1 1 4`: leaf 20%, twig 80%).
final class DiffTests: XCTestCase {
    /// The design's change from base to shifted, in points: leaf 60 -> 20, twig 40 -> 80.
    static let expectedChange = ["leaf": -40.0, "twig": 40.0]
    /// Samples outside leaf and twig (start-up, the loop's own code, the kernel) take a point or two; 5 points
    /// of slack.
    static let tolerance = 5.0

    func testRunAgainstItselfChangesNothing() throws {
        let workbench = try ExportWorkbench.shared()
        let rows = ExportTools.csvRows(try ExportTools.report(
            [workbench.base, "--diff", workbench.base, "--by-symbol", "--format", "csv"]).stdout)
        XCTAssertFalse(rows.isEmpty)
        for row in rows {
            XCTAssertEqual(Double(row["change"] ?? ""), 0, "row \(row)")
            XCTAssertEqual(row["base samples"], row["new samples"])
            XCTAssertEqual(row["base percent"], row["new percent"])
        }
        XCTAssertTrue(rows.contains { $0["symbol"] == "leaf" })
    }

    func testKnownShiftShowsInTheChangeColumn() throws {
        let workbench = try ExportWorkbench.shared()
        let text = try ExportTools.report(
            [workbench.shifted, "--diff", workbench.base, "--by-symbol", "--format", "csv"]).stdout
        let rows = ExportTools.csvRows(text)
        var changes: [String: Double] = [:]
        for row in rows where ExportWorkload.functions.contains(row["symbol"] ?? "") {
            changes[row["symbol"] ?? ""] = Double(row["change"] ?? "")
            let base = Double(row["base percent"] ?? "") ?? .nan
            let new = Double(row["new percent"] ?? "") ?? .nan
            XCTAssertEqual(Double(row["change"] ?? "") ?? .nan, new - base, accuracy: 1e-9)
        }
        for (symbol, expected) in Self.expectedChange {
            let change = try XCTUnwrap(changes[symbol], "no row for \(symbol) in\n\(text)")
            XCTAssertEqual(change, expected, accuracy: Self.tolerance, "change of \(symbol)")
            print("diff --by-symbol: \(symbol) changed \(String(format: "%+.2f", change)) points "
                + "(designed \(String(format: "%+.0f", expected)))")
        }
        // Largest change first: leaf and twig lead.
        XCTAssertEqual(Set(rows.prefix(2).compactMap { $0["symbol"] }), ["leaf", "twig"])

        // The other way round, the signs flip.
        let reversed = ExportTools.csvRows(try ExportTools.report(
            [workbench.base, "--diff", workbench.shifted, "--by-symbol", "--format", "csv"]).stdout)
        for row in reversed where Self.expectedChange[row["symbol"] ?? ""] != nil {
            XCTAssertEqual(Double(row["change"] ?? "") ?? .nan, -(changes[row["symbol"] ?? ""] ?? .nan),
                           accuracy: 1e-9)
        }
    }

    func testFoldedDiffHasBothCounts() throws {
        let workbench = try ExportWorkbench.shared()
        let text = try ExportTools.report([workbench.shifted, "--diff", workbench.base, "--folded"]).stdout
        let lines = try XCTUnwrap(ExportTools.foldedLines(text, counts: 2), "not 'stack base new' lines:\n\(text)")
        XCTAssertFalse(lines.isEmpty)
        let baseTotal = try Database(path: workbench.base).scalarInt("SELECT count(*) FROM samples")
        let newTotal = try Database(path: workbench.shifted).scalarInt("SELECT count(*) FROM samples")
        XCTAssertEqual(lines.reduce(Int64(0)) { $0 + $1.counts[0] }, baseTotal, "base counts")
        XCTAssertEqual(lines.reduce(Int64(0)) { $0 + $1.counts[1] }, newTotal, "new counts")
        XCTAssertEqual(Set(lines.map(\.stack)).count, lines.count, "a stack appears twice")
        // The two main paths, with counts in the designed direction.
        let outer = lines.filter { $0.stack.hasSuffix(";main;work;outer;mid;leaf") }
        let other = lines.filter { $0.stack.hasSuffix(";main;work;other;twig") }
        XCTAssertEqual(outer.count, 1, text)
        XCTAssertEqual(other.count, 1, text)
        if let outer = outer.first, let other = other.first {
            XCTAssertGreaterThan(outer.counts[0], outer.counts[1])
            XCTAssertLessThan(other.counts[0], other.counts[1])
            XCTAssertEqual(100 * Double(outer.counts[0]) / Double(baseTotal), 60, accuracy: Self.tolerance)
            XCTAssertEqual(100 * Double(outer.counts[1]) / Double(newTotal), 20, accuracy: Self.tolerance)
        }
        // Against itself both counts agree on every line.
        let same = try XCTUnwrap(ExportTools.foldedLines(
            try ExportTools.report([workbench.base, "--diff", workbench.base, "--folded"]).stdout, counts: 2))
        for line in same { XCTAssertEqual(line.counts[0], line.counts[1], line.stack) }
    }

    func testDifferentialFlameGraph() throws {
        let workbench = try ExportWorkbench.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-diff")
        let output = directory.file("diff.svg")
        try ExportTools.report([workbench.shifted, "--diff", workbench.base, "--flamegraph", output])
        let svg = String(decoding: try ExportTools.bytes(output), as: UTF8.self)
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = TitleCollector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "the SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        let title = try XCTUnwrap(collector.texts["title"]?.first, "no title text")
        XCTAssertTrue(title.contains("differential"), "title: \(title)")
        // Frame tooltips carry the change in points, '+' where a frame grew and '-' where it shrank.
        let tips = collector.titles
        XCTAssertFalse(tips.isEmpty)
        func tip(_ name: String) -> String? { tips.first { $0.hasPrefix(name + " (") } }
        let twig = try XCTUnwrap(tip("twig"), "no tooltip for twig in \(tips.prefix(10))")
        let leaf = try XCTUnwrap(tip("leaf"), "no tooltip for leaf")
        XCTAssertTrue(twig.contains(", +") && twig.contains("points"), twig)
        XCTAssertTrue(leaf.contains(", -") && leaf.contains("points"), leaf)
        for tip in tips {
            XCTAssertTrue(tip.contains(" points against the base"), "a tooltip without the change: \(tip)")
        }
        // Without --diff there is no change in the tooltips, and the title says nothing of a diff.
        let plain = directory.file("plain.svg")
        try ExportTools.report([workbench.shifted, "--flamegraph", plain])
        let plainText = String(decoding: try ExportTools.bytes(plain), as: UTF8.self)
        XCTAssertFalse(plainText.contains("points against the base"))
        XCTAssertFalse(plainText.contains("differential"))
    }
}

/// Collects the text of `<title>` elements (the frames' tooltips) and of `<text id=...>` elements.
final class TitleCollector: NSObject, XMLParserDelegate {
    var titles: [String] = []
    var texts: [String: [String]] = [:]
    private var current: String?
    private var textID: String?
    private var buffer = ""

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if elementName == "title" || elementName == "text" {
            current = elementName
            textID = attributeDict["id"]
            buffer = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if current != nil { buffer += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        guard elementName == current else { return }
        if elementName == "title" {
            titles.append(buffer)
        } else if let textID {
            texts[textID, default: []].append(buffer)
        }
        current = nil
    }
}
