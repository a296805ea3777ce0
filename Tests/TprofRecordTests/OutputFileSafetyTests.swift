import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// The recorder's output file: only a regular file (or a symlink itself) is ever replaced, and only once the
/// command runs; two recorders never write one file; a file lost during recording is reported, never a success;
/// no stale -wal is ever paired with the new file; the default output keeps the previous one as tprof.db.old.
final class OutputFileSafetyTests: XCTestCase {
    /// Asserts a refusal (one line containing `texts`, non-zero exit), that every file in `untouched` is exactly
    /// as it was, and that no temporary file or SQLite side file was left beside `output`.
    private func assertRefused(_ result: ProcessResult, output: String, untouched: [String: FileFingerprint],
                               contains texts: [String], file: StaticString = #filePath, line: UInt = #line) {
        assertOneLineError(result, file: file, line: line)
        for text in texts {
            XCTAssertTrue(result.stderr.contains(text), "stderr lacks '\(text)'\n\(result.summary)", file: file,
                          line: line)
        }
        assertUntouched(untouched, file: file, line: line)
        assertNoFile(RecordingOutput.temporaryPath(for: BytePath(output)).description, file: file, line: line)
    }

    private func assertUntouched(_ files: [String: FileFingerprint], file: StaticString = #filePath,
                                 line: UInt = #line) {
        for (path, before) in files {
            XCTAssertEqual(try? FileFingerprint(path), before, "\(path) was changed", file: file, line: line)
        }
    }

    private func fingerprints(_ paths: String...) throws -> [String: FileFingerprint] {
        var result: [String: FileFingerprint] = [:]
        for path in paths { result[path] = try FileFingerprint(path) }
        return result
    }

    // MARK: Item 3: --force replaces a regular file or a symlink, nothing else

    func testForceRefusesDevicesFIFOsDirectoriesAndSockets() throws {
        let workspace = try RecordingWorkspace(for: self)
        let device = workspace.file("full")
        // The device number of /dev/full, makedev(1, 7) (a macro Swift cannot import).
        XCTAssertEqual(mknod(device, S_IFCHR | 0o666, dev_t(1 << 8 | 7)), 0,
                       "mknod: \(String(cString: strerror(errno)))")
        let fifo = workspace.file("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let directory = workspace.file("directory")
        XCTAssertEqual(mkdir(directory, 0o755), 0)
        let socketPath = workspace.file("socket")
        let socketFD = try bindUnixSocket(at: socketPath)
        defer { close(socketFD) }

        for (path, kind) in [(device, "character device"), (fifo, "FIFO"), (directory, "directory"),
                             (socketPath, "socket")] {
            let before = try fingerprints(path)
            for force in [true, false] {
                let result = try Tool.record.run(["-q"] + (force ? ["--force"] : []) + ["-o", path, "--", "true"])
                assertRefused(result, output: path, untouched: before, contains: [path, kind, "regular file"])
            }
        }
    }

    // MARK: Item 4: the old recording stays until the command runs; never the command itself

    func testForceKeepsTheOldFileWhenTheCommandCannotStart() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("old.db")
        try Data("the old recording\n".utf8).write(to: URL(fileURLWithPath: output))
        try Data("its write-ahead log\n".utf8).write(to: URL(fileURLWithPath: output + "-wal"))
        let before = try fingerprints(output, output + "-wal")
        let script = workspace.file("script")
        try "#!/nonexistent/interpreter\n".write(toFile: script, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(script, 0o755), 0)
        let notExecutable = workspace.file("not-executable")
        try "#!/bin/sh\ntrue\n".write(toFile: notExecutable, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(notExecutable, 0o644), 0)

        // Exit statuses as shells give them: 127 when exec finds no file (here the interpreter), 126 when the file
        // is there but cannot be run.
        for (command, status) in [(script, 127), (workspace.directory.path + "/", 126), (notExecutable, 126)] {
            let result = try Tool.record.run(["-q", "--force", "-o", output, "--", command])

            assertRefused(result, output: output, untouched: before, contains: [command])
            XCTAssertEqual(result.status, Int32(status), result.summary)
            assertNoFile(output + "-shm")
        }
    }

    func testOutputThatIsTheCommandsOwnExecutableIsRefused() throws {
        let workspace = try RecordingWorkspace(for: self)
        let program = try workspace.spin(named: "prog")
        let before = try fingerprints(program)

        let byPath = try Tool.record.run(["-q", "--force", "-o", program, "--", program, "0.1"])
        assertRefused(byPath, output: program, untouched: before, contains: [program, "executable"])
        let relative = try Tool.record.run(["-q", "--force", "-o", "prog", "--", "./prog", "0.1"],
                                           currentDirectory: workspace.directory.path)
        assertRefused(relative, output: program, untouched: before, contains: ["prog", "executable"])
    }

    // MARK: Item 5: two recorders never write one file; a lost file is never a success

    func testSecondRecorderRefusesAFileTheFirstIsWriting() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("shared.db")
        let first = try LongRecording(workspace, output: output)

