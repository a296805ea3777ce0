import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// `--resymbolize` reads only the files that ran (their recorded build ids), never makes a resolved name worse,
/// and rewrites only a tprof database of a schema it knows that no recorder is writing.
final class ResymbolizeTests: XCTestCase {
    /// A program other than the spin workload: another build id, other symbols at the spin's addresses.
    static let otherSource = #"""
        #include <stdio.h>
        __attribute__((noinline)) int replacement_function(int x) { return x * 3; }
        int main(void) { printf("%d\n", replacement_function(2)); return 0; }
        """#

    /// A recording of the spin workload and its symbol report as recorded.
    private struct Recording {
        var program: String
        var database: String
        var symbols: String
    }

    private func record(in directory: TemporaryDirectory) throws -> Recording {
        let program = try compileC(source: Workload.spinSource, name: "spin", in: directory)
        let database = directory.file("spin.db")
        let result = try Tool.record.run(["-q", "-o", database, "--", program, "0.3"])
        XCTAssertEqual(result.status, 0, result.summary)
        let symbols = try symbolReport(database)
        XCTAssertTrue(symbols.contains("hot_a") && symbols.contains("hot_b"), "the spin's functions:\n\(symbols)")
        return Recording(program: program, database: database, symbols: symbols)
    }

    private func symbolReport(_ database: String) throws -> String {
        let result = try runReport([database, "--by-symbol", "--format", "csv"])
        XCTAssertEqual(result.status, 0, result.summary)
        return result.stdout
    }

    /// The one assertion: --resymbolize succeeds, says on stderr exactly which files it skipped (one line each),
    /// and the symbol report is the one recorded.
    private func assertResymbolizeKeepsNames(_ recording: Recording, skipped: [String],
                                             file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runReport(["--resymbolize", recording.database])
        assertNoCrash(result, file: file, line: line)
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        XCTAssertEqual(result.stderrLines.count, skipped.count, result.summary, file: file, line: line)
        for (stderrLine, path) in zip(result.stderrLines, skipped) {
            XCTAssertTrue(stderrLine.contains("skipped \(path)") && stderrLine.contains("build id"), stderrLine,
                          file: file, line: line)
        }
        XCTAssertEqual(try symbolReport(recording.database), recording.symbols, "the names changed", file: file,
                       line: line)
    }

    func testTheSameFilesResolveTheSameNames() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-resymbolize-same")
        try assertResymbolizeKeepsNames(try record(in: directory), skipped: [])
    }

    func testAnotherProgramAtTheRecordedPathIsSkipped() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-resymbolize-replaced")
        let recording = try record(in: directory)
        let other = try compileC(source: Self.otherSource, name: "other", in: directory)
        XCTAssertEqual(rename(other, recording.program), 0)
        try assertResymbolizeKeepsNames(recording, skipped: [recording.program])
    }

    func testADeletedProgramKeepsItsNames() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-resymbolize-deleted")
        let recording = try record(in: directory)
        XCTAssertEqual(unlink(recording.program), 0)
        try assertResymbolizeKeepsNames(recording, skipped: [])
    }

    /// A file a recorder still writes (it holds the claim), one of a newer schema and one that is not a tprof
    /// database are refused with one line, and left as they were.
    func testFilesItMustNotRewriteAreRefused() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-resymbolize-refused")
        let claimed = try copyDatabase(try Fixtures.get().real, to: directory, as: "claimed.db")
        let fd = open(claimed, O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertTrue(RecorderClaim.take(fd: fd))

        let newer = try copyDatabase(try Fixtures.get().real, to: directory, as: "newer.db")
        try modifyDatabase(newer, "PRAGMA user_version = 99")
        let foreign = directory.file("foreign.db")
        try SQLiteDatabase(path: foreign, mode: .create)
            .execute("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')")

        for (path, text) in [(claimed, "still writing"), (newer, "newer"), (foreign, "not a tprof database")] {
            let before = FileState(of: path)
            let result = try runReport(["--resymbolize", path])
            assertOneLineError(result, contains: text)
            XCTAssertEqual(FileState(of: path), before, "\(path) changed")
        }
    }

    /// Kernel addresses are named again with the running kernel's symbols only when it is the recorded kernel at the
    /// recorded place: with KASLR the same release moves at every boot, and its symbols would name the wrong code.
    func testKernelNamesAreRenamedOnlyWhenTheKernelTextIsWhereItWas() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-resymbolize-kaslr")
        let database = directory.file("dd.db")
        let recorded = try Tool.record.run(["-q", "-o", database, "--", "/bin/dd", "if=/dev/zero", "of=/dev/null",
                                            "bs=1", "count=400000"])
        XCTAssertEqual(recorded.status, 0, recorded.summary)
        let kallsyms = try String(contentsOfFile: "/proc/kallsyms", encoding: .utf8)
        let stext = try XCTUnwrap(kallsyms.split(separator: "\n").first { $0.hasSuffix(" _stext") }
            .flatMap { UInt64($0.prefix { $0 != " " }, radix: 16) })
        XCTAssertEqual(try queryInt(database, "SELECT kernel_text_start FROM run"), Int64(bitPattern: stext))
        let kernelNames = "SELECT count(*) FROM addresses WHERE dso_id IN (SELECT id FROM dsos WHERE kind = 'kernel')"
        XCTAssertGreaterThan(try queryInt(database, kernelNames), 0, "no kernel address to name")

        for moved in [true, false] {
            let copy = try copyDatabase(database, to: directory, as: moved ? "moved.db" : "same.db")
            // Names no symbol table has: re-read kernel symbols replace them, kept ones stay.
            try modifyDatabase(copy, """
                UPDATE addresses SET name = 'recorded_' || name
                WHERE dso_id IN (SELECT id FROM dsos WHERE kind = 'kernel');
                UPDATE run SET kernel_text_start = \(Int64(bitPattern: moved ? stext &+ 0x200000 : stext));
                """)
            let result = try runReport(["--resymbolize", copy])
            XCTAssertEqual(result.status, 0, result.summary)
            let kept = try queryInt(copy, kernelNames + " AND name LIKE 'recorded\\_%' ESCAPE '\\'")
            if moved {
                XCTAssertEqual(kept, try queryInt(copy, kernelNames), "a moved kernel's addresses were named again")
            } else {
                XCTAssertEqual(kept, 0, "the same kernel's addresses kept their recorded names")
            }
        }
    }
}
