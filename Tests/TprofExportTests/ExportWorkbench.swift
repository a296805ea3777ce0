import Foundation
import TprofCapture
import TprofSynthetic
import TprofTestSupport
import XCTest

/// The C program the export tests record: a known call tree with two leaf functions whose share of the work is set
/// on the command line.
///
/// `exports SECONDS A B [THREADS]`: each of THREADS threads (default 1; the extra ones made with pthread_create)
/// loops until it has used SECONDS of its own CPU time, each iteration running `work -> outer -> mid -> leaf(A*K)`
/// then `work -> other -> twig(B*K)`. leaf and twig run the same loop, so leaf takes A/(A+B) of the work and twig
/// B/(A+B). One iteration lasts several milliseconds (many samples), and an iteration always runs both paths, so the
/// shares hold however the run is cut. Built -O0 with frame pointers and without sibling calls, so `-g` sees
/// every frame.
enum ExportWorkload {
    static let name = "exports"
    static let flags = ["-O0", "-g", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls", "-fno-inline",
                        "-pthread"]
    /// The functions of the program (each has DWARF lines in exports.c).
    static let functions = ["leaf", "twig", "mid", "outer", "other", "work", "main"]

    static let source = #"""
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>

        #define K 1000000UL

        static volatile unsigned long sink;
        static unsigned long share_a = 3, share_b = 2;
        static double seconds = 1.0;

        static double thread_cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        __attribute__((noinline)) unsigned long leaf(unsigned long n) {
            unsigned long x = n;
            for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
            return x;
        }

        __attribute__((noinline)) unsigned long twig(unsigned long n) {
            unsigned long x = n;
            for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
            return x;
        }

        __attribute__((noinline)) unsigned long mid(void) { return leaf(share_a * K) + 1; }
        __attribute__((noinline)) unsigned long outer(void) { return mid() + 1; }
        __attribute__((noinline)) unsigned long other(void) { return twig(share_b * K) + 1; }

        __attribute__((noinline)) void *work(void *unused) {
            (void)unused;
            while (thread_cpu_seconds() < seconds) {
                sink += outer();
                sink += other();
            }
            return NULL;
        }

