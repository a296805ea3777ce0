import Foundation
import TprofTestSupport
import XCTest

/// Every `tprof-report` command line README.md shows runs, as written, against a real `tprof-record -g` recording:
/// the lines of its `sh` code blocks and its inline code spans that begin with `tprof-report`, read from the README
/// itself so that a new example is covered without a change here.
final class ReadmeExampleTests: XCTestCase {
    func testEveryReadmeExampleRuns() throws {
        let examples = try UsageExample.inReadme()
        XCTAssertGreaterThan(examples.count, 20, "too few tprof-report examples found in README.md")
        XCTAssertTrue(examples.contains { $0.command.contains("--callers leaf") }, "the README parser lost examples")
        try checkAll(examples)
    }

    /// The examples `tprof-report --help` shows run too.
    func testEveryHelpExampleRuns() throws {
        let help = try Tool.report.run(["--help"])
        let lines = help.stdout.components(separatedBy: "\n")
        let examples = lines.enumerated().compactMap { index, line -> UsageExample? in
            let command = line.trimmingCharacters(in: .whitespaces)
            guard command.hasPrefix("tprof-report ") else { return nil }
            return UsageExample(place: "tprof-report --help line \(index + 1)", command: command)
        }
        XCTAssertGreaterThan(examples.count, 5, "too few examples in tprof-report --help\n\(help.stdout)")
        try checkAll(examples)
    }

    /// Every SQL block of Schema/README.md runs through `tprof-report --sql` on the recording and answers rows.
    func testEverySchemaReadmeQueryRuns() throws {
        let text = try String(contentsOfFile: UsageExample.root + "/Schema/README.md", encoding: .utf8)
        let blocks = text.components(separatedBy: "```sql\n").dropFirst().compactMap {
            $0.components(separatedBy: "\n```").first
        }
        XCTAssertGreaterThan(blocks.count, 15, "too few SQL blocks found in Schema/README.md")
        let recording = try CallGraphRecording.shared()
        for sql in blocks {
            let path = Self.offCPUTables.contains(where: sql.contains) ? try Self.offCPURecording.value()
                : recording.path
            let result = try Tool.report.run([path, "--sql", sql, "--format", "csv"])
            assertNoCrash(result)
            XCTAssertEqual(result.status, 0, "\(sql)\n\(result.summary)")
            // The accounting check answers no rows on a sound file; every other query answers some.
            if !sql.contains("c.read != c.written") {
                XCTAssertGreaterThan(result.stdout.split(separator: "\n").count, 1, "no rows from\n\(sql)")
            }
        }
    }

    private func checkAll(_ examples: [UsageExample]) throws {
        let recording = try CallGraphRecording.shared()
        let products = try Tool.productsDirectory().path
        for example in examples {
            let words = example.command.split(separator: " ").map(String.init)
            let offCPU = words.contains(where: Self.offCPUOptions.contains) || example.command.contains("--event off-cpu")
            try check(example, recording: offCPU ? try Self.offCPURecording.value() : recording.path,
                      products: products)
        }
    }

    /// Reports of off-CPU time, and the tables of it, read a recording of the same program with `--off-cpu`.
    private static let offCPUOptions: Set<String> = ["--off-cpu", "--wall", "--by-state"]
    private static let offCPUTables = ["off_cpu", "off_cpu_outcomes"]
    private static let offCPURecording = SharedFixture(make: {
        try CallGraphWorkbench.shared().record("callgraph-offcpu.db", options: ["-g", "--off-cpu"],
                                               arguments: CallGraphWorkload.mainArguments)
    })

    /// Runs one example in a directory of its own, where each database it names is a copy of the recording (so an
    /// example that writes, such as --resymbolize, changes only its copy), with `tprof-report` the built one.
    private func check(_ example: UsageExample, recording: String, products: String) throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-readme")
        for database in example.databases {
            try FileManager.default.copyItem(atPath: recording, toPath: directory.file(database))
        }
        try FileManager.default.createSymbolicLink(atPath: directory.file("Examples"),
                                                   withDestinationPath: UsageExample.root + "/Examples")
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        let script = "export PATH=\"$0:$PATH\"; set -o pipefail; \(example.command)"
        let result = try ChildProcess.run("/bin/bash", ["-c", script, products], currentDirectory: directory.path,
                                          timeout: 60)
        let what = "\(example.place): \(example.command)"
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, "\(what)\n\(result.summary)")
        // An example that redirects its output or names an output file leaves a new file instead of printing.
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { !before.contains($0) }
            .map { (try? FileManager.default.attributesOfItem(atPath: directory.file($0))[.size] as? Int) ?? 0 }
        XCTAssertTrue(!result.stdout.isEmpty || written.contains { $0 > 0 },
                      "\(what) printed nothing and wrote no file\n\(result.summary)")
    }
}

/// A `tprof-report` command line shown to users: in README.md, or in the tool's help.
struct UsageExample {
    /// Where it is shown, for messages.
    var place: String
    var command: String

    /// The package's root directory, where README.md is.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The placeholder the README's prose uses for a database.
    static let placeholder = "FILE"

    /// The databases the command reads: each `NAME.db` argument, or tprof.db, which is read when none is given.
    var databases: [String] {
        let named = command.split(separator: " ").map(String.init).filter { $0.hasSuffix(".db") }
        return Array(Set(named + ["tprof.db"]))
    }

    /// The examples README.md shows.
    static func inReadme() throws -> [UsageExample] {
        let text = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        var examples: [UsageExample] = []
        var inShellBlock = false
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            if line.hasPrefix("```") {
                inShellBlock = !inShellBlock && line == "```sh"
                continue
            }
            let commands = inShellBlock ? [withoutComment(line)] : inlineCode(line)
            examples += commands.filter { $0.hasPrefix("tprof-report ") }.map { command in
                let words = command.split(separator: " ").map { $0 == placeholder ? "run.db" : String($0) }
                return UsageExample(place: "README.md line \(index + 1)", command: words.joined(separator: " "))
            }
        }
        return examples
    }

    /// A shell line without its trailing `# comment`.
    private static func withoutComment(_ line: String) -> String {
        let code = line.range(of: #"\s+#\s.*$"#, options: .regularExpression).map { String(line[..<$0.lowerBound]) }
        return (code ?? line).trimmingCharacters(in: .whitespaces)
    }

    /// The `code spans` of a line of prose.
    private static func inlineCode(_ line: String) -> [String] {
        line.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }
}
