import Foundation
import TprofTestSupport
import XCTest

/// The C workload with a known call tree, compiled once per test run, and one real `tprof-record -g` recording of
/// it shared by the tests that only read it.
///
/// Per loop iteration the parent runs `main -> outer -> mid -> leaf(3K)`, `main -> other -> leaf(2K)` and
/// `main -> rec(5) -> rec(4) ... rec(0) -> leaf(K/2)`: leaf loops exactly n times, so the three paths take 3 : 2 : 0.5
/// of the work (about 55%, 36% and 9% of the parent's samples). K makes one iteration last about 50 ms, far longer
/// than the 1 ms between samples: each path then gets a run of consecutive samples as long as the path, and the
/// shares come out within a few tenths of a point. (With iterations of 24 us, shorter than the sampling period, each
/// sample lands at a random phase and the shares scatter binomially, about +-1.2 points at 2000 samples, enough to
/// miss a 3-point bound now and then.)
/// With a second argument the parent first forks a child named `cghelper` that runs
/// `main -> helper_start -> helper_spin` for that many CPU seconds; helper_start's call is its last instruction, so
/// the return address is the first byte of helper_next and only a lookup at address - 1 names helper_start.
/// helper_spin reads the CPU clock (a system call) every few microseconds: the kernel frames of the recording.
enum CallGraphWorkload {
    static let name = "cgprog"
    static let helperName = "cghelper"
    /// Without these, gcc turns calls in tail position into jumps and the chains lose mid and other.
    static let flags = ["-O0", "-g", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls", "-fno-inline"]

    static let source = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/prctl.h>
        #include <sys/wait.h>
        #include <time.h>
        #include <unistd.h>

        #define K 8000000UL

        static volatile unsigned long sink;

        static double cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        __attribute__((noinline)) unsigned long leaf(unsigned long n) {
            unsigned long x = n;
            for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
            return x;
        }

        __attribute__((noinline)) unsigned long mid(void) { return leaf(3 * K) + 1; }
        __attribute__((noinline)) unsigned long outer(void) { return mid() + 1; }
        __attribute__((noinline)) unsigned long other(void) { return leaf(2 * K) + 1; }
        __attribute__((noinline)) unsigned long rec(int depth) {
            if (depth == 0) return leaf(K / 2) + 1;
            return rec(depth - 1) + 1;
        }

        __attribute__((noinline, noreturn)) void helper_spin(double seconds) {
            unsigned long x = 1;
            while (cpu_seconds() < seconds)
                for (int i = 0; i < 10000; i++) x = x * 2862933555777941757UL + 3037000493UL;
            sink += x;
            _exit(0);
        }

        /* Its call to helper_spin is its last instruction: the return address is helper_next's first byte. */
        __attribute__((noinline)) void helper_start(double seconds) { helper_spin(seconds); }
        __attribute__((noinline)) void helper_next(void) { sink++; }

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? atof(argv[1]) : 2.0;
            double helper = argc > 2 ? atof(argv[2]) : 0.0;
            pid_t child = -1;
            if (helper > 0) {
                child = fork();
                if (child == 0) {
                    prctl(PR_SET_NAME, "cghelper", 0, 0, 0);
                    helper_start(helper);
                }
            }
            while (cpu_seconds() < seconds) {
                sink += outer();
                sink += other();
                sink += rec(5);
            }
            if (child > 0) waitpid(child, NULL, 0);
            printf("cgprog: done\n");
            return 0;
        }
        """#

    /// The arguments of the shared recording's run: 2 s of CPU in the parent, 0.3 s in the helper child.
    static let mainArguments = ["2", "0.3"]
}

/// Compiled programs and recordings that live until the test process exits.
final class CallGraphWorkbench {
    let directory: TemporaryDirectory
    let program: String

    private static let fixture = SharedFixture(make: { try CallGraphWorkbench() }, cleanUp: { $0.directory.remove() })

    static func shared() throws -> CallGraphWorkbench {
        try fixture.value()
    }

    private init() throws {
        directory = try TemporaryDirectory(prefix: "tprof-callgraph")
        program = try compileC(source: CallGraphWorkload.source, name: CallGraphWorkload.name,
                               flags: CallGraphWorkload.flags, in: directory)
    }

    /// Records `program arguments` with tprof-record into `name` in the workbench directory; throws unless the
    /// recording and the program succeeded. With a `launcher` (such as `perf record ... --`), tprof-record runs the
    /// launcher, which runs the program.
    func record(_ name: String, options: [String], arguments: [String], launcher: [String] = []) throws -> String {
        let database = directory.file(name)
        let result = try Tool.record.run(["-q", "-e", "cpu-clock", "-F", "999", "-o", database] + options
                                            + ["--"] + launcher + [program] + arguments, timeout: 120)
        guard result.status == 0, result.signal == nil, result.stdout.contains("cgprog: done") else {
            throw TestSupportError("tprof-record \(options) \(arguments) failed\n\(result.summary)")
        }
        return database
    }
}

/// The shared recording: `tprof-record -e cpu-clock -F 999 -g -- cgprog 2 0.3`, with facts read from its tables.
final class CallGraphRecording {
    let workbench: CallGraphWorkbench
    let path: String
    let database: Database
    /// All samples, and the samples of the parent (comm cgprog) and of the helper child.
    let samples: Int64
    let parentPID: Int64
    let helperPID: Int64
    let parentSamples: Int64
    let helperSamples: Int64

    private static let fixture = SharedFixture(make: { try CallGraphRecording() })

    static func shared() throws -> CallGraphRecording {
        try fixture.value()
    }

    private init() throws {
        workbench = try CallGraphWorkbench.shared()
        path = try workbench.record("callgraph.db", options: ["-g"], arguments: CallGraphWorkload.mainArguments)
        database = try Database(path: path)
        samples = try database.scalarInt("SELECT count(*) FROM samples")
        parentPID = try database.scalarInt(
            "SELECT pid FROM processes WHERE comm = '\(CallGraphWorkload.name)' AND pid IN (SELECT pid FROM samples)")
        helperPID = try database.scalarInt("SELECT pid FROM processes WHERE comm = '\(CallGraphWorkload.helperName)'")
        parentSamples = try database.scalarInt("SELECT count(*) FROM samples WHERE pid = \(parentPID)")
        helperSamples = try database.scalarInt("SELECT count(*) FROM samples WHERE pid = \(helperPID)")
    }
}

// MARK: Running tprof-report and reading its output

/// Runs tprof-report; a failed or crashed run fails the test and returns nil.
func report(_ database: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line)
    -> String? {
    let result: ProcessResult
    do {
        result = try Tool.report.run([database] + arguments, timeout: 60)
    } catch {
        XCTFail("tprof-report \(arguments.joined(separator: " ")): \(error)", file: file, line: line)
        return nil
    }
    assertNoCrash(result, file: file, line: line)
    guard result.status == 0 else {
        XCTFail("tprof-report \(arguments.joined(separator: " ")) failed\n\(result.summary)", file: file, line: line)
        return nil
    }
    return result.stdout
}

/// One line of folded output: the command, then the frames root first (kernel frames end in `_[k]`), and a count.
struct FoldedStack: Hashable {
    var comm: String
    var frames: [String]
    var count: Int64

    var key: String { ([comm] + frames).joined(separator: ";") }
    /// The frames outside the kernel.
    var userFrames: [String] { frames.filter { !$0.hasSuffix("_[k]") } }

    /// True when the user-space part of the stack ends with `suffix` (kernel frames above it allowed).
    func userPartEnds(with suffix: [String]) -> Bool {
        let user = userFrames
        return user.count >= suffix.count && Array(user.suffix(suffix.count)) == suffix
    }

    /// True when `sequence` occurs as consecutive frames.
    func contains(_ sequence: [String]) -> Bool {
        guard sequence.count <= frames.count else { return false }
        return (0...(frames.count - sequence.count)).contains { Array(frames[$0..<$0 + sequence.count]) == sequence }
    }
}

/// Parses `comm;root;...;leaf count` lines; a malformed line fails the test.
func parseFolded(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [FoldedStack] {
    text.split(separator: "\n").compactMap { row in
        guard let space = row.lastIndex(of: " "), let count = Int64(row[row.index(after: space)...]), count > 0 else {
            XCTFail("malformed folded line: '\(row)'", file: file, line: line)
            return nil
        }
        let names = row[..<space].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        return FoldedStack(comm: names[0], frames: Array(names.dropFirst()), count: count)
    }
}

func sum(_ stacks: [FoldedStack]) -> Int64 { stacks.reduce(0) { $0 + $1.count } }

/// One line of `--tree`: share of all samples, samples, nesting level and name (kernel frames end in ` [k]`).
struct TreeLine {
    var percent: Double
    var samples: Int64
    var level: Int
    var name: String
}

/// Parses the indented tree after the report header (`%7.2f%% %9lld  ` then two spaces per level, then the name).
func parseTree(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [TreeLine] {
    text.split(separator: "\n").compactMap { row -> TreeLine? in
        if row.hasPrefix("#") || row.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        let prefixLength = 7 + 1 + 1 + 9 + 2
        let fields = row.split(separator: " ", omittingEmptySubsequences: true)
        guard row.count > prefixLength, fields.count >= 3, fields[0].hasSuffix("%"),
              let percent = Double(fields[0].dropLast()), let samples = Int64(fields[1]) else {
            XCTFail("malformed tree line: '\(row)'", file: file, line: line)
            return nil
        }
        let rest = row.dropFirst(prefixLength)
        let indent = rest.prefix { $0 == " " }.count
        return TreeLine(percent: percent, samples: samples, level: indent / 2,
                        name: rest.trimmingCharacters(in: .whitespaces))
    }
}

// MARK: The shared assertion

/// Asserts that a measured share (in percent) is within `points` of the expected one; the failure message names
/// the quantity, both numbers and the evidence (report output or rows) to look at.
func assertShare(_ measured: Double, near expected: Double, within points: Double, _ what: String,
                 evidence: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssert(measured.isFinite && abs(measured - expected) <= points,
              "\(what): \(String(format: "%.2f", measured))% is not within \(points) points of "
                + "\(String(format: "%.2f", expected))%\n\(evidence())", file: file, line: line)
}

/// Percentage of `part` in `whole`.
func percent(_ part: Int64, of whole: Int64) -> Double { whole == 0 ? .nan : 100 * Double(part) / Double(whole) }
