import Foundation
import TprofTestSupport
import XCTest

/// The full-screen view in a real terminal (tmux, 80x24): what it shows, what each key does, and the terminal it
/// leaves behind.
final class LiveViewTests: XCTestCase {
    private var spin: ChildProcess!
    private var terminal: TerminalSession!

    override func setUpWithError() throws {
        spin = try SpinExample.start()
        terminal = try TerminalSession()
    }

    override func tearDown() {
        spin.send(SIGKILL)
        terminal = nil
    }

    /// Starts tprof-top on the spin process and waits for a refresh with rows.
    private func startTop(_ arguments: String = "") throws -> TopScreen {
        try terminal.type("\(try Tool.top.path()) -p \(spin.pid) \(arguments)")
        guard let lines = terminal.waitForScreen({ TopScreen(lines: $0).hasRows }) else {
            throw TestSupportError("tprof-top showed no rows\n\((try? terminal.screen())?.joined(separator: "\n") ?? "")")
        }
        return TopScreen(lines: lines)
    }

    private func view(after key: String, until condition: @escaping (TopScreen) -> Bool) throws -> TopScreen {
        try terminal.press(key)
        let lines = terminal.waitForScreen { condition(TopScreen(lines: $0)) }
        XCTAssertNotNil(lines, "after '\(key)': \((try? terminal.screen())?.joined(separator: "\n") ?? "")")
        return TopScreen(lines: lines ?? [])
    }

    /// The screen once tprof-top has left: the shell's prompt, nothing of the view, and sane terminal settings.
    private func assertCleanShell(file: StaticString = #filePath, line: UInt = #line) throws {
        let lines = terminal.waitForScreen { $0.last(where: { !$0.isEmpty }) == TerminalSession.promptLine }
        XCTAssertNotNil(lines, "no prompt after tprof-top\n\((try? terminal.screen())?.joined(separator: "\n") ?? "")",
                        file: file, line: line)
        let text = (lines ?? []).joined(separator: "\n")
        XCTAssertFalse(text.contains("q quit") || text.contains("samples/s"), "the view is left on the screen\n\(text)",
                       file: file, line: line)
        try terminal.type("clear; stty -a | tr ' ' '\\n' | grep -xE -- '-?(icanon|echo|icrnl|opost|isig)' | tr '\\n' ' '; echo")
        let settings = terminal.waitForScreen { $0.contains { $0.contains("icanon") } }?.joined(separator: "\n") ?? ""
        for flag in ["icanon", "echo", "icrnl", "opost", "isig"] {
            XCTAssertTrue(settings.contains(flag) && !settings.contains("-" + flag),
                          "the terminal is not sane (\(flag))\n\(settings)", file: file, line: line)
        }
    }

