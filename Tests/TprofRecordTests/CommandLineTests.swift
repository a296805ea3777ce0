import Foundation
import Glibc
import TprofDatabase
import TprofStore
import TprofTestSupport
import XCTest

/// The recorder's command line is taken as given: arguments byte for byte, options it does not know refused rather
/// than run, every number and event checked with a message that names the real problem.
final class CommandLineTests: XCTestCase {
    /// Runs `sh -c SCRIPT` with $0 the built tprof-record, in `directory`: the way to hand it bytes that are not
    /// UTF-8, which Foundation's Process cannot pass.
    private func runShell(_ script: String, in directory: String) throws -> ProcessResult {
        let result = try ChildProcess.run("/bin/sh", ["-c", script, try Tool.record.path()],
                                          currentDirectory: directory)
        assertNoCrash(result)
        return result
    }

    func testArgumentsReachTheCommandByteForByte() throws {
        let workspace = try RecordingWorkspace(for: self)
        let result = try runShell(#"""
            arg=$(printf 'arg\377end\303\251\364\217\277\277')
            "$0" -q -o run.db -- printf %s "$arg" > out.bin
            """#, in: workspace.directory.path)

        XCTAssertEqual(result.status, 0, result.summary)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: workspace.file("out.bin")))
        XCTAssertEqual([UInt8](bytes), Array("arg".utf8) + [0xFF] + Array("end".utf8) + [0xC3, 0xA9]
            + [0xF4, 0x8F, 0xBF, 0xBF], "a byte that is not UTF-8 must not become U+FFFD")
    }

    func testCommandNamedWithBytesThatAreNotUTF8IsFoundAndRun() throws {
        let workspace = try RecordingWorkspace(for: self)
        let result = try runShell(#"""
            name=$(printf 'tool\377')
            printf '#!/bin/sh\necho ran "$@"\n' > "$name" && chmod +x "$name"
            "$0" -q -o path.db -- "./$name" by-path > by-path.txt &&
            PATH="$PWD:$PATH" "$0" -q -o search.db -- "$name" by-search > by-search.txt
            """#, in: workspace.directory.path)

        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(try String(contentsOfFile: workspace.file("by-path.txt"), encoding: .utf8), "ran by-path\n")
        XCTAssertEqual(try String(contentsOfFile: workspace.file("by-search.txt"), encoding: .utf8),
                       "ran by-search\n")
    }

    func testOutputNameThatIsNotUTF8IsCreatedByteForByte() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = Array("out".utf8) + [0xFF] + Array(".db".utf8)
        let shown = "out\u{FFFD}.db"
        let record = #""$0" -o "$(printf 'out\377.db')" -- true"#
        let first = try runShell(record, in: workspace.directory.path)

        XCTAssertEqual(first.status, 0, first.summary)
        XCTAssertTrue(first.stderr.contains("samples to \(shown)"), "the summary names the file\n\(first.summary)")
        XCTAssertEqual(try directoryEntries(workspace.directory.path), [name], "exactly that name, nothing else")
        let path = BytePath(bytes: Array(workspace.directory.path.utf8) + [UInt8(ascii: "/")] + name)
        let database = try Database(path: path)
        XCTAssertEqual(try database.scalarInt("PRAGMA application_id"), Int64(tprofApplicationID))
        XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok")
        try assertConsistentRecording(database, status: "complete")
        let before = try directoryEntries(workspace.directory.path)

        // A second run follows the rules of any name: refused without --force, replaced with it.
        let refused = try runShell(record, in: workspace.directory.path)
        assertOneLineError(refused, contains: "\(shown) already exists")
        XCTAssertEqual(try directoryEntries(workspace.directory.path), before, "nothing changed, nothing left")
        let forced = try runShell(#""$0" -q --force -o "$(printf 'out\377.db')" -- true"#,
                                  in: workspace.directory.path)
        XCTAssertEqual(forced.status, 0, forced.summary)
        XCTAssertEqual(try directoryEntries(workspace.directory.path), [name])

        // The temporary name carries the same bytes: a leftover under it is refused by that name and kept.
        let leftover = BytePath(bytes: path.bytes + Array(".recording".utf8))
        let fd = leftover.open(O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        let refusedByLeftover = try runShell(#""$0" -q --force -o "$(printf 'out\377.db')" -- true"#,
                                             in: workspace.directory.path)
        assertOneLineError(refusedByLeftover, contains: "\(shown).recording is left from a tprof-record")
        XCTAssertEqual(try directoryEntries(workspace.directory.path), [name, name + Array(".recording".utf8)])
    }

    func testReportReadsAndWritesFilesNamedWithBytesThatAreNotUTF8() throws {
        let workspace = try RecordingWorkspace(for: self)
        let result = try ChildProcess.run("/bin/sh", ["-c", #"""
            db=$(printf 'run\377.db') svg=$(printf 'fg\377.svg')
            "$0" -q -e cpu-clock -F 4000 -o "$db" -- sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done' &&
            "$1" "$db" --by-comm > table.txt &&
            "$1" "$db" --flamegraph "$svg"
            """#, try Tool.record.path(), try Tool.report.path()], currentDirectory: workspace.directory.path)

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let table = try String(contentsOfFile: workspace.file("table.txt"), encoding: .utf8)
        XCTAssertTrue(table.hasPrefix("# tprof report: run\u{FFFD}.db\n"), table)
        XCTAssertTrue(table.contains("sh"), table)
        XCTAssertTrue(result.stderr.contains("wrote fg\u{FFFD}.svg"), result.summary)
        let svg = Array("fg".utf8) + [0xFF] + Array(".svg".utf8)
        XCTAssertEqual(try directoryEntries(workspace.directory.path),
                       [svg, Array("run".utf8) + [0xFF] + Array(".db".utf8), Array("table.txt".utf8)])
    }

    /// The names in `directory` as the kernel gives them, bytes that are not UTF-8 included.
    private func directoryEntries(_ directory: String) throws -> [[UInt8]] {
        guard let stream = opendir(directory) else { throw TestSupportError("cannot open \(directory)") }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != Array(".".utf8) && name != Array("..".utf8) { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    func testMisspeltOptionBeforeTheCommandIsAnUnknownOption() throws {
        let workspace = try RecordingWorkspace(for: self)
        for misspelt in [["--freqq", "100"], ["-Q"], ["--quite"]] {
            let output = workspace.file("misspelt.db")
            let result = try Tool.record.run(misspelt + ["-o", output, "--", "true"])

            assertOneLineError(result, contains: "unknown option '\(misspelt[0])'")
            XCTAssertEqual(result.status, 64, "a usage error, not a command that was not found\n\(result.summary)")
            assertNoFile(output)
        }
    }

    func testEveryToolPrintsItsVersion() throws {
        let bench = try Tool.productsDirectory().appendingPathComponent("tprof-bench").path
        for executable in [try Tool.record.path(), try Tool.report.path(), bench] {
            let result = try ChildProcess.run(executable, ["--version"])

            assertNoCrash(result)
            XCTAssertEqual(result.status, 0, result.summary)
            XCTAssertEqual(result.stdout, "0.1.0\n", result.summary)
        }
    }

    func testBenchReplayNeverWritesOverTheRecordingItReplaysNorTrapsOnItsRows() throws {
        let workspace = try RecordingWorkspace(for: self)
        let bench = try Tool.productsDirectory().appendingPathComponent("tprof-bench").path
        let input = workspace.file("input.db")
        XCTAssertEqual(try Tool.record.run(["-q", "-g", "-o", input, "--", "true"]).status, 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let link = workspace.file("link.db")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: input)
        for output in [input, link, input + "-wal"] where FileManager.default.fileExists(atPath: output) {
            let result = try ChildProcess.run(bench, ["replay", input, "-o", output])

            assertOneLineError(result, contains: "the recording replayed; choose another output file")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: input)), before)

        // Rows no recorder writes: times before the first, a negative CPU, a period and mode out of range.
        let hostile = workspace.file("hostile.db")
        try FileManager.default.copyItem(atPath: input, toPath: hostile)
        let database = try SQLiteDatabase(path: hostile, mode: .readWrite)
        try database.execute("""
            INSERT INTO samples (time, cpu, pid, tid, event, mode, pc, period) VALUES
                (100, 0, 1, 1, 1, 1, 1, 1), (-5, 0, 1, 1, 1, 999, -1, -1), (9, 0, -1, 99999999999, 1, 1, 1, 1);
            """)
        let replayed = try ChildProcess.run(bench, ["replay", hostile, "-o", workspace.file("out.db")])
        assertNoCrash(replayed)
        XCTAssertEqual(replayed.status, 0, replayed.summary)
        try database.execute("INSERT INTO samples (time, cpu, pid, tid, event, mode, pc, period) "
            + "VALUES (1, -3, 1, 1, 1, 1, 1, 1)")
        let refused = try ChildProcess.run(bench, ["replay", hostile, "-o", workspace.file("out2.db")])
        assertOneLineError(refused, contains: "a sample on CPU -3 of event 1 is out of range")
        assertOneLineError(try ChildProcess.run(bench, ["replay", input, "-o", workspace.file("o3.db"), "--speed",
                                                        "0"]), contains: "--speed must be a positive number")
    }

    func testCommandWithoutTheExecuteBitIsPermissionDenied126() throws {
        let workspace = try RecordingWorkspace(for: self)
        let script = workspace.file("not-executable")
        try "#!/bin/sh\necho ran\n".write(toFile: script, atomically: false, encoding: .utf8)
        let output = workspace.file("denied.db")

        for command in [script, "./not-executable"] {
            let result = try Tool.record.run(["-o", output, "--", command], currentDirectory: workspace.directory.path)

            assertOneLineError(result, contains: "cannot run '\(command)': Permission denied")
            XCTAssertEqual(result.status, 126, result.summary)
            assertNoFile(output)
        }
    }

    func testPathSearchPassesOverDirectoriesAndReportsAFileItMayNotRun() throws {
        let workspace = try RecordingWorkspace(for: self)
        let result = try runShell(#"""
            mkdir bin bin/a-directory && printf '#!/bin/sh\n' > bin/not-executable
            for name in a-directory not-executable ""; do
                PATH="$PWD/bin:$PATH" "$0" -o search.db -- "$name"; echo "status $?"
            done
            """#, in: workspace.directory.path)

        XCTAssertEqual(result.stdout, "status 127\nstatus 126\nstatus 127\n", result.summary)
        XCTAssertEqual(result.stderrLines, ["tprof-record: cannot run 'a-directory': command not found",
                                            "tprof-record: cannot run 'not-executable': Permission denied",
                                            "tprof-record: cannot run '': command not found"])
        assertNoFile(workspace.file("search.db"))
    }

    func testNegativeNumbersMustBePositive() throws {
        let workspace = try RecordingWorkspace(for: self)
        for (option, value) in [("-F", "-5"), ("-c", "-1"), ("-d", "-1"), ("-m", "-4"), ("--flush-interval", "-1"),
                                ("--buffer-samples", "-1"), ("--buffer-limit", "-2"), ("--max-stack", "-3")] {
            try assertRecordRejects([option, value], in: workspace,
                                    contains: ["bad value \(value) for \(option): it must be positive"])
        }
    }

    func testEmptyEventNamesAreRefused() throws {
        let workspace = try RecordingWorkspace(for: self)
        for events in ["", ",", "cpu-clock,", ",cpu-clock"] {
            try assertRecordRejects(["-e", events], in: workspace, contains: ["empty event name in -e"])
        }
    }

    func testTracepointIsSaidToBeUnsupported() throws {
        try assertRecordRejects(["-e", "sched:sched_switch"], in: RecordingWorkspace(for: self),
                                contains: ["tracepoints are not supported", "'sched:sched_switch'"])
    }
}
