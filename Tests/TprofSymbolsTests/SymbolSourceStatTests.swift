import Foundation
import TprofTestSupport
import XCTest

/// `tprof-report --stat` says where each sampled file's symbols came from and why unresolved samples are.
final class SymbolSourceStatTests: XCTestCase {
    func testStatNamesEachFilesSourceAndTheCauseOfUnresolvedSamples() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-symbol-sources")
        let stripped = try compileC(source: Workload.spinSource, name: "stripped", in: directory)
        XCTAssertEqual(try ChildProcess.run("/usr/bin/strip", ["--strip-all", stripped]).status, 0)
        let removed = try compileC(source: Workload.spinSource, name: "removed", in: directory)
        let database = directory.file("run.db")

        let result = try Tool.record.run(["-q", "-e", "cpu-clock", "-o", database, "--", "/bin/sh", "-c",
                                          "\"$1\" 0.2 && \"$2\" 0.2 && rm \"$2\"", "sh", stripped, removed])
        XCTAssertEqual(result.status, 0, result.summary)
        let stat = try Tool.report.run([database, "--stat"])

        assertNoCrash(stat)
        XCTAssertEqual(stat.status, 0, stat.summary)
        XCTAssertTrue(stat.stdout.contains("\t\(stripped): dynsym, path, -, ")
                      || stat.stdout.contains("\t\(stripped): none, path, -, "), stat.stdout)
        XCTAssertTrue(stat.stdout.contains("\t\(removed): none, -, -, "), stat.stdout)
        XCTAssertTrue(stat.stdout.contains("\t[kernel.kallsyms]: kallsyms, -, -, "), stat.stdout)
        XCTAssertTrue(stat.stdout.contains("unresolved samples by cause"), stat.stdout)
        for cause in ["stripped", "no file"] {
            XCTAssertNotNil(stat.stdout.range(of: "\t\(cause) [0-9]+ addresses, [0-9]+ samples",
                                              options: .regularExpression), "\(cause):\n\(stat.stdout)")
        }
    }
}
