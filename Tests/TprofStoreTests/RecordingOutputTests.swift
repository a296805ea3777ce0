import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// RecordingOutput: the recording stays under its temporary name until it is published; publishing replaces or
/// keeps the previous file with its -wal, never pairs a stale side file with the new file; SQLite must open the
/// file created; a lost output is told apart.
final class RecordingOutputTests: XCTestCase {
    private func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    func testUnpublishedRecordingLeavesTheExistingFileAndItsWALAsTheyWere() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output")
        let path = directory.file("run.db")
        try write("old recording", to: path)
        try write("old wal", to: path + "-wal")
        let before = try [FileFingerprint(path), FileFingerprint(path + "-wal")]

        let output = try RecordingOutput(creating: BytePath(path), existing: .replace)
        try RecordingDatabase.prepare(output)

        XCTAssertEqual(permissionBits(of: output.temporaryPath.description), 0o600)
        XCTAssertEqual(try [FileFingerprint(path), FileFingerprint(path + "-wal")], before)
        for suffix in ["-wal", "-shm", "-journal"] { assertNoFile(output.temporaryPath.description + suffix) }
        output.discard()
        assertNoFile(output.temporaryPath.description)
        XCTAssertEqual(try [FileFingerprint(path), FileFingerprint(path + "-wal")], before)
    }

    func testPublishKeepsThePreviousFileWithItsWALAsOldAndDropsTheOlderOne() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output")
        let path = directory.file("tprof.db")
        let old = RecordingOutput.oldPath(for: BytePath(path)).description
        try write("previous", to: path)
        try write("previous wal", to: path + "-wal")
        try write("older", to: old)
        try write("older wal", to: old + "-wal")
        let previous = try FileFingerprint(path)

        let output = try RecordingOutput(creating: BytePath(path), existing: .keepAsOld)
        try RecordingDatabase.prepare(output)
        try output.publish()
        let database = try RecordingDatabase(opening: output)

        XCTAssertEqual(try FileFingerprint(old).inode, previous.inode)
        XCTAssertEqual(contents(old + "-wal"), "previous wal")
        XCTAssertEqual(try database.connection.scalarText("PRAGMA integrity_check"), "ok")
        XCTAssertNil(output.loss)
    }

    func testPublishRemovesOrphanSideFilesSoSQLiteNeverPairsThemWithTheNewFile() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output")
        let path = directory.file("orphans.db")
        for suffix in ["-wal", "-shm", "-journal"] {
            try write(String(repeating: "stale \(suffix) ", count: 1000), to: path + suffix)
        }
        // Unasked, a -wal or -journal with content is refused and kept: it may belong to a database moved away.
        for policy in [ExistingOutputPolicy.refuse, .keepAsOld] {
            XCTAssertThrowsError(try RecordingOutput(creating: BytePath(path), existing: policy)) { error in
                XCTAssertEqual(error as? OutputError, .orphanJournal(BytePath(path + "-wal")))
            }
        }
        XCTAssertEqual(contents(path + "-wal")?.hasPrefix("stale"), true)

        let output = try RecordingOutput(creating: BytePath(path), existing: .replace)
        try RecordingDatabase.prepare(output)
        try output.publish()
        let database = try RecordingDatabase(opening: output)

        XCTAssertEqual(try database.connection.scalarText("PRAGMA integrity_check"), "ok")
        XCTAssertEqual(try database.connection.scalarInt("PRAGMA user_version"), Int64(RecordingDatabase.schemaVersion))
        XCTAssertNotEqual(contents(path + "-wal")?.hasPrefix("stale"), true)
        assertNoFile(path + "-journal")
    }

    func testSQLiteMustOpenTheFileThatWasCreated() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output")
        let path = directory.file("swapped.db")
        let output = try RecordingOutput(creating: BytePath(path), existing: .refuse)
        let intruder = directory.file("intruder")
        try write("someone else's file", to: intruder)
        XCTAssertEqual(rename(intruder, output.temporaryPath.description), 0)

        XCTAssertThrowsError(try RecordingDatabase.prepare(output)) { error in
            XCTAssertEqual(error as? OutputError, .openedAnotherFile(output.temporaryPath))
        }
        XCTAssertEqual(contents(output.temporaryPath.description), "someone else's file",
                       "never written, never removed")
    }

    func testPublishRefusesAFileAnotherRecorderClaimedMeanwhile() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output")
        let path = directory.file("raced.db")
        let output = try RecordingOutput(creating: BytePath(path), existing: .replace)
        try RecordingDatabase.prepare(output)
        try write("another recorder's file", to: path)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        XCTAssertTrue(RecorderClaim.take(fd: fd))

        XCTAssertThrowsError(try output.publish()) { error in
            XCTAssertEqual(error as? OutputError, .beingWritten(BytePath(path)))
        }
        XCTAssertEqual(contents(path), "another recorder's file")
        output.discard()
        assertNoFile(output.temporaryPath.description)
        XCTAssertEqual(contents(path), "another recorder's file")
    }

    func testLossTellsMovedFromRemovedAndReplaced() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-output")
        let path = directory.file("lost.db")
        let moved = directory.file("moved.db")
        let output = try RecordingOutput(creating: BytePath(path), existing: .refuse)
        try RecordingDatabase.prepare(output)
        try output.publish()
        XCTAssertNil(output.loss)

        XCTAssertEqual(rename(path, moved), 0)
        XCTAssertEqual(output.loss, .moved)
        try write("another file", to: path)
        XCTAssertEqual(output.loss, .moved, "the recording is still in moved.db")
        XCTAssertEqual(unlink(moved), 0)
        XCTAssertEqual(output.loss, .replaced)
        XCTAssertEqual(unlink(path), 0)
        XCTAssertEqual(output.loss, .removed)
    }
}
