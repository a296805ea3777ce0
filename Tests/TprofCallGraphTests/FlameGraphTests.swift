import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TprofTestSupport
import XCTest

/// `--flamegraph`: a self-contained SVG with one frame per node of the merged tree, widths proportional to samples.
final class FlameGraphTests: XCTestCase {
    func testFlameGraphHasOneFramePerNodeOfTheMergedTree() throws {
        let recording = try CallGraphRecording.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-callgraph-fg")
        guard let graph = flameGraph(recording.path, directory.file("fg.svg")),
              let folded = report(recording.path, ["--folded"]) else { return }

        // One node per distinct prefix of the folded stacks (the process is the first level), plus "all".
        var prefixes = Set<[String]>()
        for stack in parseFolded(folded) {
            let path = [stack.comm] + stack.frames
            for length in 1...path.count { prefixes.insert(Array(path.prefix(length))) }
        }
        XCTAssertEqual(graph.frames.count, prefixes.count + 1, "frames against the merged tree's nodes")
        XCTAssertEqual(graph.total, recording.samples, "data-total is not the number of samples")
        let root = graph.frames.first { $0.depth == 0 }
        XCTAssertEqual(root?.name, "all")
        XCTAssertEqual(root?.samples, recording.samples)
        XCTAssertEqual(graph.frames.filter { $0.depth == 0 }.count, 1)
        // The processes are the first level, each with its samples.
        let processes = Dictionary(graph.frames.filter { $0.depth == 1 }.map { ($0.name, $0.samples) },
                                   uniquingKeysWith: +)
        XCTAssertEqual(processes, [CallGraphWorkload.name: recording.parentSamples,
                                   CallGraphWorkload.helperName: recording.helperSamples])
        XCTAssertTrue(graph.title.contains(recording.workbench.program), "the title '\(graph.title)' lacks the command")
        XCTAssertTrue(graph.title.contains(CallGraphWorkload.mainArguments.joined(separator: " ")), graph.title)

        assertFramesArePlaced(graph)
        // The hot path is there with its samples: cgprog > ... > main > outer > mid > leaf.
        let outer = graph.frames.filter { $0.name == "outer" }
        XCTAssertEqual(outer.count, 1)
        XCTAssertEqual(outer.first?.tooltip.hasPrefix("outer ("), true, outer.first?.tooltip ?? "")
        XCTAssertTrue(outer.first?.tooltip.contains("\(outer.first?.samples ?? -1) samples") ?? false)

        // Kernel frames are drawn in a blue family, user frames in a red/orange one.
        let kernelFrames = graph.frames.filter(\.kernel)
        XCTAssertFalse(kernelFrames.isEmpty, "clock_gettime's system calls left no kernel frames")
        for frame in graph.frames where frame.depth > 0 {
            guard let fill = frame.fill else { XCTFail("no rgb fill on \(frame.name)"); continue }
            if frame.kernel {
                XCTAssertGreaterThan(fill.blue, fill.red, "kernel frame \(frame.name) has fill \(fill)")
                XCTAssertTrue(frame.tooltip.contains(" [k]"), frame.tooltip)
            } else {
                XCTAssertGreaterThan(fill.red, fill.blue, "user frame \(frame.name) has fill \(fill)")
            }
        }
        // Flame graph: the root at the bottom.
        let deepest = graph.frames.max { $0.depth < $1.depth }
        XCTAssertGreaterThan(root?.y ?? 0, deepest?.y ?? .infinity, "the root is not below the leaves")
    }

    func testIcicleGraphPutsTheRootOnTop() throws {
        let recording = try CallGraphRecording.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-callgraph-fg")
        guard let graph = flameGraph(recording.path, directory.file("icicle.svg"), ["--icicle"]) else { return }
        let root = try XCTUnwrap(graph.frames.first { $0.depth == 0 })
        let leaves = graph.frames.filter { $0.depth > 0 }
        XCTAssertFalse(leaves.isEmpty)
        for frame in leaves {
            XCTAssertLessThan(root.y, frame.y, "the root is not above \(frame.name)")
        }
        assertFramesArePlaced(graph)
    }

