#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
import TprofTestSupport
import XCTest

/// `--timeline`: samples per time bucket per process, CPU or symbol; `--timeline-svg` draws it.
final class TimelineTests: XCTestCase {
    private struct Row {
        var second: Double
        var series: String
        var samples: Int64
    }

    private func timeline(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [Row] {
        let text = try ExportTools.report(arguments + ["--timeline", "--format", "csv"]).stdout
        let (header, rows) = ExportTools.parseCSV(text)
        XCTAssertEqual(header, ["second", "series", "samples"], file: file, line: line)
        return try rows.map { row in
            guard row.count == 3, let second = Double(row[0]), let samples = Int64(row[2]) else {
                throw TestSupportError("bad timeline row \(row)")
            }
            return Row(second: second, series: row[1], samples: samples)
        }
    }

    func testRowsSumToTheSampleCount() throws {
        let workbench = try ExportWorkbench.shared()
        for path in [workbench.base, workbench.synthetic] {
            let database = try Database(path: path)
            let rows = try timeline([path])
            XCTAssertGreaterThan(rows.count, 1)
            XCTAssertEqual(rows.reduce(Int64(0)) { $0 + $1.samples }, try database.scalarInt("SELECT count(*) FROM samples"))
            XCTAssertEqual(rows.map(\.second), rows.map(\.second).sorted(), "rows not in time order")
            XCTAssertTrue(rows.allSatisfy { $0.second >= 0 && $0.samples > 0 })
            let duration = Double(try database.scalarInt("SELECT max(time) FROM samples")) / 1e9
            XCTAssertLessThanOrEqual(rows.map(\.second).max() ?? 0, duration)
        }
        // Per process on the synthetic run: its four processes.
        let rows = try timeline([workbench.synthetic])
        XCTAssertEqual(Set(rows.map(\.series)), ["1000 synth0", "1001 synth1", "1002 synth2", "1003 synth3"])
        // Per symbol on the real run: leaf leads.
        let symbols = try timeline([workbench.base, "--by-symbol"])
        var perSymbol: [String: Int64] = [:]
        for row in symbols { perSymbol[row.series, default: 0] += row.samples }
        XCTAssertEqual(perSymbol.max { $0.value < $1.value }?.key, "leaf")
        XCTAssertEqual(perSymbol.values.reduce(0, +),
                       try Database(path: workbench.base).scalarInt("SELECT count(*) FROM samples"))
    }

    func testByCPUSeriesAreCPUs() throws {
        let workbench = try ExportWorkbench.shared()
        let rows = try timeline([workbench.synthetic, "--by-cpu", "--bucket", "0.1"])
        XCTAssertEqual(Set(rows.map(\.series)), ["cpu 0", "cpu 1"])
        let database = try Database(path: workbench.synthetic)
        for cpu in [0, 1] {
            XCTAssertEqual(rows.filter { $0.series == "cpu \(cpu)" }.reduce(Int64(0)) { $0 + $1.samples },
                           try database.scalarInt("SELECT count(*) FROM samples WHERE cpu = \(cpu)"))
        }
        // Buckets of 0.1 s: every second value is a multiple of 0.1.
        for row in rows {
            XCTAssertEqual(row.second * 10, (row.second * 10).rounded(), accuracy: 1e-6)
        }
        let real = try timeline([workbench.base, "--by-cpu"])
        let cpus = Set(try Database(path: workbench.base).ints("SELECT DISTINCT cpu FROM samples").map { "cpu \($0)" })
        XCTAssertEqual(Set(real.map(\.series)), cpus)
    }

    func testSinceAndUntilNarrowTheRange() throws {
        let workbench = try ExportWorkbench.shared()
        let database = try Database(path: workbench.base)
        let all = try timeline([workbench.base, "--bucket", "0.1"])
        let narrow = try timeline([workbench.base, "--bucket", "0.1", "--since", "0.3", "--until", "0.7"])
        let expected = try database.scalarInt("SELECT count(*) FROM samples WHERE time >= 300000000 AND time < 700000000")
        XCTAssertGreaterThan(expected, 20)
        XCTAssertEqual(narrow.reduce(Int64(0)) { $0 + $1.samples }, expected)
        XCTAssertLessThan(narrow.reduce(Int64(0)) { $0 + $1.samples }, all.reduce(Int64(0)) { $0 + $1.samples })
        // Buckets of 0.1 s from 0.3 to 0.6 (one may be empty when the program was not running then).
        XCTAssertGreaterThanOrEqual(narrow.map(\.second).min() ?? -1, 0.3 - 1e-6)
        XCTAssertLessThanOrEqual(narrow.map(\.second).max() ?? 1e9, 0.6 + 1e-6)
        XCTAssertTrue(all.contains { $0.second < 0.3 - 1e-6 } || all.contains { $0.second > 0.6 + 1e-6 },
                      "the full run has no bucket outside 0.3-0.6 s")
        // The buckets inside the range are the full run's buckets.
        for row in narrow {
            let same = all.first { abs($0.second - row.second) < 1e-9 && $0.series == row.series }
            XCTAssertEqual(same?.samples, row.samples, "bucket \(row.second)")
        }
    }

    func testTimelineSVGIsWellFormed() throws {
        let workbench = try ExportWorkbench.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-timeline")
        for (name, extra) in [("process.svg", [String]()), ("cpu.svg", ["--by-cpu"]), ("symbol.svg", ["--by-symbol"])] {
            let output = directory.file(name)
            let result = try ExportTools.report([workbench.synthetic, "--timeline-svg", output] + extra)
            XCTAssertTrue(result.stdout.isEmpty, "--timeline-svg alone prints nothing: \(result.stdout.prefix(200))")
            let data = try ExportTools.bytes(output)
            let parser = XMLParser(data: data)
            let collector = TitleCollector()
            parser.delegate = collector
            XCTAssertTrue(parser.parse(), "\(name) is not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
            XCTAssertFalse(collector.titles.isEmpty, "\(name) has no bars")
            // Each bar's tooltip says its samples; they add up to the run's samples.
            var total: Int64 = 0
            for title in collector.titles {
                guard let range = title.range(of: #": (\d+) samples$"#, options: .regularExpression) else {
                    XCTFail("bar title \(title)")
                    continue
                }
                total += Int64(title[range].dropFirst(2).split(separator: " ").first ?? "") ?? 0
            }
            XCTAssertEqual(total, Int64(2 * ExportWorkbench.syntheticSamplesPerCPU), name)
        }
        // --timeline with --timeline-svg also prints the table.
        let both = try ExportTools.report([workbench.synthetic, "--timeline", "--timeline-svg",
                                           directory.file("both.svg"), "--format", "csv"])
        XCTAssertTrue(both.stdout.hasPrefix("second,series,samples\n"), both.summary)
    }
}
