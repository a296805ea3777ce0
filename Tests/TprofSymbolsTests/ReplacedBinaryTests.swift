import Foundation
import TprofTestSupport
import XCTest

/// The profiled program's files are its own: its executable replaced by a corrupted copy or by a FIFO after it ran
/// and before the recording finishes, the finishing step (symbols, DWARF unwinding) still completes, with
/// unresolved names at worst.
final class ReplacedBinaryTests: XCTestCase {
    /// How the executable is replaced once it has run.
    enum Replacement: String {
        /// A copy whose PT_LOAD segments after the first (the code among them) claim UINT64_MAX bytes.
        case corruptedCopy
        case fifo
    }

    private func assertRecordingCompletes(_ replacement: Replacement, file: StaticString = #filePath,
                                          line: UInt = #line) throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-replaced-binary")
        let program = try compileC(source: Workload.spinSource, name: "spin", in: directory)
        let replace: String
        switch replacement {
        case .corruptedCopy:
            let elf = try HostileElf(path: program)
            var bytes = elf.original
            for header in elf.programHeaders where header.type == HostileElf.ptLoad
                && elf.read(header.offset + 8, width: 8) != 0 {
                bytes = elf.setting(.phFileSize, at: header.offset, to: UInt64.max, in: bytes)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: program + ".corrupt"))
            replace = "mv \"$1.corrupt\" \"$1\""
        case .fifo:
            replace = "rm \"$1\" && mkfifo \"$1\""
        }
        let database = directory.file("run.db")

        let result = try Tool.record.run(["-q", "-e", "cpu-clock", "-F", "999", "--call-graph", "dwarf", "-o",
                                          database, "--", "/bin/sh", "-c", "\"$1\" 0.3 && " + replace, "sh", program],
                                         timeout: 120)

        assertNoCrash(result, file: file, line: line)
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        var info = stat()
        XCTAssertEqual(stat(program, &info), 0, file: file, line: line)
        XCTAssertEqual(info.st_mode & S_IFMT, replacement == .fifo ? S_IFIFO : S_IFREG, "replaced: \(replacement)",
                       file: file, line: line)
        let db = try Database(path: database)
        XCTAssertEqual(try db.scalarText("SELECT status FROM run"), "complete", file: file, line: line)
        XCTAssertGreaterThan(try db.scalarInt("SELECT count(*) FROM addresses a JOIN dsos d ON d.id = a.dso_id "
                                              + "WHERE d.path = '\(program)'"), 0,
                             "samples fell in the replaced program", file: file, line: line)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM addresses WHERE name IS NULL OR name = ''"), 0,
                       file: file, line: line)
    }

    func testBinaryReplacedByACorruptedCopyBeforeFinishing() throws {
        try assertRecordingCompletes(.corruptedCopy)
    }

    func testBinaryReplacedByAFifoBeforeFinishing() throws {
        try assertRecordingCompletes(.fifo)
    }
}