    func testFiltersApplyToTheFlameGraph() throws {
        let recording = try CallGraphRecording.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-callgraph-fg")
        // Kernel samples only: every leaf of the tree is a kernel frame.
        if let kernel = flameGraph(recording.path, directory.file("kernel.svg"), ["--kernel"]) {
            let kernelSamples = try recording.database.scalarInt("SELECT count(*) FROM samples WHERE mode = 1")
            XCTAssertGreaterThan(kernelSamples, 0)
            XCTAssertEqual(kernel.total, kernelSamples)
            let leaves = kernel.leaves
            XCTAssertFalse(leaves.isEmpty)
            for leaf in leaves { XCTAssertTrue(leaf.kernel, "leaf \(leaf.name) of a --kernel graph is not a kernel frame") }
            assertFramesArePlaced(kernel)
        }
        // One process: only its samples and its root.
        if let helper = flameGraph(recording.path, directory.file("helper.svg"), ["--pid", String(recording.helperPID)]) {
            XCTAssertEqual(helper.total, recording.helperSamples)
            XCTAssertLessThan(helper.total, recording.samples)
            XCTAssertEqual(helper.frames.filter { $0.depth == 1 }.map(\.name), [CallGraphWorkload.helperName])
            XCTAssertFalse(helper.frames.contains { $0.name == "outer" })
            assertFramesArePlaced(helper)
        }
        // A symbol filter keeps the samples whose leaf matches.
        if let leafOnly = flameGraph(recording.path, directory.file("leaf.svg"), ["--symbol", "^leaf$"]) {
            XCTAssertEqual(Set(leafOnly.leaves.map(\.name)), ["leaf"])
            XCTAssertFalse(leafOnly.frames.contains { $0.name == CallGraphWorkload.helperName })
        }
    }

    /// Renders the SVG to a PNG with headless Chromium (Examples/render-flamegraph.sh installs it when missing).
    func testRenderedPNGIsAnImage() throws {
        let recording = try CallGraphRecording.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-callgraph-png")
        let svg = directory.file("fg.svg"), png = directory.file("fg.png")
        guard flameGraph(recording.path, svg) != nil else { return }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/render-flamegraph.sh").path
        let result = try ChildProcess.run("/bin/bash", [script, svg, png], timeout: 600)
        XCTAssertEqual(result.status, 0, result.summary)
        let data = try XCTUnwrap(FileManager.default.contents(atPath: png), "no PNG written\n\(result.summary)")
        XCTAssertGreaterThan(data.count, 5_000, "the PNG is nearly empty")
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        // The image is as wide as the SVG (IHDR width, big-endian, at byte 16).
        let width = data.count > 24 ? data[16..<20].reduce(0) { $0 << 8 | Int($1) } : 0
        XCTAssertEqual(width, 1200)
    }

    // MARK: Helpers

    /// Writes a flame graph with tprof-report and parses it; nil (after a failure) when either fails.
    private func flameGraph(_ database: String, _ path: String, _ arguments: [String] = [],
                            file: StaticString = #filePath, line: UInt = #line) -> FlameGraphSVG? {
        guard report(database, ["--flamegraph", path] + arguments, file: file, line: line) != nil else { return nil }
        do {
            return try FlameGraphSVG(path: path)
        } catch {
            XCTFail("\(path) is not a well-formed flame graph: \(error)", file: file, line: line)
            return nil
        }
    }

    /// Widths and positions are the samples' shares of the width, and each frame lies on its parent.
    private func assertFramesArePlaced(_ graph: FlameGraphSVG, file: StaticString = #filePath, line: UInt = #line) {
        let total = Double(graph.total)
        for frame in graph.frames {
            let expectedWidth = graph.width * Double(frame.samples) / total
            // Coordinates are written with two decimals: a rounding of 0.005 px, else within 0.5%.
            XCTAssertEqual(frame.width, expectedWidth, accuracy: max(0.0051, 0.005 * expectedWidth),
                           "\(frame.name): width \(frame.width) for \(frame.samples) of \(graph.total) samples",
                           file: file, line: line)
            XCTAssertEqual(frame.x, graph.width * Double(frame.start) / total, accuracy: 0.0051,
                           "\(frame.name): x", file: file, line: line)
            XCTAssertTrue(frame.tooltip.contains("(\(frame.samples) samples"), frame.tooltip, file: file, line: line)
        }
        // Every frame but the root lies within one frame a level below it, and children never overfill a parent.
        let byDepth = Dictionary(grouping: graph.frames, by: \.depth)
        for frame in graph.frames where frame.depth > 0 {
            let parents = (byDepth[frame.depth - 1] ?? []).filter {
                $0.start <= frame.start && frame.start + frame.samples <= $0.start + $0.samples
            }
            XCTAssertEqual(parents.count, 1, "\(frame.name) at \(frame.start) has no single parent",
                           file: file, line: line)
        }
        for parent in graph.frames {
            let children = (byDepth[parent.depth + 1] ?? []).filter {
                parent.start <= $0.start && $0.start < parent.start + parent.samples
            }
            XCTAssertLessThanOrEqual(children.reduce(0) { $0 + $1.samples }, parent.samples, parent.name,
                                     file: file, line: line)
        }
    }
}

