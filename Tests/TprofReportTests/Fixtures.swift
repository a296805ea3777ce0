import Foundation
import Glibc
import TprofCapture
import TprofSynthetic
import TprofStore
import TprofTestSupport

/// The databases the report tests read, built once per test run and removed when the run ends:
/// a paced synthetic recording with known contents, a synthetic recording that dropped samples, and a real
/// recording (`tprof-record`) of a C program whose two children burn CPU in a 2:1 ratio.
final class Fixtures {
    private static let fixture = SharedFixture(make: { try Fixtures() }, cleanUp: { $0.directory.remove() })

    /// The fixtures; throws (failing the calling test) when they could not be built.
    static func get() throws -> Fixtures { try fixture.value() }

    /// The synthetic recordings' shape: 4 processes of 2 threads, every 5th sample in the kernel, 2 events.
    static let shape = SyntheticBackend.Shape(processes: 4, threadsPerProcess: 2, distinctPCs: 64, kernelEvery: 5,
                                              events: 2, pidBase: 1000)
    static let cpus = [0, 1]
    /// Samples each CPU generates in the paced recording, at `pacedRate` per second (so it lasts one second).
    static let samplesPerCPU: UInt64 = 3000
    static let pacedRate: UInt64 = 3000

    let directory: TemporaryDirectory
    /// Paced synthetic recording: nothing dropped, contents computable from `shape`.
    let synthetic: String
    /// Flooded synthetic recording with one buffer allowed on the list: many samples dropped.
    let dropped: String
    /// tprof-record of `forkwork` (see `RealRecording`).
    let real: String
    let realRun: RealRecording

    private init() throws {
        directory = try TemporaryDirectory(prefix: "tprof-report-fixtures")

        synthetic = directory.file("synthetic.db")
        let paced = try SyntheticRecording(output: synthetic, cpus: Fixtures.cpus,
                                           samplesPerCPU: Fixtures.samplesPerCPU, rate: Fixtures.pacedRate,
                                           shape: Fixtures.shape, bufferSamples: 512, bufferLimit: 64,
                                           flushIntervalMs: 50).run()
        guard paced.total.dropped == 0, paced.written == Fixtures.samplesPerCPU * UInt64(Fixtures.cpus.count) else {
            throw TestSupportError("the paced synthetic recording lost samples: \(paced.statistics)")
        }

        dropped = directory.file("dropped.db")
        let flood = try SyntheticRecording(output: dropped, cpus: Fixtures.cpus, samplesPerCPU: 100_000, rate: 0,
                                           shape: Fixtures.shape, bufferSamples: 64, bufferLimit: 1,
                                           flushIntervalMs: 10).run()
        guard flood.total.dropped > 0 else {
            throw TestSupportError("the flooded synthetic recording dropped nothing: \(flood.statistics)")
        }

        real = directory.file("real.db")
        realRun = try RealRecording(output: real, in: directory)
    }

    /// Sample counts per (pid, tid, cpu, event, mode) that the synthetic backend generates for `shape`: its
    /// formula, applied to each CPU's `samplesPerCPU` samples.
    static func expectedSyntheticGroups() -> [[Int64]: Int64] {
        var counts: [[Int64]: Int64] = [:]
        let threads = shape.processes * shape.threadsPerProcess
        for cpu in cpus {
            for produced in 0..<Int(samplesPerCPU) {
                let i = produced + cpu * 7919
                let thread = i % threads
                let pid = Int64(shape.pidBase) + Int64(thread % shape.processes)
                let tid = pid + Int64(100_000 * (thread / shape.processes))
                let mode: Int64 = i % shape.kernelEvery == 0 ? 1 : 2
                counts[[pid, tid, Int64(cpu), Int64(i % shape.events), mode], default: 0] += 1
            }
        }
        return counts
    }
}

/// A real recording: `tprof-record -e cpu-clock` of a C program that forks two children burning CPU, one twice as
/// long as the other, and prints what wait4(2) reports of their CPU time.
struct RealRecording {
    /// The program's name, which the child that does not rename itself keeps.
    static let programName = "forkwork"
    /// The name the busier child gives itself (a comma and quotes, for CSV and JSON quoting).
    static let hogName = "hog,\"2x\""

    struct Child {
        var pid: Int64
        /// utime + stime from wait4(2), in seconds.
        var cpuSeconds: Double
    }

    var parent: Child
    /// The child that burns 2 units of CPU and renames itself `hogName`.
    var hog: Child
    /// The child that burns 1 unit and keeps the program's name.
    var plain: Child
    var record: ProcessResult

    static let source = #"""
        #define _GNU_SOURCE
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/prctl.h>
        #include <sys/resource.h>
        #include <sys/wait.h>
        #include <time.h>
        #include <unistd.h>

        static volatile unsigned long sink;

