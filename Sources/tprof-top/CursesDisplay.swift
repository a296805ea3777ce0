import CNcurses
import CTprofLinux
import Foundation
import TprofCLI

/// The full-screen view through ncurses: drawn with erase and refresh, so only what changed reaches the terminal
/// (no flicker), and given back with endwin on every way out.
final class CursesDisplay: TopDisplay {
    let isInteractive = true
    let keyDescriptor: Int32? = STDIN_FILENO
    private var screen: OpaquePointer?

    func open() throws {
        // newterm, unlike initscr, returns nil for a terminal type it does not know rather than exiting.
        guard let terminal = newterm(nil, stdout, stdin) else {
            throw ToolFailure("cannot use the terminal (TERM=\(ProcessInfo.processInfo.environment["TERM"] ?? "")): "
                + "use -b for text output")
        }
        screen = terminal
        cbreak()
        noecho()
        nonl()
        keypad(stdscr, true)
        nodelay(stdscr, true)
        curs_set(0)
    }

    func show(_ lines: (Int?, Int) -> [ScreenLine]) {
        let rows = Int(LINES)
        let columns = Int(COLS)
        guard screen != nil, rows > 0, columns > 1 else { return }
        // The header, the help line, an empty line and the titles take five rows.
        let shown = lines(max(1, columns - 1), max(0, rows - 5))
        werase(stdscr)
        for (row, line) in shown.prefix(rows).enumerated() {
            if line.isTitle { CNcurses_reverse_on() }
            mvwaddnstr(stdscr, Int32(row), 0, line.text, Int32(columns - 1))
            if line.isTitle { CNcurses_reverse_off() }
        }
        wrefresh(stdscr)
    }

    func keys() -> [Character] {
        guard screen != nil else { return [] }
        var keys: [Character] = []
        while true {
            let key = wgetch(stdscr)
            if key == ERR { return keys }
            if key > 0, key < 128, let scalar = Unicode.Scalar(UInt32(key)) { keys.append(Character(scalar)) }
        }
    }

    func resize() {
        guard screen != nil else { return }
        let rows = CTprofLinux_terminal_rows(STDOUT_FILENO)
        let columns = CTprofLinux_terminal_columns(STDOUT_FILENO)
        if rows > 0 && columns > 0 { resizeterm(rows, columns) }
    }

    func close() {
        guard let terminal = screen else { return }
        screen = nil
        endwin()
        delscreen(terminal)
    }
}
