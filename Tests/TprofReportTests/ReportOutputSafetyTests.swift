import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// Report outputs (`--flamegraph`, `--pprof`, `--speedscope`, `--timeline FILE.svg`, `--timeline-svg`) never
/// destroy what the user owns: never a database the report reads, never an existing file without --force, never
/// through a symlink, never anything but a regular file; they appear whole (mode 0600) or not at all.
final class ReportOutputSafetyTests: XCTestCase {
    /// Each way to name an output file, as the arguments that write `path`.
    static let outputFlags: [(name: String, arguments: (String) -> [String])] = [
        ("--flamegraph", { ["--flamegraph", $0] }),
        ("--pprof", { ["--pprof", $0] }),
        ("--speedscope", { ["--speedscope", $0] }),
        ("--timeline-svg", { ["--timeline-svg", $0] }),
        ("--timeline FILE.svg", { ["--timeline", $0] }),
    ]

    /// A copy of the real recording named `name` (ending in .svg, so that `--timeline NAME` takes it as the chart).
    private func database(_ name: String, in directory: TemporaryDirectory) throws -> String {
        try copyDatabase(try Fixtures.get().real, to: directory, as: name)
    }

    /// Runs tprof-report and asserts that it refused with one line holding every one of `texts`, printed nothing,
    /// and left each of `kept` as it was (its bytes, and no new name beside it: neither output nor temporary file).
    private func assertRefused(_ arguments: [String], contains texts: [String], keeping kept: [String],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let before = kept.map { FileState(of: $0) }
        let result = try runReport(arguments)
        let context = "tprof-report \(arguments.joined(separator: " "))"
        assertOneLineError(result, file: file, line: line)
        XCTAssertEqual(result.stdout, "", "\(context)\n\(result.summary)", file: file, line: line)
        for text in texts {
            XCTAssertTrue(result.stderr.contains(text), "\(context): stderr lacks '\(text)'\n\(result.summary)",
                          file: file, line: line)
        }
        XCTAssertEqual(kept.map { FileState(of: $0) }, before, "\(context) changed a file or left one beside it",
                       file: file, line: line)
    }