        int main(int argc, char **argv) {
            seconds = argc > 1 ? atof(argv[1]) : 1.0;
            if (argc > 3) {
                share_a = strtoul(argv[2], NULL, 10);
                share_b = strtoul(argv[3], NULL, 10);
            }
            int threads = argc > 4 ? atoi(argv[4]) : 1;
            pthread_t extra[8];
            for (int i = 1; i < threads && i < 8; i++) pthread_create(&extra[i], NULL, work, NULL);
            work(NULL);
            for (int i = 1; i < threads && i < 8; i++) pthread_join(extra[i], NULL);
            printf("exports: done\n");
            return 0;
        }
        """#
}

/// The program and the recordings the export tests share, made once per test process and removed at exit:
/// - `base`: `tprof-record -g` of `exports 1 3 2` (leaf 60%, twig 40%);
/// - `shifted`: `exports 1 1 4` (leaf 20%, twig 80%), the known change for the diffs;
/// - `threaded`: `exports 0.4 3 2 2`, two threads;
/// - `synthetic`: a paced synthetic recording (4 processes of 2 threads on CPUs 0 and 1, 2 events, 8-frame call
///   chains).
final class ExportWorkbench {
    let directory: TemporaryDirectory
    let program: String
    let base: String
    let shifted: String
    let threaded: String
    let synthetic: String
    static let syntheticSamplesPerCPU: UInt64 = 2000
    static let syntheticShape = SyntheticBackend.Shape(processes: 4, threadsPerProcess: 2, distinctPCs: 64,
                                                       kernelEvery: 0, events: 2, pidBase: 1000, stackDepth: 8,
                                                       distinctStacks: 50)

    private static let fixture = SharedFixture(make: { try ExportWorkbench() }, cleanUp: { $0.directory.remove() })

    static func shared() throws -> ExportWorkbench {
        try fixture.value()
    }

    private init() throws {
        directory = try TemporaryDirectory(prefix: "tprof-exports")
        program = try compileC(source: ExportWorkload.source, name: ExportWorkload.name, flags: ExportWorkload.flags,
                               in: directory)
        base = try Self.record(program, arguments: ["1", "3", "2"], into: directory.file("base.db"))
        shifted = try Self.record(program, arguments: ["1", "1", "4"], into: directory.file("shifted.db"))
        threaded = try Self.record(program, arguments: ["0.4", "3", "2", "2"], into: directory.file("threaded.db"))
        synthetic = directory.file("synthetic.db")
        let result = try SyntheticRecording(output: synthetic, cpus: [0, 1],
                                            samplesPerCPU: Self.syntheticSamplesPerCPU, rate: 4000,
                                            shape: Self.syntheticShape, bufferSamples: 512, bufferLimit: 64,
                                            flushIntervalMs: 50).run()
        guard result.total.dropped == 0, result.written == 2 * Self.syntheticSamplesPerCPU else {
            throw TestSupportError("the paced synthetic recording lost samples: \(result.statistics)")
        }
    }

    /// `tprof-record -q -e cpu-clock -F 999 -g -o DATABASE -- program ARGUMENTS` (or with the events given);
    /// throws unless both succeeded.
    static func record(_ program: String, arguments: [String], into database: String,
                       events: [String] = ["cpu-clock"]) throws -> String {
        let result = try Tool.record.run(["-q"] + events.flatMap { ["-e", $0] } + ["-F", "999", "-g", "-o", database,
                                                                                "--", program] + arguments,
                                         timeout: 120)
        guard result.status == 0, result.signal == nil, result.stdout.contains("exports: done") else {
            throw TestSupportError("tprof-record of \(program) \(arguments) failed\n\(result.summary)")
        }
        return database
    }
}

/// Helpers for running tprof-report and reading what it wrote.
enum ExportTools {
    /// Runs tprof-report and fails the test (throws) unless it exited 0 without crashing.
    @discardableResult
    static func report(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws
        -> ProcessResult {
        let result = try Tool.report.run(arguments, timeout: 120)
        assertNoCrash(result, file: file, line: line)
        guard result.status == 0 else {
            throw TestSupportError("tprof-report \(arguments.joined(separator: " ")) failed\n\(result.summary)")
        }
        return result
    }

    /// The decompressed bytes of a gzip file, through /bin/gzip (Foundation has no gzip).
    static func gunzip(_ path: String) throws -> Data {
        let output = path + ".raw"
        let result = try ChildProcess.run("/bin/sh", ["-c", "exec /bin/gzip -dc -- \"$0\" > \"$1\"", path, output])
        guard result.status == 0, result.signal == nil else {
            throw TestSupportError("gzip -dc \(path) failed\n\(result.summary)")
        }
        guard let data = FileManager.default.contents(atPath: output) else {
            throw TestSupportError("cannot read \(output)")
        }
        return data
    }

    /// RFC 4180 CSV: the header and the rows.
    static func parseCSV(_ text: String) -> (header: [String], rows: [[String]]) {
        let records = TprofTestSupport.parseCSV(text)
        guard let header = records.first else { return ([], []) }
        return (header, Array(records.dropFirst()))
    }

    /// A CSV report as dictionaries from column name to value.
    static func csvRows(_ text: String) -> [[String: String]] {
        csvRecords(text)
    }

    /// The lines `stack count` (or `stack base new`) of folded output, split at the spaces after the stack.
    static func foldedLines(_ text: String, counts: Int) -> [(stack: String, counts: [Int64])]? {
        var result: [(String, [Int64])] = []
        for line in text.split(separator: "\n") {
            var parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count > counts else { return nil }
            var numbers: [Int64] = []
            for _ in 0..<counts {
                guard let number = Int64(parts.removeLast()) else { return nil }
                numbers.insert(number, at: 0)
            }
            result.append((parts.joined(separator: " "), numbers))
        }
        return result
    }

    /// The file's bytes, for comparing before and after.
    static func bytes(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestSupportError("cannot read \(path)")
        }
        return data
    }
}