        static double cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        static void burn(double seconds) {
            while (cpu_seconds() < seconds)
                for (unsigned long i = 0; i < 20000; i++) sink += i * i;
        }

        static long micros(struct timeval t) { return t.tv_sec * 1000000L + t.tv_usec; }

        int main(int argc, char **argv) {
            double unit = argc > 1 ? atof(argv[1]) : 0.3;
            fflush(stdout);
            pid_t hog = fork();
            if (hog == 0) {
                prctl(PR_SET_NAME, "hog,\"2x\"", 0, 0, 0);
                burn(2 * unit);
                _exit(0);
            }
            pid_t plain = fork();
            if (plain == 0) {
                burn(unit);
                _exit(0);
            }
            for (int i = 0; i < 2; i++) {
                int status;
                struct rusage usage;
                pid_t pid = wait4(-1, &status, 0, &usage);
                printf("%s %d %ld\n", pid == hog ? "hog" : "plain", (int)pid,
                       micros(usage.ru_utime) + micros(usage.ru_stime));
            }
            struct rusage self;
            getrusage(RUSAGE_SELF, &self);
            printf("parent %d %ld\n", (int)getpid(), micros(self.ru_utime) + micros(self.ru_stime));
            return 0;
        }
        """#

    init(output: String, in directory: TemporaryDirectory) throws {
        let program = try compileC(source: RealRecording.source, name: RealRecording.programName, in: directory)
        record = try Tool.record.run(["-o", output, "--force", "-e", "cpu-clock", "-F", "999", "--", program, "0.3"],
                                     timeout: 60)
        guard record.status == 0, record.signal == nil else {
            throw TestSupportError("tprof-record failed\n\(record.summary)")
        }
        var children: [String: Child] = [:]
        for line in record.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let pid = Int64(fields[1]), let micros = Double(fields[2]) else { continue }
            children[String(fields[0])] = Child(pid: pid, cpuSeconds: micros / 1e6)
        }
        guard let parent = children["parent"], let hog = children["hog"], let plain = children["plain"] else {
            throw TestSupportError("\(RealRecording.programName) did not report its children\n\(record.summary)")
        }
        self.parent = parent
        self.hog = hog
        self.plain = plain
    }
}

// MARK: Running the report and looking at files

/// Runs the built `tprof-report` with `arguments`.
func runReport(_ arguments: [String], user: String? = nil) throws -> ProcessResult {
    try Tool.report.run(arguments, user: user, timeout: 60)
}

/// Runs `tprof-report database --sql - [arguments]` with the contents of `sqlFile` on its standard input.
func runReportWithStdin(_ database: String, sqlFile: String, arguments: [String] = []) throws -> ProcessResult {
    let script = "db=\"$1\"; file=\"$2\"; shift 2; exec \"$0\" \"$db\" --sql - \"$@\" < \"$file\""
    return try ChildProcess.run("/bin/sh", ["-c", script, try Tool.report.path(), database, sqlFile] + arguments,
                                timeout: 60)
}

/// A fresh copy of `source` as `name` in `directory`, for tests that change or damage a database.
func copyDatabase(_ source: String, to directory: TemporaryDirectory, as name: String) throws -> String {
    let destination = directory.file(name)
    try FileManager.default.copyItem(atPath: source, toPath: destination)
    return destination
}

/// Runs SQL that changes `path` (a copy), through a read-write connection closed before returning.
func modifyDatabase(_ path: String, _ sql: String) throws {
    let connection = try SQLiteDatabase(path: path, mode: .readWrite)
    try connection.execute(sql)
}

/// Every row of `sql` on `path`, each value as text (NULL as ""), through a connection closed before returning.
func queryDatabase(_ path: String, _ sql: String) throws -> [[String]] {
    let connection = try SQLiteDatabase(path: path, mode: .readWrite)
    let statement = try connection.prepare(sql)
    var rows: [[String]] = []
    while try statement.step() {
        rows.append((0..<statement.columnCount).map { column in
            switch statement.value(column) {
            case .integer(let value): return String(value)
            case .real(let value): return String(value)
            case .text(let value): return value
            case .null: return ""
            }
        })
    }
    return rows
}

/// The first column of the first row of `sql` as an integer.
func queryInt(_ path: String, _ sql: String) throws -> Int64 {
    guard let text = try queryDatabase(path, sql).first?.first, let value = Int64(text) else {
        throw TestSupportError("no integer from \(sql) on \(path)")
    }
    return value
}

/// The bytes of a file and the names next to it: what must not change when a report runs.
struct FileState: Equatable {
    var bytes: Data
    var neighbours: [String]

    init(of path: String) {
        bytes = FileManager.default.contents(atPath: path) ?? Data()
        let directory = (path as NSString).deletingLastPathComponent
        neighbours = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}

/// The directory of `Examples/queries` in the source tree.
var exampleQueriesDirectory: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/queries").path
}
