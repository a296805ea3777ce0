import Foundation
import TprofTestSupport
import XCTest

/// One row of a flat per-symbol profile, from `tprof-report --by-symbol` or `perf report --sort sym`.
struct SymbolRow: Equatable {
    var percent: Double
    /// tprof's count, or perf's with `perf report -n`.
    var samples: Int?
    /// tprof only: the library or executable.
    var dso: String?
    /// The `[k]` marker (perf and tprof both print `[k]` for kernel and `[.]` for user space).
    var kernel: Bool
    var symbol: String
}

/// A flat per-symbol profile from one of the two tools.
struct SymbolProfile {
    var tool: String
    var rows: [SymbolRow]

    /// The summed share of the rows that satisfy `matching`.
    func share(where matching: (SymbolRow) -> Bool) -> Double {
        rows.filter(matching).reduce(0) { $0 + $1.percent }
    }

    /// The summed share of every row named exactly `symbol` (perf merges the libraries of a name; so does this).
    func share(of symbol: String) -> Double { share { $0.symbol == symbol } }

    /// The summed share of the kernel (`[k]`) rows.
    var kernelShare: Double { share { $0.kernel } }

    /// The rows as the tool printed them, for failure messages.
    var listing: String {
        rows.prefix(25).map { row in
            String(format: "%7.2f%%  ", row.percent) + (row.kernel ? "[k] " : "[.] ") + row.symbol
                + (row.dso.map { "  (\($0))" } ?? "")
        }.joined(separator: "\n")
    }

    /// Parses `perf report --stdio` output: lines such as `    62.15%  [.] hot_a`, or with `-n`
    /// `    62.15%          1234  [.] hot_a`.
    init(perfReport text: String) {
        tool = "perf"
        rows = []
        let pattern = try! NSRegularExpression(pattern: #"^\s*([0-9]+\.[0-9]+)%\s+(?:([0-9]+)\s+)?\[(.)\]\s+(.*?)\s*$"#)
        for line in text.components(separatedBy: "\n") {
            let range = NSRange(line.startIndex..., in: line)
            guard let match = pattern.firstMatch(in: line, range: range),
                  let percent = Range(match.range(at: 1), in: line).flatMap({ Double(line[$0]) }),
                  let marker = Range(match.range(at: 3), in: line).map({ String(line[$0]) }),
                  let symbol = Range(match.range(at: 4), in: line).map({ String(line[$0]) }) else { continue }
            let samples = Range(match.range(at: 2), in: line).flatMap { Int(line[$0]) }
            rows.append(SymbolRow(percent: percent, samples: samples, dso: nil, kernel: marker == "k", symbol: symbol))
        }
    }

    /// Reads `tprof-report --by-symbol --format json` rows.
    init(tprofRows: [[String: Any]]) {
        tool = "tprof"
        rows = tprofRows.map { row in
            SymbolRow(percent: (row["percent"] as? NSNumber)?.doubleValue ?? -1,
                      samples: (row["samples"] as? NSNumber)?.intValue, dso: row["dso"] as? String,
                      kernel: (row["k"] as? String) == "[k]", symbol: row["symbol"] as? String ?? "")
        }
    }
}

/// One finished tprof recording and the reports over it.
struct TprofRecording {
    let database: String
    /// How tprof-record ended, with the profiled command's stdout.
    let result: ProcessResult

    /// Runs tprof-report on the database with `arguments` and asserts that it succeeded.
    func report(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try Tool.report.run([database] + arguments)
        assertNoCrash(result, file: file, line: line)
        XCTAssertEqual(result.status, 0, "tprof-report \(arguments.joined(separator: " ")) failed\n\(result.summary)",
                       file: file, line: line)
        return result.stdout
    }

    /// The rows of a report in JSON.
    func rows(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let text = try report(arguments + ["--format", "json"], file: file, line: line)
        guard let rows = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw TestSupportError("tprof-report \(arguments) did not print a JSON array:\n\(text)")
        }
        return rows
    }

    /// `--by-symbol` (with more `arguments`, such as filters) as a profile.
    func symbolProfile(_ arguments: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws
        -> SymbolProfile {
        SymbolProfile(tprofRows: try rows(["--by-symbol"] + arguments, file: file, line: line))
    }

    /// The database, read-only, for looking at its rows.
    func open() throws -> Database { try Database(path: database) }
}

/// One execution of a command recorded by tprof-record and, inside it, by perf record.
struct SameExecution {
    /// The tprof recording: it holds perf's own process too.
    let tprof: TprofRecording
    /// The command's process in the tprof recording.
    let pid: Int64
    let perf: SymbolProfile

    /// tprof's `--by-symbol` profile of the command's process alone, as perf sampled it.
    func tprofProfile(file: StaticString = #filePath, line: UInt = #line) throws -> SymbolProfile {
        try tprof.symbolProfile(["--pid", String(pid)], file: file, line: line)
    }

    /// Both tools sampled the same run with the same timer: they count the same number of samples (perf's cpu-clock
    /// and tprof's are two hrtimers on one task, which can differ by a sample or two at the edges).
    func assertSameSampleCount(file: StaticString = #filePath, line: UInt = #line) throws {
        let mine = try tprofProfile(file: file, line: line).rows.reduce(0) { $0 + ($1.samples ?? 0) }
        let theirs = perf.rows.reduce(0) { $0 + ($1.samples ?? 0) }
        print("samples of one execution: tprof \(mine), perf \(theirs)")
        XCTAssertGreaterThan(theirs, 0, "perf report -n shows no sample counts", file: file, line: line)
        XCTAssertLessThanOrEqual(abs(mine - theirs), max(2, theirs / 100),
                                 "tprof counts \(mine) samples of the command, perf \(theirs)", file: file, line: line)
    }
}

/// A temporary directory to build workloads in and record them with tprof-record and with perf.
final class SymbolWorkbench {
    let directory: TemporaryDirectory
    /// Every profile sampled in this process at -F 999 on cpu-clock, as the brief of these tests asks.
    static let recordOptions = ["-e", "cpu-clock", "-F", "999"]

