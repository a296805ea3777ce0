import Foundation
import TprofTestSupport
import XCTest

/// One row of a flat per-symbol profile, from `tprof-report --by-symbol` or `perf report --sort sym`.
struct SymbolRow: Equatable {
    var percent: Double
    /// tprof only.
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

    /// Parses `perf report --stdio` output: lines such as `    62.15%  [.] hot_a`.
    init(perfReport text: String) {
        tool = "perf"
        rows = []
        let pattern = try! NSRegularExpression(pattern: #"^\s*([0-9]+\.[0-9]+)%\s+\[(.)\]\s+(.*?)\s*$"#)
        for line in text.components(separatedBy: "\n") {
            let range = NSRange(line.startIndex..., in: line)
            guard let match = pattern.firstMatch(in: line, range: range),
                  let percent = Range(match.range(at: 1), in: line).flatMap({ Double(line[$0]) }),
                  let marker = Range(match.range(at: 2), in: line).map({ String(line[$0]) }),
                  let symbol = Range(match.range(at: 3), in: line).map({ String(line[$0]) }) else { continue }
            rows.append(SymbolRow(percent: percent, samples: nil, dso: nil, kernel: marker == "k", symbol: symbol))
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
    func recordTprof(_ command: [String], name: String = "run", file: StaticString = #filePath,
                     line: UInt = #line) throws -> TprofRecording {
        let database = path(name + ".db")
        let result = try Tool.record.run(SymbolWorkbench.recordOptions + ["-q", "-o", database, "--"] + command,
                                         timeout: 120)
        assertNoCrash(result, file: file, line: line)
        guard result.status == 0 else {
            throw TestSupportError("tprof-record \(command.joined(separator: " ")) failed\n\(result.summary)")
        }
        return TprofRecording(database: database, result: result)
    }

    /// Records `command` with `perf record` (no build-id cache, so ~/.debug is left alone) and returns
    /// `perf report --sort sym`.
    ///
    /// perf 6.1 aborts ("assertion failed at util/build-id.c:1010", stack smashing) while any other session that asks
    /// for build ids in its MMAP2 records runs on the machine, such as a system-wide tprof-record of another test
    /// suite: the kernel sets PERF_RECORD_MISC_MMAP_BUILD_ID in the mmap event it shares between sessions and never
    /// clears it, so perf receives maj/min/inode under the build-id flag. That failure is retried a few times.
    func recordPerf(_ command: [String], name: String = "perf") throws -> SymbolProfile {
        let data = path(name + ".data")
        let perf = try SymbolWorkbench.which("perf")
        var failure = ""
        for attempt in 1...5 {
            if attempt > 1 {
                print("perf crashed on a leaked build-id flag (another session records build ids); retrying")
                sleep(3)
            }
            let recorded = try ChildProcess.run(perf, ["record"] + SymbolWorkbench.recordOptions
                + ["--no-buildid-cache", "-q", "-o", data, "--"] + command, timeout: 120)
            if Self.isLeakedBuildIDCrash(recorded) { failure = recorded.summary; continue }
            guard recorded.status == 0, recorded.signal == nil else {
                throw TestSupportError("perf record \(command.joined(separator: " ")) failed\n\(recorded.summary)")
            }
            let report = try ChildProcess.run(perf, ["report", "-i", data, "--sort", "sym", "--stdio"], timeout: 120)
            if Self.isLeakedBuildIDCrash(report) { failure = report.summary; continue }
            guard report.status == 0, report.signal == nil else {
                throw TestSupportError("perf report failed\n\(report.summary)")
            }
            let profile = SymbolProfile(perfReport: report.stdout)
            guard !profile.rows.isEmpty else {
                throw TestSupportError("perf report shows no symbols\n\(report.summary)")
            }
            return profile
        }
        throw TestSupportError("perf kept crashing on MMAP2 records flagged with a build id it did not ask for "
            + "(another session on this machine records build ids)\n\(failure)")
    }

    private static func isLeakedBuildIDCrash(_ result: ProcessResult) -> Bool {
        result.stderr.contains("build-id.c") || result.stdout.contains("build-id.c")
    }
}
