import Foundation
import TprofTestSupport
import XCTest

/// A shell in a detached tmux session of 80x24 on a private server, driven by send-keys and read by capture-pane.
final class TerminalSession {
    private let socket: String
    static let prompt = "top-test$ "
    /// The prompt as capture-pane shows it on an empty line: without its trailing space.
    static let promptLine = "top-test$"
    private static var sessions = 0

    init() throws {
        TerminalSession.sessions += 1
        socket = "tprof-top-test-\(getpid())-\(TerminalSession.sessions)"
        try tmux(["-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "-s", "main",
                  "env", "PS1=\(Self.prompt)", "bash", "--norc", "--noprofile"])
        guard waitForScreen({ $0.contains { $0 == Self.promptLine } }) != nil else {
            throw TestSupportError("the shell in tmux did not show its prompt")
        }
    }

    deinit { _ = try? tmux(["kill-server"]) }

    /// Runs tmux through popen: the server it starts keeps no descriptor of ours open (Foundation's Process waits
    /// for every holder of its own to exit, and the server outlives the client).
    @discardableResult
    private func tmux(_ arguments: [String]) throws -> String {
        let words = ["/usr/bin/tmux", "-L", socket] + arguments
        let line = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        guard let pipe = popen(line + " 2>&1", "r") else { throw TestSupportError("cannot run \(line)") }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, pipe)
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        let status = pclose(pipe)
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0 else { throw TestSupportError("\(line) failed (\(status)): \(text)") }
        return text
    }

    /// Types `line` and Enter.
    func type(_ line: String) throws {
        try tmux(["send-keys", "-t", "main", "-l", line])
        try tmux(["send-keys", "-t", "main", "Enter"])
    }

    /// Presses one key, as typed.
    func press(_ key: String) throws {
        try tmux(["send-keys", "-t", "main", "-l", key])
    }

    /// Resizes the terminal (the program in it gets SIGWINCH).
    func resize(columns: Int, rows: Int) throws {
        try tmux(["resize-window", "-t", "main", "-x", "\(columns)", "-y", "\(rows)"])
    }

    /// The screen's lines.
    func screen() throws -> [String] {
        var lines = try tmux(["capture-pane", "-p", "-t", "main"]).components(separatedBy: "\n")
        // The last line ends with a line break too.
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// The screen once `condition` holds for it, polled for up to `timeout` seconds; nil if it never did.
    func waitForScreen(timeout: TimeInterval = 10, _ condition: ([String]) -> Bool) -> [String]? {
        var last: [String] = []
        let held = Processes.waitUntil(timeout: timeout) {
            last = (try? screen()) ?? []
            return condition(last)
        }
        return held ? last : nil
    }

    /// The process the shell runs in the foreground (its only child), once there is one.
    func foregroundProcess() throws -> Int32 {
        let shell = try tmux(["display-message", "-p", "-t", "main", "#{pane_pid}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var child: Int32?
        Processes.waitUntil(timeout: 10) {
            let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
            child = children.split(separator: " ").first.flatMap { Int32($0) }
            return child != nil
        }
        guard let child else { throw TestSupportError("the shell in tmux runs no command") }
        return child
    }
}

/// The live view as the screen shows it: the header, the column titles and the rows under them.
struct TopScreen {
    var lines: [String]

    var titles: String? { lines.first { $0.hasPrefix("percent") } }

    var rows: [String] {
        guard let index = lines.firstIndex(where: { $0.hasPrefix("percent") }) else { return [] }
        return lines[(index + 1)...].filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    var header: String { lines.prefix(2).joined(separator: "\n") }

    /// True once the view is up and has rows of a refresh.
    var hasRows: Bool { !rows.isEmpty }
}

/// Examples/spin built as the README builds it, shared by the tests.
enum SpinExample {
    private static let built = SharedFixture<(TemporaryDirectory, String)>(make: {
        let directory = try TemporaryDirectory(prefix: "tprof-top-spin")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/spin/spin.c")
        let text = try String(contentsOf: source, encoding: .utf8)
        return (directory, try compileC(source: text, name: "spin", flags: ["-fno-inline"], in: directory))
    })

    /// The spin executable.
    static func path() throws -> String { try built.value().1 }

    /// spin running for `seconds` of CPU time, in the background.
    static func start(seconds: Int = 60) throws -> ChildProcess {
        try ChildProcess(executable: path(), arguments: ["\(seconds)"])
    }
}

/// The first word of the symbol column of a row (`  64.99%      245 [.] hot_a   spin`).
func symbol(of row: String) -> String? {
    let fields = row.split(separator: " ")
    return fields.count >= 4 ? String(fields[3]) : nil
}
