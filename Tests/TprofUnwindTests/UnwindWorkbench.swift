import Foundation
import TprofTestSupport
import XCTest

/// The programs the DWARF unwinding tests record: optimised code without frame pointers, so only the CFI can walk
/// their stacks.
enum UnwindWorkload {
    static let name = "dwprog"
    /// Optimised, no frame pointers; no inlining and no sibling calls, so every call stays a real call.
    static let flags = ["-O2", "-g", "-fomit-frame-pointer", "-fno-inline", "-fno-optimize-sibling-calls"]

    /// libwork.so: `mid` calls the function it is given (the executable's `leaf`) and does some work after it.
    static let librarySource = #"""
        static volatile unsigned long lib_sink;

        __attribute__((noinline)) unsigned long mid(unsigned long (*fn)(unsigned long), unsigned long n) {
            unsigned long r = fn(n);
            lib_sink++;
            return r + lib_sink;
        }
        """#

    /// `dwprog SECONDS`: until the process has used SECONDS of CPU, each iteration runs
    /// `main -> outer -> libwork.so:mid -> leaf(3K)` then `main -> other -> leaf(2K)`: 60% and 40% of the work, in
    /// iterations of tens of milliseconds. Every caller does work after its call (`sink++`), so none is a tail call.
    static let programSource = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>

        #define K 4000000UL

        unsigned long mid(unsigned long (*fn)(unsigned long), unsigned long n);

        static volatile unsigned long sink;

        static double cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        __attribute__((noinline)) unsigned long leaf(unsigned long n) {
            unsigned long x = n;
            for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
            sink++;
            return x;
        }

        __attribute__((noinline)) unsigned long outer(unsigned long n) {
            unsigned long r = mid(leaf, n);
            sink++;
            return r + sink;
        }

        __attribute__((noinline)) unsigned long other(unsigned long n) {
            unsigned long r = leaf(n);
            sink++;
            return r + sink;
        }

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? atof(argv[1]) : 2.0;
            unsigned long loops = 0;
            while (cpu_seconds() < seconds) {
                sink += outer(3 * K);
                sink += other(2 * K);
                loops++;
            }
            printf("dwprog: done %lu loops\n", loops);
            return 0;
        }
        """#

    /// `dwexec SECONDS PROGRAM ARGUMENT`: `main -> before_exec -> burn` until the process has used SECONDS of CPU,
    /// then it execs PROGRAM ARGUMENT in the same process.
    static let execName = "dwexec"
    static let execSource = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>
        #include <unistd.h>

        static volatile unsigned long sink;

        static double cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        __attribute__((noinline)) unsigned long burn(unsigned long n) {
            unsigned long x = n;
            for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
            sink++;
            return x;
        }

        __attribute__((noinline)) unsigned long before_exec(unsigned long n) {
            unsigned long r = burn(n);
            sink++;
            return r + sink;
        }

        int main(int argc, char **argv) {
            if (argc != 4) return 2;
            double seconds = atof(argv[1]);
            while (cpu_seconds() < seconds) sink += before_exec(1000000);
            execl(argv[2], argv[2], argv[3], (char *)0);
            perror("execl");
            return 1;
        }
        """#

    /// The Swift program (module swprog): `main -> burnOuter -> burnInner`, each @inline(never), burnOuter working
    /// after its call. `swprog SECONDS` runs until the process has used SECONDS of CPU.
    static let swiftName = "swprog"
    static let swiftSource = #"""
        import Glibc

        nonisolated(unsafe) var sink: UInt64 = 0

        @inline(never)
        func burnInner(_ n: UInt64) -> UInt64 {
            var x = n
            for _ in 0..<n { x = x &* 6364136223846793005 &+ 1442695040888963407 }
            return x
        }

        @inline(never)
        func burnOuter(_ n: UInt64) -> UInt64 {
            let r = burnInner(n)
            sink &+= 1
            return r &+ sink
        }

