import Foundation
import TprofTestSupport
import XCTest

/// The annotation comes from the recording, not from the files: the binary deleted and rebuilt differently and
/// its source edited, `--annotate` shows the code and source that ran, unchanged, also after `--resymbolize`.
final class SelfContainedTests: XCTestCase {
    func testRebuiltBinaryAndEditedSourceLeaveTheAnnotationUnchanged() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-annotate-rebuilt")
        let program = try HotLoop.build(in: directory)
        let database = directory.file("run.db")
        let recorded = try Tool.record.run(["-q", "-o", database, "--", program, "100000000"])
        XCTAssertEqual(recorded.status, 0, recorded.summary)
        func annotations() throws -> [String] {
            try [["--annotate", "hot_loop"], ["--annotate", "hot_loop", "--source"],
                 ["--annotate", "hot_loop", "--format", "json"]].map { arguments in
                let result = try Tool.report.run([database] + arguments)
                XCTAssertEqual(result.status, 0, result.summary)
                return result.stdout
            }
        }
        let before = try annotations()
        XCTAssertTrue(before[0].contains("imul"), before[0])
        XCTAssertTrue(before[1].contains("x ^= x >> 7;"), before[1])

        try FileManager.default.removeItem(atPath: program)
        let edited = "/* edited after recording */\n#include <stdio.h>\n" + HotLoop.source
            .replacingOccurrences(of: "x ^= x >> 7;", with: "x ^= x >> 9; x += 5;")
        _ = try compileC(source: edited, name: "hotloop", flags: ["-O2"], in: directory)
        XCTAssertEqual(try annotations(), before, "the recorded code and source, not the files now")

        let resymbolized = try Tool.report.run([database, "--resymbolize"])
        XCTAssertEqual(resymbolized.status, 0, resymbolized.summary)
        XCTAssertTrue(resymbolized.stderr.contains("skipped \(program)"), resymbolized.summary)
        XCTAssertEqual(try annotations(), before, "--resymbolize neither replaces nor mixes in the rebuilt code")
    }
}