    /// Runs tprof-report, expecting success and the output at `path`: a regular file of mode 0600, alone beside
    /// `neighbours` (no temporary file left).
    private func assertWritten(_ arguments: [String], output path: String, neighbours: [String],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runReport(arguments)
        assertNoCrash(result, file: file, line: line)
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0, "no output at \(path)", file: file, line: line)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG, "\(path) is not a regular file", file: file, line: line)
        XCTAssertEqual(permissionBits(of: path), 0o600, file: file, line: line)
        XCTAssertGreaterThan(info.st_size, 100, "\(path) is nearly empty", file: file, line: line)
        XCTAssertEqual(FileState(of: path).neighbours, neighbours.sorted(), file: file, line: line)
    }

    func testAnOutputIsNeverADatabaseTheReportReads() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output-input")
        let db = try database("run.svg", in: directory)
        let base = try database("base.svg", in: directory)
        XCTAssertEqual(symlink(db, directory.file("link.svg")), 0)
        XCTAssertEqual(link(db, directory.file("hard.svg")), 0)
        for (name, output) in Self.outputFlags {
            for force in [[], ["--force"]] {
                for target in [db, directory.file("link.svg"), directory.file("hard.svg")] {
                    try assertRefused([db] + output(target) + force, contains: ["refusing to write", target],
                                      keeping: [db, base])
                }
                if name == "--flamegraph" {
                    // The --diff base is read too.
                    try assertRefused([db, "--diff", base] + output(base) + force, contains: ["refusing to write"],
                                      keeping: [db, base])
                }
            }
        }
    }

    func testTheWriteAheadLogOfAnUnfinishedDatabaseIsNeverAnOutput() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output-wal")
        let db = try copyDatabase(try Fixtures.get().synthetic, to: directory, as: "live.db")
        let writer = try SQLiteDatabase(path: db, mode: .readWrite)
        try writer.execute("PRAGMA wal_autocheckpoint = 0; UPDATE run SET status = 'recording';")
        for (_, output) in Self.outputFlags.prefix(3) {
            try assertRefused([db] + output(db + "-wal") + ["--force"], contains: ["refusing to write", "-wal"],
                              keeping: [db + "-wal", db])
        }
        withExtendedLifetime(writer) {}
    }

    func testAnExistingFileIsReplacedOnlyWithForce() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output-existing")
        let db = try database("run.db", in: directory)
        let existing = directory.file("old.svg")
        for (_, output) in Self.outputFlags {
            try "precious\n".write(toFile: existing, atomically: false, encoding: .utf8)
            try assertRefused([db] + output(existing), contains: ["already exists", "--force"], keeping: [existing])
            try assertWritten([db] + output(existing) + ["--force"], output: existing,
                              neighbours: ["run.db", "old.svg"])
        }
    }

    func testASymlinkIsNeverFollowed() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output-symlink")
        let db = try database("run.db", in: directory)
        let target = directory.file("target.txt")
        let link = directory.file("link.svg")
        let dangling = directory.file("dangling.svg")
        for (_, output) in Self.outputFlags {
            try "precious\n".write(toFile: target, atomically: false, encoding: .utf8)
            unlink(link)
            unlink(dangling)
            XCTAssertEqual(symlink(target, link), 0)
            XCTAssertEqual(symlink(directory.file("nowhere.txt"), dangling), 0)
            try assertRefused([db] + output(link), contains: ["already exists", "symbolic link"],
                              keeping: [target, link])
            try assertRefused([db] + output(dangling), contains: ["already exists"], keeping: [target, dangling])
            // --force replaces the link itself; its target keeps its bytes, and a dangling link's target never appears.
            try assertWritten([db] + output(link) + ["--force"], output: link,
                              neighbours: ["run.db", "target.txt", "link.svg", "dangling.svg"])
            XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "precious\n")
            try assertWritten([db] + output(dangling) + ["--force"], output: dangling,
                              neighbours: ["run.db", "target.txt", "link.svg", "dangling.svg"])
            assertNoFile(directory.file("nowhere.txt"))
        }
    }

    func testForceNeverReplacesWhatIsNotARegularFile() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output-special")
        let db = try database("run.db", in: directory)
        let fifo = directory.file("fifo.svg")
        let device = directory.file("null.svg")
        let folder = directory.file("folder.svg")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        var null = stat()
        XCTAssertEqual(stat("/dev/null", &null), 0)
        XCTAssertEqual(mknod(device, S_IFCHR | 0o666, null.st_rdev), 0, "mknod (the tests run as root)")
        XCTAssertEqual(mkdir(folder, 0o755), 0)
        for (_, output) in Self.outputFlags {
            for (path, type) in [(fifo, S_IFIFO), (device, S_IFCHR), (folder, S_IFDIR)] {
                try assertRefused([db] + output(path) + ["--force"], contains: ["not a regular file"],
                                  keeping: [db])
                var info = stat()
                XCTAssertEqual(lstat(path, &info), 0)
                XCTAssertEqual(info.st_mode & S_IFMT, type, "\(path) was replaced")
            }
        }
    }

    /// Mode 0600 whatever the umask, and nothing beside the output.
    func testTheOutputIsPrivateWhateverTheUmask() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output-umask")
        let db = try database("run.db", in: directory)
        for (index, (name, output)) in Self.outputFlags.enumerated() {
            let path = directory.file("out\(index).svg")
            let result = try ChildProcess.run("/bin/sh", ["-c", "umask 000; exec \"$@\"", "sh",
                                                          try Tool.report.path(), db] + output(path), timeout: 60)
            XCTAssertEqual(result.status, 0, "\(name): \(result.summary)")
            XCTAssertEqual(permissionBits(of: path), 0o600, name)
        }
        XCTAssertEqual(FileState(of: db).neighbours,
                       (["run.db"] + (0..<Self.outputFlags.count).map { "out\($0).svg" }).sorted())
    }

    /// A write that fails (the disk is full) leaves neither a half file nor the temporary one, and an existing file
    /// as it was, even with --force.
    func testAFailedWriteLeavesNoHalfFile() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output-failure")
        let db = try database("run.db", in: directory)
        let full = try mountSmallFileSystem(size: "64k")
        let existing = full + "/existing.svg"
        try "precious\n".write(toFile: existing, atomically: false, encoding: .utf8)
        let filler = open(full + "/filler", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        XCTAssertGreaterThanOrEqual(filler, 0)
        let block = [UInt8](repeating: 0x55, count: 4096)
        while write(filler, block, block.count) > 0 {}
        close(filler)
        for (name, output) in Self.outputFlags {
            for (path, force) in [(full + "/new.svg", [String]()), (existing, ["--force"])] {
                try assertRefused([db] + output(path) + force, contains: ["cannot write \(path)"], keeping: [existing])
                XCTAssertEqual(FileState(of: existing).neighbours, ["existing.svg", "filler"], name)
            }
        }
    }

    func testADashWritesToStandardOutput() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output-stdout")
        let db = try database("run.db", in: directory)
        let svg = try runReport([db, "--flamegraph", "-"])
        XCTAssertEqual(svg.status, 0, svg.summary)
        XCTAssertTrue(svg.stdout.contains("<svg") && svg.stdout.contains("</svg>"), String(svg.stdout.prefix(300)))
        let json = try runReport([db, "--speedscope", "-"])
        XCTAssertEqual(json.status, 0, json.summary)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)), json.summary)
        let timeline = try runReport([db, "--timeline-svg", "-"])
        XCTAssertTrue(timeline.stdout.contains("</svg>"), timeline.summary)
        XCTAssertEqual(FileState(of: db).neighbours, ["run.db"], "a file was created for '-'")
    }
}
