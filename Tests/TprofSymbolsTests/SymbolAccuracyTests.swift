import Foundation
import TprofTestSupport
import XCTest

/// A C program with two hot functions: tprof's per-symbol shares, source lines and addresses against perf and the
/// program itself.
final class SymbolAccuracyTests: XCTestCase {
    /// The program, built and recorded once per test process.
    private struct Fixture {
        let bench: SymbolWorkbench
        let program: String
        let recording: TprofRecording
    }

    private static let fixture = SharedFixture(make: {
        let bench = try SymbolWorkbench()
        let program = try bench.compileC(SymbolWorkloads.twoHotFunctions, name: "twohot")
        return Fixture(bench: bench, program: program, recording: try bench.recordTprof([program, "1.5"]))
    }, cleanUp: { $0.bench.directory.remove() })
    private var bench: SymbolWorkbench!
    private var program: String!
    private var recording: TprofRecording!

    override func setUpWithError() throws {
        let fixture = try Self.fixture.value()
        (bench, program, recording) = (fixture.bench, fixture.program, fixture.recording)
    }

    override func tearDown() {
        (bench, program, recording) = (nil, nil, nil)
    }

    func testSharesOfTwoHotFunctionsAgreeWithPerf() throws {
        let both = try bench.recordWithPerf([program, "1.5"])
        try both.assertSameSampleCount()
        let (tprof, perf) = (try both.tprofProfile(), both.perf)
        assertShare(.symbol("hot_a"), tprof: tprof, perf: perf, within: 2, expected: 200.0 / 3)
        assertShare(.symbol("hot_b"), tprof: tprof, perf: perf, within: 2, expected: 100.0 / 3)
        for name in ["hot_a", "hot_b"] {
            let rows = tprof.rows.filter { $0.symbol == name }
            XCTAssertEqual(rows.count, 1, "\(name) should be one row\n\(tprof.listing)")
            XCTAssertEqual(rows.first?.dso, program, "\(name) is in the executable\n\(tprof.listing)")
            XCTAssertEqual(rows.first?.kernel, false, "\(name) is user space ([.])\n\(tprof.listing)")
        }
    }

    func testByLineShowsTheSourceLinesOfTheHotLoops() throws {
        let source = bench.path("twohot.c")
        let symbols = try recording.symbolProfile()
        let lines = try recording.rows(["--by-line"])
        let listing = lines.prefix(10).map { "\($0["percent"] ?? "") \($0["line"] ?? "")" }.joined(separator: "\n")
        for (name, marker) in [("hot_a", "HOT_A"), ("hot_b", "HOT_B")] {
            let number = try XCTUnwrap(SymbolWorkloads.line(of: marker, in: SymbolWorkloads.twoHotFunctions))
            let row = lines.first { $0["line"] as? String == "\(source):\(number)" }
            XCTAssertNotNil(row, "--by-line has no row \(source):\(number) for \(name)'s loop\n\(listing)")
            // The loop is one line, so it holds (nearly) all of the function's samples.
            let share = (row?["percent"] as? NSNumber)?.doubleValue ?? 0
            XCTAssertEqual(share, symbols.share(of: name), accuracy: 2,
                           "\(source):\(number) should hold \(name)'s samples\n\(listing)\n\(symbols.listing)")
        }
    }

    func testByAddressShowsOffsetsInsideTheHotFunctions() throws {
        let text = try recording.report(["--by-address"])
        XCTAssertTrue(text.range(of: #"\[\.\]\s+0x[0-9a-f]+\s+hot_a\+0x[0-9a-f]+"#, options: .regularExpression) != nil,
                      "--by-address shows no hot_a+0x... line\n\(text)")
        XCTAssertTrue(text.range(of: #"hot_b\+0x[0-9a-f]+"#, options: .regularExpression) != nil,
                      "--by-address shows no hot_b+0x... line\n\(text)")
        // Every offset lies inside the function as nm sizes it.
        let sizes = try symbolSizes(program)
        let rows = try recording.rows(["--by-address"])
        var checked = 0
        for row in rows {
            guard let label = row["symbol"] as? String else { continue }
            let parts = label.components(separatedBy: "+0x")
            guard parts.count == 2, let size = sizes[parts[0]], let offset = UInt64(parts[1], radix: 16) else { continue }
            XCTAssertLessThan(offset, size, "\(label) lies past the end of \(parts[0]) (size \(size))")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 1, "no hot_a/hot_b+offset rows to check\n\(text)")
    }

    /// Function sizes from `nm -S`.
    private func symbolSizes(_ executable: String) throws -> [String: UInt64] {
        let result = try ChildProcess.run(try SymbolWorkbench.which("nm"), ["-S", "--defined-only", executable])
        XCTAssertEqual(result.status, 0, result.summary)
        var sizes: [String: UInt64] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 4, let size = UInt64(fields[1], radix: 16) { sizes[String(fields[3])] = size }
        }
        return sizes
    }
}
