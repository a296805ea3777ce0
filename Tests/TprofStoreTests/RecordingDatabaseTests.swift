import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// RecordingDatabase creates a private new file with the schema, and never overwrites or follows a link unasked.
final class RecordingDatabaseTests: XCTestCase {
    func testNewDatabaseIsPrivateAndCarriesSchemaVersionAndApplicationID() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let path = directory.file("new.db")

        let database = try RecordingDatabase(creating: path, force: false)

        XCTAssertEqual(permissionBits(of: path), 0o600)
        XCTAssertEqual(try database.connection.scalarInt("PRAGMA user_version"),
                       Int64(RecordingDatabase.schemaVersion))
        XCTAssertEqual(try database.connection.scalarInt("PRAGMA application_id"), Int64(tprofApplicationID))
        XCTAssertEqual(try database.connection.scalarInt("SELECT COUNT(*) FROM modes"), 6)
        let reader = try Database(path: path)
        XCTAssertEqual(try reader.scalarInt("PRAGMA user_version"), Int64(RecordingDatabase.schemaVersion))
        XCTAssertEqual(try reader.scalarText("PRAGMA journal_mode"), "wal")
    }

    /// pid 0 (the idle task) has no COMM record and no /proc entry: finishing names it swapper, as perf does, and
    /// leaves other processes' names alone.
    func testFinishingNamesTheIdleTaskSwapper() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let database = try RecordingDatabase(creating: directory.file("idle.db"), force: false)
        try database.connection.execute("""
            INSERT INTO sample_counts (pid, tid, cpu, event, mode, pc, stack_id, samples, period)
            VALUES (0, 0, 0, 0, 1, 4096, 0, 5, 5), (0, 0, 1, 0, 1, 4096, 0, 3, 3), (42, 43, 0, 0, 2, 8192, 0, 1, 1);
            """)

        try database.finish(RunOutcome(status: .complete, reason: nil, endTimeNs: 0, durationNs: 0, exitStatus: nil,
                                       exitSignal: nil, eventTotals: []), samplesPerEvent: [])

        XCTAssertEqual(try database.connection.scalarText("SELECT comm FROM processes WHERE pid = 0"), "swapper")
        XCTAssertEqual(try database.connection.scalarText("SELECT comm FROM threads WHERE tid = 0"), "swapper")
        XCTAssertNil(try database.connection.scalarText("SELECT comm FROM processes WHERE pid = 42"))
    }

    /// The writer applies COMM records in the order the CPUs' buffers reach it; finishing names each thread and
    /// process after its latest record by time (here an exec written before the older prctl name).
    func testFinishingNamesThreadsByTheirLatestCommRecord() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let database = try RecordingDatabase(creating: directory.file("comm.db"), force: false)
        try database.connection.execute("""
            INSERT INTO comm_records (time, pid, tid, comm, exec, source) VALUES
                (200, 7, 7, 'pltcaller', 1, 'kernel'), (100, 7, 7, 'perf-exec', 0, 'kernel'),
                (150, 7, 8, 'worker', 0, 'kernel');
            INSERT INTO threads (tid, pid, comm) VALUES (7, 7, 'perf-exec'), (8, 7, 'worker');
            INSERT INTO processes (pid, comm) VALUES (7, 'perf-exec');
            """)

        try database.finish(RunOutcome(status: .complete, reason: nil, endTimeNs: 0, durationNs: 0, exitStatus: nil,
                                       exitSignal: nil, eventTotals: []), samplesPerEvent: [])

        XCTAssertEqual(try database.connection.scalarText("SELECT comm FROM processes WHERE pid = 7"), "pltcaller")
        XCTAssertEqual(try database.connection.scalarText("SELECT comm FROM threads WHERE tid = 7"), "pltcaller")
        XCTAssertEqual(try database.connection.scalarText("SELECT comm FROM threads WHERE tid = 8"), "worker")
    }

    func testExistingFileIsRefusedAndLeftUnchanged() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let path = directory.file("existing.db")
        try "keep me".write(toFile: path, atomically: false, encoding: .utf8)

        XCTAssertThrowsError(try RecordingDatabase(creating: path, force: false)) { error in
            XCTAssertEqual(error as? OutputError, .exists(BytePath(path)))
            XCTAssertTrue("\(error)".contains("--force"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "keep me")
    }

    func testForceReplacesTheFileAndItsStaleWAL() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let path = directory.file("replaced.db")
        try "old contents".write(toFile: path, atomically: false, encoding: .utf8)
        try "stale wal".write(toFile: path + "-wal", atomically: false, encoding: .utf8)
        try "stale shm".write(toFile: path + "-shm", atomically: false, encoding: .utf8)

        let database = try RecordingDatabase(creating: path, force: true)

        XCTAssertEqual(permissionBits(of: path), 0o600)
        XCTAssertEqual(try database.connection.scalarInt("PRAGMA user_version"),
                       Int64(RecordingDatabase.schemaVersion))
        XCTAssertEqual(try database.connection.scalarText("PRAGMA integrity_check"), "ok")
    }

    func testSymlinkIsNeverFollowed() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let target = directory.file("target.txt")
        let link = directory.file("link.db")
        try "precious".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)

        XCTAssertThrowsError(try RecordingDatabase(creating: link, force: false)) { error in
            XCTAssertEqual(error as? OutputError, .exists(BytePath(link)))
        }
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "precious")

        _ = try RecordingDatabase(creating: link, force: true)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "precious",
                       "--force replaces the link, not the file it points to")
        let attributes = try FileManager.default.attributesOfItem(atPath: link)
        XCTAssertEqual(attributes[.type] as? FileAttributeType, .typeRegular)
    }

    func testDanglingSymlinkDoesNotCreateItsTarget() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let target = directory.file("elsewhere.db")
        let link = directory.file("dangling.db")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)

        XCTAssertThrowsError(try RecordingDatabase(creating: link, force: false)) { error in
            XCTAssertEqual(error as? OutputError, .exists(BytePath(link)))
        }
        assertNoFile(target)
    }

    func testMissingDirectoryIsReportedAsNotWritable() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store")
        let path = directory.file("no-such-dir/x.db")

        XCTAssertThrowsError(try RecordingDatabase(creating: path, force: false)) { error in
            XCTAssertEqual(error as? OutputError, .notWritable(BytePath(path), errno: ENOENT))
            XCTAssertTrue("\(error)".contains("No such file or directory"), "\(error)")
        }
    }
}

extension SQLiteDatabase {
    /// The first column of the first row as text.
    func scalarText(_ sql: String) throws -> String? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }
}