        func cpuSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }

        let seconds = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 1 : 1
        let n = UInt64(CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 4_000_000 : 4_000_000)
        while cpuSeconds() < seconds {
            sink &+= burnOuter(n)
        }
        print("swprog: done \(sink & 1)")
        """#
}

/// The stack families the C program's samples fall into, by their chain from the root.
enum StackFamily: String, CaseIterable {
    /// `... main;outer;mid;leaf ...`
    case outer
    /// `... main;other;leaf ...`
    case other
    /// Anything else (start-up, the loop in main, chains cut short).
    case rest

    static func of(_ framesRootFirst: [String]) -> StackFamily {
        if framesRootFirst.containsRun(["main", "outer", "mid", "leaf"]) { return .outer }
        if framesRootFirst.containsRun(["main", "other", "leaf"]) { return .other }
        return .rest
    }
}

extension Array where Element == String {
    /// True when `run` occurs as consecutive elements.
    func containsRun(_ run: [String]) -> Bool {
        guard !run.isEmpty, run.count <= count else { return false }
        for start in 0...(count - run.count) where self[start] == run[0] {
            if Array(self[start..<(start + run.count)]) == run { return true }
        }
        return false
    }
}

/// Stacks with counts, root first, as read from `tprof-report --folded` or `perf script`.
struct CountedStacks {
    var stacks: [(frames: [String], count: Int64)] = []

    var total: Int64 { stacks.reduce(0) { $0 + $1.count } }

    /// Samples per family, in percent of all samples.
    func familyShares() -> [StackFamily: Double] {
        var counts: [StackFamily: Int64] = [:]
        for stack in stacks { counts[StackFamily.of(stack.frames), default: 0] += stack.count }
        var shares: [StackFamily: Double] = [:]
        for family in StackFamily.allCases {
            shares[family] = 100 * Double(counts[family] ?? 0) / Double(max(1, total))
        }
        return shares
    }

    /// Percent of samples whose stack satisfies `predicate`.
    func share(where predicate: ([String]) -> Bool) -> Double {
        let matching = stacks.filter { predicate($0.frames) }.reduce(Int64(0)) { $0 + $1.count }
        return 100 * Double(matching) / Double(max(1, total))
    }

    /// `comm;root;...;leaf count` lines; the comm is dropped, kernel frames keep their `_[k]` marker.
    static func folded(_ text: String) throws -> CountedStacks {
        var result = CountedStacks()
        for line in text.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let count = Int64(line[line.index(after: space)...]) else {
                throw TestSupportError("not a folded line: \(line)")
            }
            let frames = line[..<space].split(separator: ";", omittingEmptySubsequences: false).dropFirst()
            result.stacks.append((frames.map(String.init), count))
        }
        return result
    }

    /// `perf script -F comm,ip,sym` output: a header line per sample, then its call chain one frame per line
    /// (leaf first, `ADDRESS SYMBOL`), then a blank line.
    static func perfScript(_ text: String) -> CountedStacks {
        var result = CountedStacks()
        var current: [String]?
        func finish() {
            if let frames = current { result.stacks.append((frames.reversed(), 1)) }
            current = nil
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                finish()
            } else if line.first == " " || line.first == "\t" {
                let parts = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
                var symbol = parts.count > 1 ? String(parts[1]) : "[unknown]"
                if symbol.hasSuffix(" (inlined)") { symbol = String(symbol.dropLast(" (inlined)".count)) }
                current?.append(symbol)
            } else {
                finish()
                current = []
            }
        }
        finish()
        return result
    }
}

/// The compiled programs, built once per test process and removed at exit.
final class UnwindWorkbench {
    let directory: TemporaryDirectory
    /// The C program, linked against `library` (found through its rpath).
    let program: String
    let library: String
    /// The Swift program, `swiftc -O -g` (no frame pointers).
    let swiftProgram: String
    /// The C program that execs another one half-way.
    let execProgram: String

    private static let fixture = SharedFixture(make: { try UnwindWorkbench() }, cleanUp: { $0.directory.remove() })
    nonisolated(unsafe) private static var recordings: [String: Result<String, Error>] = [:]

    static func shared() throws -> UnwindWorkbench {
        try fixture.value()
    }

    private init() throws {
        directory = try TemporaryDirectory(prefix: "tprof-unwind")
        library = directory.file("libwork.so")
        try Self.write(UnwindWorkload.librarySource, to: directory.file("libwork.c"))
        try Self.run("/usr/bin/gcc", UnwindWorkload.flags + ["-fPIC", "-shared", "-o", library,
                                                             directory.file("libwork.c")])
        program = directory.file(UnwindWorkload.name)
        try Self.write(UnwindWorkload.programSource, to: directory.file(UnwindWorkload.name + ".c"))
        try Self.run("/usr/bin/gcc", UnwindWorkload.flags + ["-o", program, directory.file(UnwindWorkload.name + ".c"),
                                                             "-L", directory.path, "-lwork",
                                                             "-Wl,-rpath," + directory.path])
        execProgram = directory.file(UnwindWorkload.execName)
        try Self.write(UnwindWorkload.execSource, to: execProgram + ".c")
        try Self.run("/usr/bin/gcc", UnwindWorkload.flags + ["-o", execProgram, execProgram + ".c"])
        let swiftDirectory = directory.file("swift")
        try FileManager.default.createDirectory(atPath: swiftDirectory, withIntermediateDirectories: true)
        try Self.write(UnwindWorkload.swiftSource, to: swiftDirectory + "/main.swift")
        swiftProgram = directory.file(UnwindWorkload.swiftName)
        // -g adds the CFI: on Linux swiftc -O alone emits no .eh_frame entry for functions that cannot throw, and
        // nothing (perf included) can then unwind them. -g changes no code: still no frame pointers.
        try Self.run(try Self.swiftc(), ["-O", "-g", "-module-name", UnwindWorkload.swiftName, "-o", swiftProgram,
                                         swiftDirectory + "/main.swift"], in: swiftDirectory, timeout: 300)
    }

    /// Records `arguments` of a program once per test process under `key`, with the options given.
    func recording(_ key: String, options: [String], program: String, arguments: [String]) throws -> String {
        if let cached = Self.recordings[key] { return try cached.get() }
        let result = Result { try record(key + ".db", options: options, program: program, arguments: arguments) }
        Self.recordings[key] = result
        return try result.get()
    }

    /// `tprof-record -q -e cpu-clock OPTIONS -o NAME -- [LAUNCHER...] program ARGUMENTS`; throws unless both
    /// succeeded. A launcher such as `perf record ... --` runs the program inside the same recording.
    func record(_ name: String, options: [String], program: String, arguments: [String],
                launcher: [String] = []) throws -> String {
        let database = directory.file(name)
        let result = try Tool.record.run(["-q", "-e", "cpu-clock", "-o", database] + options + ["--"] + launcher
                                            + [program] + arguments, timeout: 180)
        guard result.status == 0, result.signal == nil, result.stdout.contains(": done") else {
            throw TestSupportError("tprof-record \(options) \(program) \(arguments) failed\n\(result.summary)")
        }
        return database
    }

    /// `tprof-report DATABASE --folded [FILTERS]`, parsed.
    static func folded(_ database: String, filters: [String] = []) throws -> CountedStacks {
        let result = try Tool.report.run([database, "--folded"] + filters, timeout: 120)
        guard result.status == 0 else { throw TestSupportError("tprof-report --folded failed\n\(result.summary)") }
        return try CountedStacks.folded(result.stdout)
    }

    static func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw TestSupportError("cannot write \(path): \(error)")
        }
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: String? = nil,
                    timeout: TimeInterval = 120) throws -> ProcessResult {
        let result = try ChildProcess.run(executable, arguments, currentDirectory: directory, timeout: timeout)
        guard result.status == 0, result.signal == nil else {
            throw TestSupportError("\(executable) \(arguments.joined(separator: " ")) failed\n\(result.summary)")
        }
        return result
    }

    /// The Swift compiler of the toolchain on the PATH (or /opt/swift).
    static func swiftc() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/opt/swift/usr/bin", "/usr/bin"] {
            let candidate = directory + "/swiftc"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestSupportError("no swiftc on the PATH or in /opt/swift/usr/bin")
    }
}
