import Foundation
import TprofTestSupport
import XCTest

/// The program of issue 17: its main thread computes, sleeps, waits on a pipe and on a mutex, for designed times.
enum OffCPUWorkload {
    static let name = "offcpu"

    /// Designed seconds of each phase of the main thread.
    static let computeSeconds = 1.0
    static let napSeconds = 2.0
    static let pipeSeconds = 1.0
    static let lockSeconds = 0.5

    /// `offcpu`: `compute()` until the thread has used 1 s of CPU, `nap()` 2 s (nanosleep), `wait_pipe()` (read a pipe
    /// a child writes after its own 1 s nap), `lock_wait()` (a mutex a second thread holds through a 0.5 s nap).
    /// Prints the seconds from main's start to its end.
    static let source = #"""
        #include <pthread.h>
        #include <sched.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>
        #include <unistd.h>
        #include <sys/wait.h>

        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static volatile unsigned long sink;

        static double clock_seconds(clockid_t clock) {
            struct timespec t;
            clock_gettime(clock, &t);
            return t.tv_sec + t.tv_nsec / 1e9;
        }

        __attribute__((noinline)) void compute(double seconds) {
            double end = clock_seconds(CLOCK_THREAD_CPUTIME_ID) + seconds;
            while (clock_seconds(CLOCK_THREAD_CPUTIME_ID) < end)
                for (int i = 0; i < 100000; i++) sink += i;
        }

        __attribute__((noinline)) void nap(double seconds) {
            struct timespec t = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
            while (nanosleep(&t, &t) != 0) {}
            sink++;
        }

        __attribute__((noinline)) void wait_pipe(double seconds) {
            int fds[2];
            if (pipe(fds)) exit(2);
            pid_t child = fork();
            if (child == 0) {
                nap(seconds);
                if (write(fds[1], "x", 1) != 1) _exit(3);
                _exit(0);
            }
            char c;
            if (read(fds[0], &c, 1) != 1) exit(4);
            waitpid(child, NULL, 0);
            close(fds[0]);
            close(fds[1]);
            sink++;
        }

        static volatile int held;

        static void *holder(void *seconds) {
            pthread_mutex_lock(&lock);
            held = 1;
            nap(*(double *)seconds);
            pthread_mutex_unlock(&lock);
            return NULL;
        }

        __attribute__((noinline)) void lock_wait(double seconds) {
            pthread_t thread;
            pthread_create(&thread, NULL, holder, &seconds);
            while (!held) sched_yield();
            pthread_mutex_lock(&lock);
            pthread_mutex_unlock(&lock);
            pthread_join(thread, NULL);
            sink++;
        }

        int main(void) {
            double start = clock_seconds(CLOCK_MONOTONIC);
            compute(1.0);
            nap(2.0);
            wait_pipe(1.0);
            lock_wait(0.5);
            printf("%.6f\n", clock_seconds(CLOCK_MONOTONIC) - start);
            return 0;
        }
        """#
}

/// Off-CPU time per folded stack, in microseconds (`tprof-report --off-cpu --folded`), root first, process name
/// first.
struct OffCPUStacks {
    var stacks: [(line: String, microseconds: Int64)] = []

    init(folded text: String) throws {
        for line in text.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let value = Int64(line[line.index(after: space)...]) else {
                throw TestSupportError("not a folded line: \(line)")
            }
            stacks.append((";" + line[..<space] + ";", value))
        }
    }

    /// Milliseconds of the stacks that hold `frames` one after the other (`["main", "nap"]`).
    func milliseconds(through frames: [String]) -> Double {
        let run = ";" + frames.joined(separator: ";") + ";"
        return Double(stacks.filter { $0.line.contains(run) }.reduce(Int64(0)) { $0 + $1.microseconds }) / 1000
    }
}

/// The compiled workload and its recordings, made once per test process.
final class OffCPUWorkbench {
    let directory: TemporaryDirectory
    let program: String

    private static let fixture = SharedFixture(make: { try OffCPUWorkbench() }, cleanUp: { $0.directory.remove() })
    nonisolated(unsafe) private static var recordings: [String: Result<Recording, Error>] = [:]
    private static let lock = NSLock()

    /// A finished recording: its database and the workload's own measure of its run.
    struct Recording {
        var database: String
        /// Seconds from main's start to its end, as the program printed them.
        var elapsed: Double
        /// The perf.data perf recorded of the same execution, when it was the launcher.
        var perfData: String?
    }

    static func shared() throws -> OffCPUWorkbench { try fixture.value() }

    private init() throws {
        directory = try TemporaryDirectory(prefix: "tprof-offcpu")
        program = try compileC(source: OffCPUWorkload.source, name: OffCPUWorkload.name, flags: ["-pthread"],
                               in: directory)
    }

    /// `tprof-record --off-cpu -e cpu-clock OPTIONS -- [perf record -a -e sched:sched_switch ... --] offcpu`,
    /// recorded once per name.
    static func recording(_ name: String, options: [String], underPerf: Bool = false) throws -> Recording {
        lock.lock()
        defer { lock.unlock() }
        if let done = recordings[name] { return try done.get() }
        let result = Result { try shared().record(name, options: options, underPerf: underPerf) }
        recordings[name] = result
        return try result.get()
    }

    private func record(_ name: String, options: [String], underPerf: Bool) throws -> Recording {
        let database = directory.file(name + ".db")
        let perfData = directory.file(name + ".perf.data")
        // perf records every CPU's switches (a per-task sched_switch event sees only the task's switch-outs), on
        // CLOCK_MONOTONIC, tprof's clock.
        let launcher = underPerf
            ? ["/usr/bin/perf", "record", "-q", "-a", "-k", "CLOCK_MONOTONIC", "-e", "sched:sched_switch", "-g",
               "-o", perfData, "--"] : []
        let result = try Tool.record.run(
            ["--off-cpu", "-e", "cpu-clock", "-q", "-o", database] + options + ["--"] + launcher + [program],
            timeout: 120)
        guard result.status == 0, let elapsed = Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw TestSupportError("recording \(name) failed\n\(result.summary)") }
        return Recording(database: database, elapsed: elapsed, perfData: underPerf ? perfData : nil)
    }

    /// `tprof-report DATABASE ARGUMENTS` as CSV rows (header first).
    static func report(_ database: String, _ arguments: [String]) throws -> [[String]] {
        let result = try Tool.report.run([database, "--format", "csv"] + arguments)
        guard result.status == 0 else { throw TestSupportError("tprof-report \(arguments) failed\n\(result.summary)") }
        return result.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false)
            .map(String.init) }
    }

    /// `tprof-report DATABASE --off-cpu --folded ARGUMENTS`.
    static func offCPUStacks(_ database: String, _ arguments: [String] = []) throws -> OffCPUStacks {
        let result = try Tool.report.run([database, "--off-cpu", "--folded"] + arguments)
        guard result.status == 0 else { throw TestSupportError("tprof-report --folded failed\n\(result.summary)") }
        return try OffCPUStacks(folded: result.stdout)
    }
}
