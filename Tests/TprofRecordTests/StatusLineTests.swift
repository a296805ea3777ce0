import Foundation
import TprofTestSupport
import XCTest

/// The live status line on a terminal (a pseudo-terminal from script(1) here): redrawn in place within the
/// terminal's width, and never shown where a profiled program writes to the same terminal.
final class StatusLineTests: XCTestCase {
    private let erase = "\u{1B}[K"

    /// Runs `shellCommand` on a pseudo-terminal `columns` wide, with $R the built tprof-record; returns every byte
    /// written to the terminal.
    private func runOnTerminal(columns: Int, _ shellCommand: String, in workspace: RecordingWorkspace) throws
        -> String {
        let recorder = try Tool.record.path()
        let result = try ChildProcess.run(
            "/usr/bin/script", ["-qfec", "stty cols \(columns); R='\(recorder)'; \(shellCommand)", "/dev/null"],
            currentDirectory: workspace.directory.path)
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        return result.stdout
    }

    /// The status lines drawn: each text between a carriage return and the erase to the end of the line.
    private func statusLines(in output: String) -> [String] {
        output.components(separatedBy: "\r").compactMap { piece in
            guard piece.hasPrefix("[ tprof-record:"), let end = piece.range(of: erase) else { return nil }
            return String(piece[..<end.lowerBound])
        }
    }

    func testNothingIsDrawnIntoTheOutputOfACommandOnTheSameTerminal() throws {
        let workspace = try RecordingWorkspace(for: self)

        let output = try runOnTerminal(
            columns: 200, #"$R -o run.db -e cpu-clock -- sh -c 'echo line1; sleep 1.2; echo line2; printf partial'"#,
            in: workspace)

        XCTAssertTrue(output.hasPrefix("line1\r\nline2\r\npartial\r\n"),
                      "the command's output is left whole, its partial last line too: \(output.debugDescription)")
        let whileRunning = output.components(separatedBy: "partial")[0]
        XCTAssertFalse(whileRunning.contains(erase), "nothing drawn while the command runs: \(output.debugDescription)")
        XCTAssertTrue(output.contains("[ tprof-record: wrote "), "the summary still comes: \(output.debugDescription)")
    }

    /// Once the command has ended, the terminal is the recorder's: finishing shows a progress bar with the total.
    func testFinishingAfterACommandShowsAProgressBarWithItsTotal() throws {
        let workspace = try RecordingWorkspace(for: self)

        let output = try runOnTerminal(columns: 200, "$R -o run.db -e cpu-clock -- sh -c 'echo done; printf partial'",
                                       in: workspace)

        XCTAssertTrue(output.hasPrefix("done\r\npartial\r\n"), output.debugDescription)
        let bars = statusLines(in: output).filter { $0.hasPrefix("[ tprof-record: resolving symbols [") }
        let total = try Database(path: workspace.file("run.db")).scalarInt("SELECT count(*) FROM addresses")
        var grouped = String(total)
        for index in stride(from: grouped.count - 3, to: 0, by: -3) {
            grouped.insert(",", at: grouped.index(grouped.startIndex, offsetBy: index))
        }
        XCTAssertTrue(bars.contains { $0.hasSuffix("] 100% \(grouped)/\(grouped) addresses ]") },
                      "the bar ends at the true total: \(bars) (\(total) addresses)")
        XCTAssertTrue(output.contains("[ tprof-record: wrote "), output.debugDescription)
    }

    func testLineIsRedrawnInPlaceAndCutToANarrowTerminal() throws {
        let workspace = try RecordingWorkspace(for: self)

        let output = try runOnTerminal(columns: 30, "$R -o run.db -a -d 1.2", in: workspace)

        let lines = statusLines(in: output)
        XCTAssertTrue(lines.contains { $0.hasPrefix("[ tprof-record: 0.") }, output.debugDescription)
        for line in lines {
            XCTAssertLessThanOrEqual(line.count, 29, "the line must fit in 30 columns without wrapping: \(line)")
            XCTAssertFalse(line.contains("\n"), line)
        }
    }

    func testAttachedProcessWritingToTheSameTerminalKeepsItQuiet() throws {
        let workspace = try RecordingWorkspace(for: self)

        let shared = try runOnTerminal(columns: 200, "sleep 5 & $R -o shared.db -p $! -d 1; kill $!",
                                       in: workspace)
        let elsewhere = try runOnTerminal(
            columns: 200, "sleep 5 >/dev/null 2>&1 & $R -o elsewhere.db -p $! -d 1; kill $!", in: workspace)

        XCTAssertEqual(statusLines(in: shared), [], shared.debugDescription)
        XCTAssertFalse(shared.contains(erase), shared.debugDescription)
        XCTAssertTrue(statusLines(in: elsewhere).contains { $0.hasPrefix("[ tprof-record: 0.") },
                      elsewhere.debugDescription)
    }
}
