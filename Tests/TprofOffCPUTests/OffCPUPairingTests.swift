import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// The intervals are paired while recording, from records that reach the writer in time order per CPU only.
final class OffCPUPairingTests: XCTestCase {
    /// Blocking reads of a thread that is moved to the other CPU while it waits: it leaves one CPU and comes back
    /// on the other, each time. Prints the rounds it came back on another CPU and the nanoseconds it waited.
    static let migratingSource = #"""
        #define _GNU_SOURCE
        #include <pthread.h>
        #include <sched.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>
        #include <unistd.h>
        #include <sys/syscall.h>

        enum { ROUNDS = 200 };
        static int fds[2];
        static volatile pid_t sleeper_tid;
        static long long waited_ns;
        static int migrations;

        static long long now_ns(void) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            return t.tv_sec * 1000000000LL + t.tv_nsec;
        }

        static void *sleeper(void *unused) {
            sleeper_tid = syscall(SYS_gettid);
            char c;
            for (int i = 0; i < ROUNDS; i++) {
                int before = sched_getcpu();
                long long start = now_ns();
                if (read(fds[0], &c, 1) != 1) exit(3);
                waited_ns += now_ns() - start;
                if (sched_getcpu() != before) migrations++;
            }
            return NULL;
        }

        int main(void) {
            if (pipe(fds)) return 2;
            pthread_t thread;
            pthread_create(&thread, NULL, sleeper, NULL);
            while (!sleeper_tid) sched_yield();
            for (int i = 0; i < ROUNDS; i++) {
                usleep(1000);
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(i % 2, &set);
                // Moved while it waits in read: it wakes on the other CPU.
                if (sched_setaffinity(sleeper_tid, sizeof set, &set)) return 4;
                usleep(1000);
                if (write(fds[1], "x", 1) != 1) return 5;
            }
            pthread_join(thread, NULL);
            printf("%d %lld %d\n", migrations, waited_ns, (int)sleeper_tid);
            return 0;
        }
        """#

    /// `tprof-record --off-cpu -g` of the migrating program into `directory`'s `migrating.db`; what it printed.
    private func recordMigrating(in directory: TemporaryDirectory) throws -> (database: String, stdout: String) {
        let program = try compileC(source: Self.migratingSource, name: "migrating", flags: ["-pthread"],
                                   in: directory)
        let database = directory.file("migrating.db")
        let result = try Tool.record.run(["--off-cpu", "-g", "-q", "-o", database, "--", program], timeout: 60)
        XCTAssertEqual(result.status, 0, result.summary)
        return (database, result.stdout)
    }

    func testAThreadMovedToAnotherCPUWhileItWaitsHasEveryInterval() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-offcpu-migrating")
        defer { directory.remove() }
        let (database, stdout) = try recordMigrating(in: directory)
        let printed = stdout.split(whereSeparator: \.isWhitespace).compactMap { Int64($0) }
        XCTAssertEqual(printed.count, 3, stdout)
        let (migrations, waited, tid) = (printed[0], printed[1], printed[2])
        XCTAssertGreaterThan(migrations, 150, "the thread came back on the other CPU in most rounds")
        let db = try Database(path: database)
        // Every read waits at least a millisecond: one such interval each, from the CPU it left.
        let waits = try db.ints("SELECT cpu FROM off_cpu WHERE tid = \(tid) AND duration > 900000 ORDER BY start")
        XCTAssertEqual(waits.count, 200)
        XCTAssertEqual(Set(waits), [0, 1], "it waited on both CPUs")
        let sleeping = try db.scalarInt("SELECT sum(duration) FROM off_cpu WHERE tid = \(tid) AND state = 'sleeping'")
        XCTAssertEqual(Double(sleeping), Double(waited), accuracy: Double(waited) * 0.03)
        // The writer woke it every time, and each switch-out's sample weighs its interval.
        let main = try db.scalarInt("SELECT pid FROM threads WHERE tid = \(tid)")
        XCTAssertEqual(try db.scalarInt(
            "SELECT count(*) FROM off_cpu WHERE tid = \(tid) AND duration > 900000 AND waker_tid = \(main)"), 200)
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM off_cpu o JOIN samples s ON s.rowid = o.sample_id
            WHERE o.tid = \(tid) AND s.period = o.duration AND s.stack_id = o.stack_id AND s.time = o.start
            """), try db.scalarInt("SELECT count(*) FROM off_cpu WHERE tid = \(tid)"))
        try Self.assertCountsMatchSamples(db)
    }

    /// A thread that naps in 100 ms steps, attached with `-p` for a second: at the stop it is asleep, and off CPU
    /// from its first switch-out to the stop.
    func testAThreadAsleepAtTheStopIsOffCPUUpToIt() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-offcpu-stop")
        defer { directory.remove() }
        let program = try compileC(source: """
            #include <time.h>
            int main(void) {
                struct timespec t = { 0, 100000000 };
                for (;;) nanosleep(&t, 0);
            }
            """, name: "napper", in: directory)
        let napper = try ChildProcess(executable: program, arguments: [])
        defer {
            napper.send(SIGKILL)
            _ = napper.wait(timeout: 10)
        }
        let database = directory.file("stop.db")
        let result = try Tool.record.run(["--off-cpu", "-g", "-q", "-d", "1", "-o", database, "-p", "\(napper.pid)"])
        XCTAssertEqual(result.status, 0, result.summary)
        let db = try Database(path: database)
        XCTAssertEqual(try db.scalarInt("SELECT switches FROM off_cpu_outcomes WHERE outcome = 'off CPU at the stop'"),
                       1)
        let first = try db.scalarInt("SELECT min(start) FROM off_cpu")
        let end = try db.scalarInt("SELECT max(start + duration) FROM off_cpu")
        let duration = try db.scalarInt("SELECT duration_ns FROM run")
        XCTAssertLessThanOrEqual(end, duration)
        XCTAssertGreaterThan(end, duration - 100_000_000, "the last interval ends at the stop")
        let asleep = try db.scalarInt("SELECT sum(duration) FROM off_cpu WHERE state = 'sleeping'")
        XCTAssertEqual(Double(asleep), Double(end - first), accuracy: Double(end - first) * 0.01)
        try Self.assertCountsMatchSamples(db)
    }

    /// A schema-14 file stored every switch and wake-up and paired them when recording ended: one that never ended
    /// has them unpaired, and `--resymbolize` pairs them before the step that drops them.
    func testAnUnfinishedSchema14FileIsPairedByResymbolize() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-offcpu-schema14")
        defer { directory.remove() }
        let database = try recordMigrating(in: directory).database
        let intervals = "SELECT pid, tid, cpu, start, duration, state, stack_id, sample_id, waker_pid, waker_tid "
            + "FROM off_cpu ORDER BY start, tid"
        let paired = try Database(path: database).rows(intervals)
        XCTAssertGreaterThan(paired.count, 400)
        // As schema 14 left it before pairing: the records, no intervals, the samples with their period 1.
        let event = "(SELECT id FROM events WHERE base_name = 'off-cpu')"
        try SQLiteDatabase(path: database, mode: .readWrite).execute("""
            CREATE TABLE switch_records (time INTEGER NOT NULL, cpu INTEGER NOT NULL, pid INTEGER NOT NULL,
                tid INTEGER NOT NULL, direction TEXT NOT NULL, state TEXT);
            CREATE TABLE waking_records (time INTEGER NOT NULL, cpu INTEGER NOT NULL, waker_pid INTEGER NOT NULL,
                waker_tid INTEGER NOT NULL, tid INTEGER NOT NULL);
            INSERT INTO switch_records SELECT start, cpu, pid, tid, 'out', state FROM off_cpu;
            INSERT INTO switch_records SELECT start + duration, cpu, pid, tid, 'in', NULL FROM off_cpu;
            INSERT INTO waking_records SELECT start + duration / 2, 0, waker_pid, waker_tid, tid FROM off_cpu
                WHERE waker_tid IS NOT NULL;
            DELETE FROM off_cpu;
            DROP TABLE off_cpu_outcomes;
            UPDATE samples SET period = 1 WHERE event = \(event);
            DELETE FROM sample_counts WHERE event = \(event);
            PRAGMA user_version = 14;
            """)
        let resymbolized = try Tool.report.run(["--resymbolize", database])
        XCTAssertEqual(resymbolized.status, 0, resymbolized.summary)
        let db = try Database(path: database)
        XCTAssertEqual(try db.scalarInt("PRAGMA user_version"), Int64(RecordingDatabase.schemaVersion))
        XCTAssertEqual(try db.rows(intervals), paired)
        XCTAssertEqual(try db.scalarInt(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('switch_records', 'waking_records')"), 0)
        let periods = try db.scalarInt("SELECT sum(period) FROM samples WHERE event = \(event)")
        XCTAssertEqual(periods, try db.scalarInt("SELECT sum(duration) FROM off_cpu"))
        XCTAssertEqual(try db.scalarInt("SELECT sum(period) FROM sample_counts WHERE event = \(event)"), periods)
    }

    /// `kill -9` while a ping-pong switches all the time: what was committed holds each interval with its sample
    /// and its period, and the counters say written exactly what `samples` holds (the samples that waited in memory
    /// for their intervals were not written).
    func testKillNineKeepsEachIntervalWithItsSample() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-offcpu-kill")
        defer { directory.remove() }
        let program = try compileC(source: """
            #include <signal.h>
            #include <sys/prctl.h>
            #include <unistd.h>
            int main(void) {
                int ping[2], pong[2];
                char c = 0;
                if (pipe(ping) || pipe(pong)) return 2;
                pid_t parent = getpid();
                if (fork() == 0) {
                    // Dies with its parent, which dies with the recorder.
                    prctl(PR_SET_PDEATHSIG, SIGKILL);
                    if (getppid() != parent) _exit(5);
                    for (;;) if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1) _exit(3);
                }
                for (;;) if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) return 4;
            }
            """, name: "pingpong", in: directory)
        let database = directory.file("killed.db")
        let recorder = try Tool.record.start(["--off-cpu", "-g", "-q", "-o", database, "--", program])
        Thread.sleep(forTimeInterval: 1.5)
        recorder.send(SIGKILL)
        let result = try recorder.waitForExit(timeout: 10)
        XCTAssertEqual(result.signal, SIGKILL, result.summary)
        let db = try Database(path: database)
        XCTAssertEqual(try db.scalarText("PRAGMA integrity_check"), "ok")
        XCTAssertGreaterThan(try db.scalarInt("SELECT count(*) FROM off_cpu"), 1000)
        try Self.assertCountsMatchSamples(db, finished: false)
    }

    /// Every switch-out has one outcome, every `off-cpu` sample is written, and `sample_counts` adds them up as
    /// the samples do, without being counted again when recording ends (`finished`: and `events` counts them).
    static func assertCountsMatchSamples(_ db: Database, finished: Bool = true, file: StaticString = #filePath,
                                         line: UInt = #line) throws {
        let event = "(SELECT id FROM events WHERE base_name = 'off-cpu')"
        let samples = try db.scalarInt("SELECT count(*) FROM samples WHERE event = \(event)")
        if finished {
            XCTAssertEqual(samples, try db.scalarInt("SELECT samples FROM events WHERE id = \(event)"), file: file,
                           line: line)
        }
        XCTAssertEqual(try db.scalarInt("SELECT coalesce(sum(samples), 0) FROM sample_counts WHERE event = \(event)"),
                       samples, file: file, line: line)
        XCTAssertEqual(try db.scalarInt("SELECT coalesce(sum(period), 0) FROM sample_counts WHERE event = \(event)"),
                       try db.scalarInt("SELECT coalesce(sum(period), 0) FROM samples WHERE event = \(event)"),
                       file: file, line: line)
        XCTAssertEqual(try db.scalarInt("SELECT coalesce(sum(period), 0) FROM samples WHERE event = \(event)"),
                       try db.scalarInt("SELECT coalesce(sum(duration), 0) FROM off_cpu WHERE sample_id IS NOT NULL"),
                       file: file, line: line)
        XCTAssertEqual(try db.scalarInt("SELECT coalesce(sum(switches), 0) FROM off_cpu_outcomes WHERE outcome IN "
                                        + "('interval', 'off CPU at the stop')"),
                       try db.scalarInt("SELECT count(*) FROM off_cpu"), file: file, line: line)
        let written = try db.scalarInt("SELECT sum(written) FROM counters")
        XCTAssertEqual(written, try db.scalarInt("SELECT count(*) FROM samples"), file: file, line: line)
    }
}
