import Foundation
import TprofTestSupport
import XCTest

/// Shell completion scripts and the machine-readable help of both tools.
final class CompletionTests: XCTestCase {
    private func run(_ tool: Tool, _ arguments: [String]) throws -> ProcessResult {
        let result = try tool.run(arguments)
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertTrue(result.stderr.isEmpty, result.summary)
        return result
    }

    func testCompletionScripts() throws {
        let bash = try run(.record, ["--generate-completion-script", "bash"]).stdout
        XCTAssertTrue(bash.hasPrefix("#!/bin/bash"), String(bash.prefix(200)))
        XCTAssertTrue(bash.contains("complete ") && bash.contains("tprof-record"), "no complete command")
        XCTAssertTrue(bash.contains("--call-graph") && bash.contains("--keep-stacks"), "options missing")

        let zsh = try run(.report, ["--generate-completion-script", "zsh"]).stdout
        XCTAssertTrue(zsh.hasPrefix("#compdef tprof-report"), String(zsh.prefix(200)))
        XCTAssertTrue(zsh.contains("--pprof") && zsh.contains("--speedscope") && zsh.contains("--timeline"))
        // --format completes to its three values.
        XCTAssertTrue(zsh.contains("('table' 'csv' 'json')"), "zsh: no values for --format")
        let reportFish = try run(.report, ["--generate-completion-script", "fish"]).stdout
        XCTAssertTrue(reportFish.contains("-l 'format'") && reportFish.contains("'table csv json'"),
                      "fish: no values for --format")

        let fish = try run(.record, ["--generate-completion-script", "fish"]).stdout
        XCTAssertTrue(fish.contains("complete -c 'tprof-record'"), String(fish.prefix(300)))
        let reportBash = try run(.report, ["--generate-completion-script", "bash"]).stdout
        XCTAssertTrue(reportBash.contains("tprof-report") && reportBash.contains("--diff"))

        // An unknown shell is one clear line.
        for tool in [Tool.record, Tool.report, Tool.top] {
            assertOneLineError(try tool.run(["--generate-completion-script", "tcsh"]), contains: "'tcsh'")
        }
        let topFish = try run(.top, ["--generate-completion-script", "fish"]).stdout
        XCTAssertTrue(topFish.contains("complete -c 'tprof-top'") && topFish.contains("-l 'interval'"),
                      String(topFish.prefix(300)))
    }

    func testEventNamesAreOfferedAfterDashE() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-completion")
        let script = directory.file("tprof-record.bash")
        try run(.record, ["--generate-completion-script", "bash"]).stdout.write(toFile: script, atomically: false,
                                                                                  encoding: .utf8)
        // Bash calls the completion function with the command, the word being completed and the word before it.
        let bash = try ChildProcess.run("/bin/bash", ["-c", """
            source "$0"
            COMP_WORDS=(tprof-record -q -e cpu-c); COMP_CWORD=3
            COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
            _tprof-record tprof-record cpu-c -e
            printf '%s\n' "${COMPREPLY[@]}"
            """, script])

        XCTAssertEqual(bash.status, 0, bash.summary)
        XCTAssertEqual(Set(bash.stdout.split(separator: "\n")), ["cpu-clock", "cpu-cycles"], bash.summary)

        let zsh = try run(.record, ["--generate-completion-script", "zsh"]).stdout
        let fish = try run(.record, ["--generate-completion-script", "fish"]).stdout
        for name in ["cycles", "cpu-clock", "page-faults", "context-switches"] {
            XCTAssertTrue(zsh.contains("'\(name)'"), "zsh lacks \(name)")
            XCTAssertTrue(fish.contains(" \(name) ") || fish.contains("'\(name) "), "fish lacks \(name)")
        }
    }

    func testDumpHelpIsJSON() throws {
        let distinctive: [Tool: String] = [.record: "call-graph", .report: "pprof", .top: "b"]
        for tool in [Tool.record, Tool.report, Tool.top] {
            let text = try run(tool, ["--experimental-dump-help"]).stdout
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
            let root = try XCTUnwrap(object as? [String: Any])
            let command = try XCTUnwrap(root["command"] as? [String: Any])
            XCTAssertEqual(command["commandName"] as? String, tool.rawValue)
            let arguments = try XCTUnwrap(command["arguments"] as? [[String: Any]])
            XCTAssertFalse(arguments.isEmpty)
            let names = arguments.compactMap { argument -> String? in
                (argument["names"] as? [[String: Any]])?.first?["name"] as? String
            }
            XCTAssertTrue(names.contains(distinctive[tool] ?? ""), "\(names)")
        }
    }

    /// The man pages are generated from this description: a `help` subcommand would put `tprof-record subcommand`
    /// in their synopsis, and an empty line in a discussion is an mdoc warning.
    func testManualDescriptionIsTheRealCommandLine() throws {
        for tool in [Tool.record, Tool.report, Tool.top] {
            let text = try run(tool, ["--experimental-dump-help"]).stdout
            let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let command = try XCTUnwrap(root["command"] as? [String: Any])
            XCTAssertNil(command["subcommands"], "\(tool.rawValue) lists subcommands: \(command["subcommands"] ?? "")")
            let discussion = try XCTUnwrap(command["discussion"] as? String)
            XCTAssertFalse(discussion.split(separator: "\n", omittingEmptySubsequences: false)
                            .contains { $0.trimmingCharacters(in: .whitespaces).isEmpty },
                           "\(tool.rawValue)'s discussion has an empty line (an mdoc warning in its man page)")
        }
    }
}
