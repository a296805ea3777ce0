import Foundation
import TprofStore
import TprofTestSupport
import XCTest

/// A temporary directory for one recording test, with the spin workload compiled into it.
final class RecordingWorkspace {
    let directory: TemporaryDirectory

    /// Creates the directory; it is removed when `testCase` ends.
    /// - Parameter worldWritable: mode 0777, for a recorder run as an unprivileged user.
    init(for testCase: XCTestCase, worldWritable: Bool = false) throws {
        directory = try testCase.makeTemporaryDirectory(prefix: "tprof-record-test", worldWritable: worldWritable)
    }

    /// A path inside the workspace.
    func file(_ name: String) -> String {
        directory.file(name)
    }

    /// Compiles the spin workload as `name`, which becomes the process's comm.
    func spin(named name: String) throws -> String {
        try compileC(source: Workload.spinSource, name: name, in: directory)
    }

    /// A name no other process has: `prefix` and four random hex digits, short enough to be a whole comm.
    static func uniqueName(_ prefix: String) -> String {
        String((prefix + "-" + String(UInt16.random(in: 0x1000...0xffff), radix: 16)).prefix(15))
    }
}

/// Kernel settings read from /proc/sys.
enum KernelSetting {
    /// An integer setting such as "kernel/perf_event_paranoid".
    static func integer(_ name: String) throws -> Int {
        let path = "/proc/sys/" + name
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestSupportError("cannot read \(path)")
        }
        return value
    }
}

/// Checks every recording must pass: a finished run, counters that account for every sample.
func assertConsistentRecording(_ database: Database, status: String, file: StaticString = #filePath,
                               line: UInt = #line) throws {
    XCTAssertEqual(try database.scalarText("SELECT status FROM run"), status, file: file, line: line)
    XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM counters"), 0, "counters rows",
                         file: file, line: line)
    XCTAssertEqual(try database.scalarInt(
        "SELECT COUNT(*) FROM counters WHERE read != written + overflow + dropbuf_sample"), 0,
        "read = written + overflow + dropbuf_sample on every CPU", file: file, line: line)
    XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples"),
                   try database.scalarInt("SELECT SUM(written) FROM counters"), "samples stored = written",
                   file: file, line: line)
    XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples"),
                   try database.scalarInt("SELECT SUM(samples) FROM events"), "events.samples",
                   file: file, line: line)
}

/// Asserts that `pid` was sampled and that every event was sampled at the frequency asked for, as the kernel
/// measured the time it ran (`events.achieved_rate` is samples over the event's running time). Unlike "at least N
/// samples in a second of wall time", this holds however little CPU a busy machine leaves the profiled program.
func assertSampledAtRequestedRate(_ database: Database, pid: Int32? = nil, where condition: String = "1",
                                  file: StaticString = #filePath, line: UInt = #line) throws {
    let scope = pid.map { "pid = \($0) AND " } ?? ""
    XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE \(scope)\(condition)"), 0,
                         "no samples of \(pid.map { "process \($0)" } ?? "the target")", file: file, line: line)
    let rates = try database.rows("SELECT name, requested_frequency, achieved_rate FROM events")
    for row in rates {
        guard row.count == 3, case .integer(let requested) = row[1], case .real(let achieved) = row[2] else {
            XCTFail("event without a requested frequency and an achieved rate: \(row)", file: file, line: line)
            continue
        }
        XCTAssertEqual(achieved, Double(requested), accuracy: Double(requested) * 0.1,
                       "\(row[0]): sampled at \(achieved) Hz of its running time, \(requested) Hz asked",
                       file: file, line: line)
    }
}

/// Runs `tprof-record -o DB OPTIONS -- true` in `workspace` and asserts one error line containing `texts` and no
/// database.
func assertRecordRejects(_ options: [String], in workspace: RecordingWorkspace, contains texts: [String],
                         file: StaticString = #filePath, line: UInt = #line) throws {
    let output = workspace.file("rejected.db")
    let result = try Tool.record.run(["-o", output] + options + ["--", "true"])
    assertOneLineError(result, file: file, line: line)
    for text in texts {
        XCTAssertTrue(result.stderr.contains(text), "\(options): stderr lacks '\(text)'\n\(result.summary)",
                      file: file, line: line)
    }
    assertNoFile(output, file: file, line: line)
}
