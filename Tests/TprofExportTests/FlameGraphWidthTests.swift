import FoundationXML
@testable import TprofExport
@testable import TprofReport
import XCTest

/// Frames too narrow to see are left out of the SVG with what they call, and the subtitle says how many.
final class FlameGraphWidthTests: XCTestCase {
    private func stack(_ frames: [String], samples: Int64) -> StackProfile.Stack {
        StackProfile.Stack(pid: 1, comm: "work", tid: 1, threadComm: "work",
                           frames: frames.map { StackProfile.Frame(name: $0, kernel: false, dso: "work") },
                           samples: samples)
    }

    private func frameNames(_ svg: String) throws -> [String] {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = TitleCollector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "the SVG is not well-formed XML")
        return collector.titles.map { String($0.prefix(while: { $0 != " " })) }
    }

    func testFramesNarrowerThanATenthOfAPixelAreLeftOut() throws {
        // 1200 px for 100,000 samples: a tenth of a pixel is 8.3 samples.
        let profile = StackProfile(stacks: [
            stack(["main", "hot"], samples: 99_990),
            stack(["main", "rare", "rarer"], samples: 8),
            stack(["main", "seen"], samples: 2),
        ])
        var graph = FlameGraph(title: "t", subtitle: "s", icicle: false)
        let names = try frameNames(graph.render(profile))
        XCTAssertTrue(names.contains("hot"), "\(names)")
        XCTAssertFalse(names.contains("rare") || names.contains("rarer") || names.contains("seen"), "\(names)")
        XCTAssertTrue(graph.render(profile).contains("s; 2 frames narrower than 0.1 px left out"))

        // With no minimum, every frame is drawn and the subtitle is the caller's.
        graph.minimumWidth = 0
        let all = try frameNames(graph.render(profile))
        XCTAssertTrue(["hot", "rare", "rarer", "seen"].allSatisfy(all.contains), "\(all)")
        XCTAssertFalse(graph.render(profile).contains("left out"))
    }
}
