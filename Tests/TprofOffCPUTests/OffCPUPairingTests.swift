import Foundation
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

    func testAThreadMovedToAnotherCPUWhileItWaitsHasEveryInterval() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-offcpu-migrating")
        defer { directory.remove() }
        let program = try compileC(source: Self.migratingSource, name: "migrating", flags: ["-pthread"],
                                   in: directory)
        let database = directory.file("migrating.db")
        let result = try Tool.record.run(["--off-cpu", "-g", "-q", "-o", database, "--", program], timeout: 60)
        XCTAssertEqual(result.status, 0, result.summary)
        let printed = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int64($0) }
        XCTAssertEqual(printed.count, 3, result.stdout)
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

    /// Every switch-out has one outcome, every `off-cpu` sample is written, and `sample_counts` adds them up as
    /// the samples do, without being counted again when recording ends.
    static func assertCountsMatchSamples(_ db: Database, file: StaticString = #filePath, line: UInt = #line) throws {
        let event = "(SELECT id FROM events WHERE base_name = 'off-cpu')"
        let samples = try db.scalarInt("SELECT count(*) FROM samples WHERE event = \(event)")
        XCTAssertEqual(samples, try db.scalarInt("SELECT samples FROM events WHERE id = \(event)"), file: file,
                       line: line)
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
