import Foundation
import TprofTestSupport
import XCTest

/// The programs the counting tests compile, once per test run, and the readers of tprof-count's and perf stat's
/// output.
enum CountWorkbench {
    /// Included by each program: with a last argument `gated` it waits for SIGUSR1 before its work, so that two
    /// counters can attach to it (-p) first and count the same execution.
    static let gateSource = #"""
        #include <signal.h>
        #include <string.h>
        static void wait_for_gate(int argc, char **argv) {
            if (argc < 3 || strcmp(argv[argc - 1], "gated") != 0) return;
            sigset_t set;
            int signal;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR1);
            sigprocmask(SIG_BLOCK, &set, 0);
            sigwait(&set, &signal);
        }
        """#

    /// `faults PAGES`: touches PAGES fresh 4 KiB pages of an anonymous mapping without huge pages, one page fault
    /// each.
    static let faultsSource = #"""
        #include <stdlib.h>
        #include <sys/mman.h>
        int main(int argc, char **argv) {
            wait_for_gate(argc, argv);
            long pages = atol(argv[1]);
            char *p = mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) return 2;
            madvise(p, pages * 4096, MADV_NOHUGEPAGE);
            for (long i = 0; i < pages; i++) p[i * 4096] = 1;
            return 0;
        }
        """#

    /// `sleeps N`: N sleeps of 200 us, one voluntary context switch each.
    static let sleepsSource = #"""
        #include <stdlib.h>
        #include <time.h>
        int main(int argc, char **argv) {
            wait_for_gate(argc, argv);
            long n = atol(argv[1]);
            struct timespec t = {0, 200000};
            for (long i = 0; i < n; i++) nanosleep(&t, 0);
            return 0;
        }
        """#

    /// `burn SECONDS`: spins until the process has used SECONDS of CPU time.
    static let burnSource = #"""
        #include <stdlib.h>
        #include <time.h>
        static volatile unsigned long sink;
        int main(int argc, char **argv) {
            wait_for_gate(argc, argv);
            double seconds = atof(argv[1]);
            struct timespec ts;
            do {
                for (int i = 0; i < 100000; i++) sink += i;
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            } while (ts.tv_sec + ts.tv_nsec / 1e9 < seconds);
            return 0;
        }
        """#

    /// `threads SECONDS`: a main thread and three others, each spinning until SECONDS of wall time have passed.
    static let threadsSource = #"""
        #include <pthread.h>
        #include <stdlib.h>
        #include <time.h>
        static double seconds;
        static volatile unsigned long sink;
        static double now(void) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }
        static void *spin(void *arg) {
            double end = now() + seconds;
            while (now() < end) {
                for (int i = 0; i < 10000; i++) sink += i;
                struct timespec t = {0, 1000000};
                nanosleep(&t, 0);
            }
            return arg;
        }
        int main(int argc, char **argv) {
            seconds = atof(argv[1]);
            pthread_t threads[3];
            for (int i = 0; i < 3; i++) pthread_create(&threads[i], 0, spin, 0);
            spin(0);
            for (int i = 0; i < 3; i++) pthread_join(threads[i], 0);
            return 0;
        }
        """#

    /// `toucher`: three threads at once, named toucher0..2, thread i touching (i + 1) * 2000 fresh pages of its own
    /// (one page fault each) and spinning a while; the main thread waits for them, then spins too. Threads that
    /// switch in and out on the same CPUs are what the kernel swaps counters between.
    static let toucherSource = #"""
        #include <pthread.h>
        #include <stdio.h>
        #include <sys/mman.h>
        #include <sys/prctl.h>
        static volatile unsigned long sink;
        static void spin(long n) { for (long i = 0; i < n; i++) sink += i; }
        static void *touch(void *arg) {
            long i = (long)arg, pages = (i + 1) * 2000;
            char name[16];
            snprintf(name, sizeof name, "toucher%ld", i);
            prctl(PR_SET_NAME, name);
            char *p = mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) return 0;
            madvise(p, pages * 4096, MADV_NOHUGEPAGE);
            for (long page = 0; page < pages; page++) p[page * 4096] = 1;
            spin(20000000L * (i + 1));
            return 0;
        }
        int main(void) {
            pthread_t threads[3];
            for (long i = 0; i < 3; i++) pthread_create(&threads[i], 0, touch, (void *)i);
            for (int i = 0; i < 3; i++) pthread_join(threads[i], 0);
            spin(10000000L);
            return 0;
        }
        """#

    /// The programs, compiled once per test run.
    private static let programs = SharedFixture(make: { () throws -> (TemporaryDirectory, [String: String]) in
        let directory = try TemporaryDirectory(prefix: "tprof-count-test")
        var paths: [String: String] = [:]
        for (name, source) in [("faults", faultsSource), ("sleeps", sleepsSource), ("burn", burnSource),
                               ("threads", threadsSource), ("toucher", toucherSource)] {
            paths[name] = try compileC(source: gateSource + "\n" + source, name: name,
                                       flags: ["threads", "toucher"].contains(name) ? ["-pthread"] : [],
                                       in: directory)
        }
        return (directory, paths)
    }, cleanUp: { $0.0.remove() })

    static func program(_ name: String) throws -> String { try programs.value().1[name]! }
    static func faults() throws -> String { try program("faults") }
    static func sleeps() throws -> String { try program("sleeps") }
    static func burn() throws -> String { try program("burn") }
    static func threads() throws -> String { try program("threads") }
    static func toucher() throws -> String { try program("toucher") }

    /// A fresh directory, removed with the test.
    static func freshDirectory(for test: XCTestCase) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: "tprof-count-out")
        test.addTeardownBlock { directory.remove() }
        return directory
    }

    /// tprof-count's csv rows (on stderr, as perf stat prints, after the command's own stderr) by event, for
    /// counts without intervals.
    static func csvByEvent(_ result: ProcessResult, file: StaticString = #filePath,
                           line: UInt = #line) -> [String: [String: String]] {
        assertNoCrash(result, file: file, line: line)
        let start = result.stderr.range(of: "interval,cpu,tid,")?.lowerBound ?? result.stderr.startIndex
        let records = csvRecords(String(result.stderr[start...]))
        XCTAssertFalse(records.isEmpty, "no csv rows\n\(result.summary)", file: file, line: line)
        return Dictionary(records.map { ($0["event"] ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The count of `event` in perf stat -x, output (`value,unit,event,...`), whatever else is on the stream.
    static func perfCSVValue(_ text: String, event: String) -> Double? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count > 2, fields[2] == event { return Double(fields[0]) }
        }
        return nil
    }

    /// The counts of `event` by tprof-count and by perf stat, both attached (-p) to one execution of `program`
    /// before it starts its work: they count the same thing and nothing else (nested, one would count the other).
    static func countedTogether(_ event: String, _ program: String, _ arguments: [String],
                                file: StaticString = #filePath, line: UInt = #line) throws
        -> (tprof: Double, perf: Double) {
        let target = try ChildProcess(executable: program, arguments: arguments + ["gated"])
        let pid = String(target.pid)
        let tprof = try Tool.count.start(["-p", pid, "-e", event, "--format", "csv"])
        let perf = try ChildProcess(executable: "/usr/bin/perf", arguments: ["stat", "-x,", "-e", event, "-p", pid])
        let attached = Processes.waitUntil(timeout: 20) {
            [tprof.pid, perf.pid].allSatisfy(Self.hasPerfEvents)
        }
        // Both enable their counters right after opening them; the margin covers a loaded machine.
        if attached { Thread.sleep(forTimeInterval: 0.5) }
        target.send(attached ? SIGUSR1 : SIGKILL)
        let tprofResult = try tprof.waitForExit(timeout: 60)
        let perfResult = try perf.waitForExit(timeout: 60)
        guard attached else { throw TestSupportError("the counters did not attach\n\(tprofResult.summary)") }
        let counted = csvByEvent(tprofResult, file: file, line: line)
        guard let value = counted[event]?["value"].flatMap(Double.init),
              let reference = perfCSVValue(perfResult.stderr, event: event) else {
            throw TestSupportError("no \(event) count\n\(tprofResult.summary)\n\(perfResult.summary)")
        }
        return (value, reference)
    }

    /// Whether process `pid` holds a perf event file descriptor.
    private static func hasPerfEvents(_ pid: Int32) -> Bool {
        let directory = "/proc/\(pid)/fd"
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return fds.contains {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)"))?.contains("perf_event")
                == true
        }
    }

    /// perf stat's count of `event` for `command`, as `perf stat -x,` prints it.
    static func perfStat(_ event: String, _ command: [String], file: StaticString = #filePath,
                         line: UInt = #line) throws -> Double {
        let result = try ChildProcess.run("/usr/bin/perf", ["stat", "-x,", "-e", event, "--"] + command, timeout: 60)
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        guard let value = perfCSVValue(result.stderr, event: event) else {
            throw TestSupportError("no \(event) in perf stat's output\n\(result.summary)")
        }
        return value
    }
}

/// Asserts `value` is within `percent` of `reference`.
func assertWithin(_ percent: Double, _ value: Double, of reference: Double, _ what: String,
                  file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThanOrEqual(abs(value - reference), reference * percent / 100,
                             "\(what): tprof-count \(value), perf stat \(reference)", file: file, line: line)
}