    func testHotFunctionIsOnTheFirstRowWithinThreeSeconds() throws {
        let temporary = try TemporaryDirectory()
        try terminal.type("TMPDIR=\(temporary.path) \(try Tool.top.path()) -p \(spin.pid)")
        let lines = terminal.waitForScreen(timeout: 3) { symbol(of: TopScreen(lines: $0).rows.first ?? "") == "hot_a" }
        XCTAssertNotNil(lines, (try? terminal.screen())?.joined(separator: "\n") ?? "")
        let screen = TopScreen(lines: lines ?? [])
        XCTAssertTrue(screen.header.contains("samples/s"), screen.header)
        XCTAssertTrue(screen.lines.contains { $0.contains("q quit") && $0.contains("p pause") }, "no help line")
        XCTAssertTrue(screen.rows.first?.contains("spin") == true, "library column: \(screen.rows)")
        XCTAssertTrue(screen.lines.allSatisfy { $0.count <= 80 })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporary.path).count, 1,
                       "the recording's private directory")
        try terminal.press("q")
        try assertCleanShell()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporary.path), [])
    }

    func testPerCPUColumnsAndAccumulation() throws {
        _ = try startTop()
        let perCPU = try view(after: "c") { $0.titles?.contains("CPU0") == true }
        XCTAssertTrue(perCPU.titles?.contains("CPU1") == true, perCPU.titles ?? "")
        let accumulated = try view(after: "a") { $0.header.contains("since start") }
        XCTAssertTrue(accumulated.rows.first?.contains(" hot_a ") == true, accumulated.lines.joined(separator: "\n"))
        _ = try view(after: "a") { $0.header.contains("view: interval") }
        _ = try view(after: "c") { $0.titles?.contains("CPU0") == false }
    }

    func testGroupingCyclesThroughProcessCommandAndLibrary() throws {
        _ = try startTop()
        let process = try view(after: "s") { $0.titles?.contains("pid") == true }
        XCTAssertTrue(process.rows.first?.contains("\(spin.pid) spin") == true, process.rows.joined(separator: "\n"))
        let command = try view(after: "s") { $0.titles?.hasSuffix("command") == true && $0.titles?.contains("pid") == false }
        XCTAssertTrue(command.rows.first?.hasSuffix(" spin") == true, command.rows.joined(separator: "\n"))
        let library = try view(after: "s") { $0.titles?.hasSuffix("library") == true && $0.titles?.contains("symbol") == false }
        XCTAssertTrue(library.header.contains("by library"), library.header)
        XCTAssertTrue(library.rows.first?.hasSuffix(" spin") == true, library.rows.joined(separator: "\n"))
        _ = try view(after: "s") { $0.titles?.contains("symbol") == true }
    }

    func testModeFilterCyclesKernelUserBoth() throws {
        _ = try startTop()
        let kernel = try view(after: "k") { $0.header.contains("kernel only") }
        XCTAssertTrue(kernel.rows.allSatisfy { $0.contains("[k]") }, kernel.rows.joined(separator: "\n"))
        let user = try view(after: "k") { $0.header.contains("user only") && $0.hasRows }
        XCTAssertTrue(user.rows.allSatisfy { $0.contains("[.]") }, user.rows.joined(separator: "\n"))
        XCTAssertEqual(symbol(of: user.rows.first ?? ""), "hot_a")
        _ = try view(after: "k") { $0.header.contains("kernel+user") }
    }

    func testPauseFreezesTheNumbersAndClearEmptiesThem() throws {
        _ = try startTop("-i 0.5")
        let paused = try view(after: "p") { $0.header.contains("[paused]") }
        // Three refreshes pass: a frozen view shows the same numbers.
        usleep(1_500_000)
        let later = TopScreen(lines: try terminal.screen())
        XCTAssertEqual(later.lines, paused.lines)
        let cleared = try view(after: "z") { !$0.hasRows }
        XCTAssertTrue(cleared.header.contains("[paused]"), cleared.header)
        let resumed = try view(after: "p") { $0.hasRows && !$0.header.contains("[paused]") }
        XCTAssertEqual(symbol(of: resumed.rows.first ?? ""), "hot_a", resumed.lines.joined(separator: "\n"))
    }

    func testAResizedTerminalIsRedrawnToItsNewSize() throws {
        _ = try startTop("-i 0.5")
        try terminal.resize(columns: 60, rows: 12)
        let narrow = terminal.waitForScreen { lines in
            lines.count <= 12 && TopScreen(lines: lines).hasRows && lines.allSatisfy { $0.count <= 60 }
        }
        XCTAssertNotNil(narrow, (try? terminal.screen())?.joined(separator: "\n") ?? "")
        XCTAssertTrue(narrow?.contains { $0.hasPrefix("q quit") } == true)
        try terminal.resize(columns: 100, rows: 30)
        let wide = terminal.waitForScreen { lines in lines.count >= 30 && TopScreen(lines: lines).rows.count > 1 }
        XCTAssertNotNil(wide, (try? terminal.screen())?.joined(separator: "\n") ?? "")
        try terminal.press("q")
        try assertCleanShell()
    }

    func testATerminalTypeNcursesDoesNotKnowIsOneLine() throws {
        try terminal.type("TERM=no-such-terminal \(try Tool.top.path()) -p \(spin.pid); echo status=$?")
        let lines = terminal.waitForScreen { $0.contains("status=1") }
        XCTAssertNotNil(lines, (try? terminal.screen())?.joined(separator: "\n") ?? "")
        let errors = (lines ?? []).filter { $0.hasPrefix("tprof-top:") }
        // One line on stderr, wrapped by the 80 columns.
        XCTAssertEqual(errors.count, 1, (lines ?? []).joined(separator: "\n"))
        XCTAssertTrue(errors.first?.hasPrefix("tprof-top: cannot use the terminal (TERM=no-such-terminal)") == true)
    }

    func testStopSignalsRestoreTheTerminal() throws {
        for signal in [SIGTERM, SIGHUP, SIGINT] {
            _ = try startTop()
            let top = try terminal.foregroundProcess()
            kill(top, signal)
            try assertCleanShell()
            try terminal.type("clear")
        }
    }

    func testCommandOutputDoesNotReachTheScreen() throws {
        try terminal.type("\(try Tool.top.path()) -- sh -c 'echo GARBLE-MARK; echo GARBLE-MARK >&2; exec \(try SpinExample.path()) 60'; echo status=$?")
        let lines = terminal.waitForScreen { TopScreen(lines: $0).rows.contains { symbol(of: $0) == "hot_a" } }
        XCTAssertNotNil(lines, (try? terminal.screen())?.joined(separator: "\n") ?? "")
        XCTAssertFalse((lines ?? []).contains { $0.contains("GARBLE-MARK") && !$0.contains("echo") })
        try terminal.press("q")
        // q ends the command with SIGTERM, and tprof-top exits with its status, as tprof-record does.
        XCTAssertNotNil(terminal.waitForScreen { $0.contains("status=143") }, (try? terminal.screen())?.joined(separator: "\n") ?? "")
    }
}