        let second = try Tool.record.run(["-q", "--force", "-o", output, "--", "true"])

        assertOneLineError(second, contains: output, "being written by another tprof-record")
        first.recorder.send(SIGINT)
        let result = try first.recorder.waitForExit(timeout: 30)
        XCTAssertEqual(result.status, 128 + SIGINT, result.summary)
        XCTAssertFalse(result.stderr.contains("during recording"), result.summary)
        try assertConsistentRecording(Database(path: output), status: "interrupted")
        XCTAssertGreaterThan(try Database(path: output).scalarInt("SELECT COUNT(*) FROM samples"), 0)
    }

    /// A recorder still under its temporary name holds the claim on it; a temporary file nobody holds is a killed
    /// recorder's leftover, refused by name and kept.
    func testTemporaryFileOfAnotherRecorderOrALeftoverIsRefusedAndKept() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("pending.db")
        let temporary = RecordingOutput.temporaryPath(for: BytePath(output)).description
        try Data("another recorder's schema\n".utf8).write(to: URL(fileURLWithPath: temporary))
        let before = try fingerprints(temporary)

        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        XCTAssertTrue(RecorderClaim.take(fd: fd))
        let whileHeld = try Tool.record.run(["-q", "--force", "-o", output, "--", "true"])
        assertOneLineError(whileHeld, contains: output, "being written by another tprof-record")
        close(fd)

        let leftover = try Tool.record.run(["-q", "--force", "-o", output, "--", "true"])
        assertOneLineError(leftover, contains: temporary, "killed")
        assertUntouched(before)
        assertNoFile(output)
    }

    func testOutputRemovedDuringRecordingIsAFailureNotASuccess() throws {
        try assertLossReported(change: { output, _ in XCTAssertEqual(unlink(output), 0) },
                               contains: ["was removed during recording", "lost"])
    }

    func testOutputReplacedDuringRecordingIsAFailureNotASuccess() throws {
        try assertLossReported(change: { output, workspace in
            let other = workspace.file("other")
            try Data("someone else's file\n".utf8).write(to: URL(fileURLWithPath: other))
            XCTAssertEqual(rename(other, output), 0)
        }, contains: ["was replaced by another file during recording", "lost"])
    }

    func testOutputMovedDuringRecordingSaysWhereTheSamplesAre() throws {
        let workspace = try RecordingWorkspace(for: self)
        let moved = workspace.file("moved.db")
        try assertLossReported(in: workspace, change: { output, _ in XCTAssertEqual(rename(output, moved), 0) },
                               contains: ["was moved away during recording", "another name"])
        try assertConsistentRecording(Database(path: moved), status: "interrupted")
    }

    /// Records a long spin, applies `change` to the output once the command runs, stops the recorder, and asserts
    /// a non-zero exit that says what happened instead of `wrote N samples`.
    private func assertLossReported(in given: RecordingWorkspace? = nil,
                                    change: (String, RecordingWorkspace) throws -> Void, contains texts: [String],
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let workspace = try given ?? RecordingWorkspace(for: self)
        let output = workspace.file("lost.db")
        let recording = try LongRecording(workspace, output: output, quiet: false)
        try change(output, workspace)
        recording.recorder.send(SIGINT)
        let result = try recording.recorder.waitForExit(timeout: 30)

        assertNoCrash(result, file: file, line: line)
        XCTAssertNotEqual(result.status, 0, result.summary, file: file, line: line)
        for text in [output] + texts {
            XCTAssertTrue(result.stderr.contains(text), "stderr lacks '\(text)'\n\(result.summary)", file: file,
                          line: line)
        }
        XCTAssertFalse(result.stderr.contains("wrote "), "no success summary\n\(result.summary)", file: file,
                       line: line)
    }

    // MARK: Item 7: a stale -wal or -shm is never paired with the new file

    func testStaleWALAndSHMBesideANewOutputAreNeverReplayed() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("fresh.db")
        try writeForeignWAL(beside: output, workspace: workspace)
        // A -wal without its database may hold the last transactions of one moved away: refused, and kept.
        let before = try fingerprints(output + "-wal", output + "-shm")
        let refused = try Tool.record.run(["-q", "-o", output, "--", "true"])
        assertRefused(refused, output: output, untouched: before, contains: [output + "-wal", "--force"])
        assertNoFile(output)

        let result = try Tool.record.run(["-q", "--force", "-o", output, "--", "true"])

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        assertNoFile(output + "-wal")
        assertNoFile(output + "-shm")
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok")
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 'foreign_rows'"), 0,
                       "the stale -wal was replayed into the new database")
        try assertConsistentRecording(database, status: "complete")
    }

    /// With --force over a killed recording, its -wal goes with it: never replayed into the new file.
    func testForceOverAFileWithAWALNeverPairsTheOldWALWithTheNewFile() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("replaced.db")
        try writeForeignWAL(beside: output, workspace: workspace, withDatabase: true)

        let result = try Tool.record.run(["-q", "--force", "-o", output, "--", "true"])

        XCTAssertEqual(result.status, 0, result.summary)
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarText("PRAGMA integrity_check"), "ok")
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 'foreign_rows'"), 0)
        try assertConsistentRecording(database, status: "complete")
    }

    /// Leaves at `path`-wal and `path`-shm the side files of another database whose rows are only in its WAL (and,
    /// with `withDatabase`, that database itself at `path`).
    private func writeForeignWAL(beside path: String, workspace: RecordingWorkspace,
                                 withDatabase: Bool = false) throws {
        let foreign = workspace.file("foreign.db")
        let connection = try SQLiteDatabase(path: foreign, mode: .create)
        try connection.execute("""
            PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
            CREATE TABLE foreign_rows (x); INSERT INTO foreign_rows VALUES (1), (2), (3);
            """)
        for suffix in (withDatabase ? [""] : []) + ["-wal", "-shm"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: foreign + suffix))
            try bytes.write(to: URL(fileURLWithPath: path + suffix))
        }
        withExtendedLifetime(connection) {}
    }

    // MARK: Item 15: the default output keeps the previous recording as tprof.db.old

    func testDefaultOutputKeepsThePreviousRecordingAsOld() throws {
        let workspace = try RecordingWorkspace(for: self)
        let current = workspace.file("tprof.db")
        let old = workspace.file("tprof.db.old")
        var inodes: [UInt64] = []
        for run in 0..<3 {
            let result = try Tool.record.run(["-q", "--", "true"], currentDirectory: workspace.directory.path)
            XCTAssertEqual(result.status, 0, "run \(run): \(result.summary)")
            assertNoFile(current + "-wal")
            inodes.append(try FileFingerprint(current).inode)
            try assertConsistentRecording(Database(path: current), status: "complete")
            if run > 0 {
                XCTAssertEqual(try FileFingerprint(old).inode, inodes[run - 1], "run \(run): the previous is .old")
                try assertConsistentRecording(Database(path: old), status: "complete")
            }
        }

        // An explicit -o is refused as before.
        let explicit = try Tool.record.run(["-q", "-o", "tprof.db", "--", "true"],
                                           currentDirectory: workspace.directory.path)
        assertOneLineError(explicit, contains: "already exists", "--force")

        // A .old that is not a regular file is never replaced: refused, and nothing moved.
        XCTAssertEqual(unlink(old), 0)
        XCTAssertEqual(mkdir(old, 0o755), 0)
        let before = try fingerprints(current, old)
        let refused = try Tool.record.run(["-q", "--", "true"], currentDirectory: workspace.directory.path)
        assertRefused(refused, output: current, untouched: before, contains: ["tprof.db.old", "regular file"])
    }

    /// The previous recording's -wal moves with it to .old, so a killed recording stays readable there.
    func testPreviousRecordingKeepsItsWALAsOld() throws {
        let workspace = try RecordingWorkspace(for: self)
        let current = workspace.file("tprof.db")
        try writeForeignWAL(beside: current, workspace: workspace, withDatabase: true)

        let result = try Tool.record.run(["-q", "--", "true"], currentDirectory: workspace.directory.path)

        XCTAssertEqual(result.status, 0, result.summary)
        try assertConsistentRecording(Database(path: current), status: "complete")
        let old = workspace.file("tprof.db.old")
        let previous = try SQLiteDatabase(path: old, mode: .readOnly)
        XCTAssertEqual(try previous.scalarInt("SELECT COUNT(*) FROM foreign_rows"), 3,
                       "the rows only in the previous file's -wal are still there")
    }
}