/// The frames of a tprof flame graph SVG, read with XMLParser.
struct FlameGraphSVG {
    struct Frame {
        var name: String
        var tooltip: String
        var start: Int64
        var samples: Int64
        var depth: Int
        var kernel: Bool
        var x: Double
        var y: Double
        var width: Double
        var fillText: String

        var fill: (red: Int, green: Int, blue: Int)? {
            let parts = fillText.drop { $0 != "(" }.dropFirst().prefix { $0 != ")" }.split(separator: ",")
                .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return parts.count == 3 ? (parts[0], parts[1], parts[2]) : nil
        }
    }

    var frames: [Frame] = []
    var total: Int64 = 0
    var width: Double = 0
    var title = ""

    /// Frames with no frame above them in the tree.
    var leaves: [Frame] {
        frames.filter { frame in
            !frames.contains { $0.depth == frame.depth + 1 && frame.start <= $0.start && $0.start < frame.start + frame.samples }
        }
    }

    init(path: String) throws {
        guard let parser = XMLParser(contentsOf: URL(fileURLWithPath: path)) else {
            throw TestSupportError("cannot open \(path)")
        }
        let reader = Reader()
        parser.delegate = reader
        guard parser.parse() else {
            throw TestSupportError("XML error: \(parser.parserError.map { "\($0)" } ?? "unknown") at line \(parser.lineNumber)")
        }
        if let error = reader.error { throw TestSupportError(error) }
        frames = reader.frames
        total = reader.total
        width = reader.width
        title = reader.title
        guard total > 0, width > 0, !frames.isEmpty else {
            throw TestSupportError("no data-total, width or frames")
        }
    }

    private final class Reader: NSObject, XMLParserDelegate {
        var frames: [Frame] = []
        var total: Int64 = 0
        var width: Double = 0
        var title = ""
        var error: String?
        private var current: Frame?
        private var text = ""
        private var inTitleText = false

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch element {
            case "svg":
                total = Int64(attributes["data-total"] ?? "") ?? 0
                width = Double(attributes["width"] ?? "") ?? 0
            case "g" where attributes["class"] == "f":
                guard let start = Int64(attributes["data-x"] ?? ""), let samples = Int64(attributes["data-w"] ?? ""),
                      let depth = Int(attributes["data-d"] ?? ""), let kernel = attributes["data-k"] else {
                    error = "a frame lacks data-x, data-w, data-d or data-k: \(attributes)"
                    return
                }
                current = Frame(name: "", tooltip: "", start: start, samples: samples, depth: depth,
                                kernel: kernel == "1", x: .nan, y: .nan, width: .nan, fillText: "")
            case "rect" where current != nil:
                current?.x = Double(attributes["x"] ?? "") ?? .nan
                current?.y = Double(attributes["y"] ?? "") ?? .nan
                current?.width = Double(attributes["width"] ?? "") ?? .nan
                current?.fillText = attributes["fill"] ?? ""
            case "text" where current == nil && attributes["id"] == "title":
                inTitleText = true
            default:
                break
            }
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?,
                    qualifiedName: String?) {
            switch element {
            case "title" where current != nil:
                current?.tooltip = text
            case "text" where current != nil:
                current?.name = text
            case "text" where inTitleText:
                title = text
                inTitleText = false
            case "g":
                if let frame = current { frames.append(frame) }
                current = nil
            default:
                break
            }
        }
    }
}
