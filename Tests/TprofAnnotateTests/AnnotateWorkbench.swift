import Foundation
import TprofTestSupport
import XCTest

/// The workload the annotate tests profile: `hot_loop` (a multiply, add, shift and xor per turn: a few hot
/// instructions) and `cold_loop` (an eighth as many turns), both matched by `_loop`.
enum HotLoop {
    static let source = #"""
        #include <stdlib.h>

        static volatile unsigned sink;

        __attribute__((noinline)) unsigned hot_loop(unsigned n) {
            unsigned x = 1;
            for (unsigned i = 0; i < n; i++) {
                x = x * 1103515245u + 12345u;
                x ^= x >> 7;
            }
            return x;
        }

        __attribute__((noinline)) unsigned cold_loop(unsigned n) {
            unsigned x = 3;
            for (unsigned i = 0; i < n; i++) x = x * 69069u + 1u;
            return x;
        }

        int main(int argc, char **argv) {
            unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 100000000u;
            sink = hot_loop(n);
            sink += cold_loop(n / 8);
            return 0;
        }
        """#

    /// Turns of `hot_loop` for about 0.8 s of CPU.
    static let turns = "400000000"

    /// The workload built `-O1 -g` in `directory`.
    static func build(in directory: TemporaryDirectory, flags: [String] = []) throws -> String {
        try compileC(source: source, name: "hotloop", flags: flags, in: directory)
    }

    /// One execution recorded by tprof-record and by perf record at once (`tprof-record -- perf record -- ...`),
    /// shared by the tests that compare the two.
    static let withPerf = SharedFixture<(directory: TemporaryDirectory, database: String, perfData: String)>(make: {
        let directory = try TemporaryDirectory(prefix: "tprof-annotate")
        let program = try build(in: directory)
        let database = directory.file("t.db")
        let perfData = directory.file("p.data")
        let result = try Tool.record.run(["-q", "-o", database, "--", "perf", "record", "-q", "-o", perfData, "--",
                                          program, turns], timeout: 120)
        guard result.status == 0 else { throw TestSupportError("recording failed\n\(result.summary)") }
        return (directory, database, perfData)
    }, cleanUp: { $0.directory.remove() })
}

/// `tprof-report DATABASE --annotate REGEX ARGUMENTS --format csv`, one dictionary per row.
func annotateRows(_ database: String, _ pattern: String, _ arguments: [String] = [],
                  file: StaticString = #filePath, line: UInt = #line) throws -> [[String: String]] {
    let result = try Tool.report.run([database, "--annotate", pattern, "--format", "csv"] + arguments)
    XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
    return csvRecords(result.stdout)
}

/// The self samples `--by-symbol` gives the function named `name` under the filters `arguments`.
func bySymbolSamples(_ database: String, _ name: String, _ arguments: [String] = [],
                     file: StaticString = #filePath, line: UInt = #line) throws -> Int? {
    let result = try Tool.report.run([database, "--by-symbol", "--format", "csv"] + arguments)
    XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
    return csvRecords(result.stdout).first { $0["symbol"] == name }.flatMap { $0["samples"] }.flatMap { Int($0) }
}

/// The samples of every row.
func samples(_ rows: [[String: String]]) -> [Int] {
    rows.map { Int($0["samples"] ?? "") ?? -1 }
}