/// A recorder writing `output` with a 30 s spin, once its command runs and SQLite has the output open in place.
private struct LongRecording {
    let recorder: ChildProcess

    init(_ workspace: RecordingWorkspace, output: String, quiet: Bool = true) throws {
        let name = RecordingWorkspace.uniqueName("out")
        let spin = try workspace.spin(named: name)
        recorder = try Tool.record.start((quiet ? ["-q"] : []) + ["-o", output, "--", spin, "30"])
        // The -wal exists once SQLite has opened the output in place (a move in the instant between the rename and
        // that open is a failure to start, not a loss during recording).
        let started = Processes.waitUntil(timeout: 20) {
            var info = stat()
            return !Processes.alive(named: name).isEmpty && lstat(output + "-wal", &info) == 0
        }
        guard started else {
            recorder.send(SIGKILL)
            throw TestSupportError("the recorded spin program did not start\n"
                + (recorder.wait(timeout: 5)?.summary ?? ""))
        }
    }
}

/// A Unix socket bound at `path`; returns its descriptor.
private func bindUnixSocket(at path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
        throw TestSupportError("socket path too long: \(path)")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { buffer in
        for (index, byte) in bytes.enumerated() { buffer[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0 else { throw TestSupportError("bind \(path): \(String(cString: strerror(errno)))") }
    return fd
}