    init() throws {
        directory = try TemporaryDirectory(prefix: "tprof-symbols")
    }

    func path(_ name: String) -> String { directory.file(name) }

    /// Writes `source` to `fileName` and runs `compiler` with `arguments` (where `{src}` stands for the source's
    /// path and `{out}` for the output's); returns the output's path.
    @discardableResult
    func compile(_ compiler: String, source: String, fileName: String, output: String, arguments: [String]) throws
        -> String {
        let sourcePath = path(fileName)
        let outputPath = path(output)
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let expanded = arguments.map { $0.replacingOccurrences(of: "{src}", with: sourcePath)
            .replacingOccurrences(of: "{out}", with: outputPath) }
        let result = try ChildProcess.run(try SymbolWorkbench.which(compiler), expanded, timeout: 120)
        guard result.status == 0, result.signal == nil else {
            throw TestSupportError("\(compiler) \(expanded.joined(separator: " ")) failed\n\(result.summary)")
        }
        return outputPath
    }

    /// Compiles a C program with gcc -O1 -g -fno-omit-frame-pointer -fno-inline and `flags` after the source.
    func compileC(_ source: String, name: String, flags: [String] = []) throws -> String {
        try compile("gcc", source: source, fileName: name + ".c", output: name,
                    arguments: ["-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline", "-o", "{out}", "{src}"] + flags)
    }

    /// The absolute path of a program: the first match on PATH, then the Swift toolchain in /opt/swift.
    static func which(_ program: String) throws -> String {
        if program.hasPrefix("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/opt/swift/usr/bin"]
        for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/" + program) {
            return directory + "/" + program
        }
        throw TestSupportError("\(program) is not installed (looked in \(directories))")
    }

    /// Records `command` with the built tprof-record into `name.db` and checks that it finished cleanly.
    func recordTprof(_ command: [String], name: String = "run", inWorkbench: Bool = false,
                     file: StaticString = #filePath, line: UInt = #line) throws -> TprofRecording {
        let database = path(name + ".db")
        let result = try Tool.record.run(SymbolWorkbench.recordOptions + ["-q", "-o", database, "--"] + command,
                                         currentDirectory: inWorkbench ? directory.path : nil, timeout: 120)
        assertNoCrash(result, file: file, line: line)
        guard result.status == 0 else {
            throw TestSupportError("tprof-record \(command.joined(separator: " ")) failed\n\(result.summary)")
        }
        return TprofRecording(database: database, result: result)
    }

    /// Records one execution of `command` with both tools: tprof-record runs `perf record`, which runs the command,
    /// so both sample the very same run (two separate runs on a busy machine differ by more than the tools do).
    /// tprof's profile is of the command's own process; perf's is `perf report --sort sym` of its perf.data.
    ///
    /// perf 6.1 aborts ("assertion failed at util/build-id.c:1010", stack smashing) while any other session that asks
    /// for build ids in its MMAP2 records runs on the machine: the kernel sets PERF_RECORD_MISC_MMAP_BUILD_ID in the
    /// mmap event it shares between sessions and never clears it, so perf receives maj/min/inode under the build-id
    /// flag. That failure is retried a few times.
    /// - Parameter inWorkbench: runs the command in the workbench's directory (for one that writes files there).
    func recordWithPerf(_ command: [String], name: String = "same", inWorkbench: Bool = false,
                        file: StaticString = #filePath, line: UInt = #line) throws -> SameExecution {
        let data = path(name + ".data")
        let perf = try SymbolWorkbench.which("perf")
        var failure = ""
        for attempt in 1...5 {
            if attempt > 1 {
                print("perf crashed on a leaked build-id flag (another session records build ids); retrying")
                sleep(3)
            }
            unlink(path(name + ".db"))
            let recording = try recordTprof([perf, "record"] + SymbolWorkbench.recordOptions
                + ["--no-buildid-cache", "-q", "-o", data, "--"] + command, name: name, inWorkbench: inWorkbench,
                file: file, line: line)
            if Self.isLeakedBuildIDCrash(recording.result) { failure = recording.result.summary; continue }
            let report = try ChildProcess.run(perf, ["report", "-i", data, "--sort", "sym", "--stdio", "-n"],
                                              timeout: 120)
            if Self.isLeakedBuildIDCrash(report) { failure = report.summary; continue }
            guard report.status == 0, report.signal == nil else {
                throw TestSupportError("perf report failed\n\(report.summary)")
            }
            let perfProfile = SymbolProfile(perfReport: report.stdout)
            guard !perfProfile.rows.isEmpty else {
                throw TestSupportError("perf report shows no symbols\n\(report.summary)")
            }
            let executable = URL(fileURLWithPath: command[0]).lastPathComponent
            let pid = try XCTUnwrap(try recording.open().scalarInt(
                "SELECT pid FROM processes WHERE comm = '\(executable.prefix(15))' ORDER BY pid LIMIT 1"),
                "no process named \(executable) in the recording", file: file, line: line)
            return SameExecution(tprof: recording, pid: pid, perf: perfProfile)
        }
        throw TestSupportError("perf kept crashing on MMAP2 records flagged with a build id it did not ask for "
            + "(another session on this machine records build ids)\n\(failure)")
    }

    private static func isLeakedBuildIDCrash(_ result: ProcessResult) -> Bool {
        result.stderr.contains("build-id.c") || result.stdout.contains("build-id.c")
    }
}
