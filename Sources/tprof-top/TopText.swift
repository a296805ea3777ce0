import Foundation
import TprofReport

/// What the header says of the last interval: the capture's counters, not the rows (which count the first event).
struct IntervalFacts {
    /// The events, the first of which the rows count.
    var events: [String]
    /// The rate asked for, as `999 Hz` or `every 100000 events`.
    var asked: String
    var elapsed: Double
    var seconds: Double
    /// Samples read from the kernel in the interval, every event.
    var samples: UInt64
    /// Samples lost in the interval: by the kernel, or dropped by tprof.
    var lost: UInt64
}

/// A line of the view; the column titles are shown in reverse video on a terminal.
struct ScreenLine {
    var text: String
    var isTitle = false
}

/// The view as text, for the terminal (cut to its width and height) or for -b (whole lines).
enum TopText {
    static let help = "q quit  a accumulate  c per-CPU  z clear  k kernel/user  s group  p pause"

    /// - Parameters:
    ///   - width: the terminal's columns; nil for -b, where names are not cut.
    ///   - rowLimit: the rows shown at most.
    static func lines(_ facts: IntervalFacts, totals: TopTotals, settings: ViewSettings, width: Int?,
                      rowLimit: Int, interactive: Bool) -> [ScreenLine] {
        let (rows, total) = totals.rows(settings)
        let rate = facts.seconds > 0 ? Double(facts.samples) / facts.seconds : 0
        let events = facts.events.count > 1
            ? "\(facts.events[0]) (rows; also \(facts.events.dropFirst().joined(separator: ",")))" : facts.events[0]
        var lines = [
            ScreenLine(text: "tprof-top\(settings.paused ? " [paused]" : ""): \(events), \(facts.asked) asked, "
                + "\(Int(rate.rounded())) samples/s, elapsed \(format(facts.elapsed)) s"),
            ScreenLine(text: "last \(format(facts.seconds)) s: \(facts.samples) samples, \(facts.lost) lost   "
                + "view: \(settings.accumulate ? "since start" : "interval"), by \(settings.grouping.name), "
                + settings.modes.name),
        ]
        if interactive { lines.append(ScreenLine(text: help)) }
        lines.append(ScreenLine(text: ""))
        let shown = Array(rows.prefix(rowLimit))
        let cpuColumns = settings.perCPU ? fittingCPUColumns(totals.cpus.count, width: width) : 0
        var fixed = rightAligned("percent", 7) + " " + rightAligned("samples", 8)
        for index in 0..<cpuColumns { fixed += " " + rightAligned("CPU\(totals.cpus[index])", 7) }
        let nameTitles: [String]
        switch settings.grouping {
        case .symbol: nameTitles = ["k", "symbol", "library"]
        case .process: nameTitles = ["pid", "command"]
        case .command: nameTitles = ["command"]
        case .library: nameTitles = ["library"]
        }
        // Libraries by file name, as tprof-report's tables show them; grouped by path.
        let libraryColumn = settings.grouping == .symbol ? 1 : settings.grouping == .library ? 0 : nil
        let nameTexts = shown.map { row in
            var names = row.names
            if let libraryColumn { names[libraryColumn] = ResultTable.fileName(ofLibrary: names[libraryColumn]) }
            return (row.kernel.map { [$0 ? "[k]" : "[.]"] } ?? []) + names
        }
        let widths = columnWidths(nameTitles, nameTexts, room: width.map { $0 - fixed.count - 1 })
        lines.append(ScreenLine(text: fixed + " " + pad(nameTitles, widths), isTitle: true))
        for (row, names) in zip(shown, nameTexts) {
            let percent = total > 0 ? 100 * Double(row.counts.total) / Double(total) : 0
            var text = String(format: "%6.2f%% %8d", percent, row.counts.total)
            for index in 0..<cpuColumns { text += String(format: " %7d", row.counts.perCPU[index]) }
            lines.append(ScreenLine(text: text + " " + pad(names, widths)))
        }
        if let width { return lines.map { ScreenLine(text: String($0.text.prefix(width)), isTitle: $0.isTitle) } }
        return lines
    }

    /// The per-CPU columns that leave 30 columns for the names.
    private static func fittingCPUColumns(_ count: Int, width: Int?) -> Int {
        guard let width else { return count }
        return max(0, min(count, (width - 17 - 30) / 8))
    }

    /// Each name column as wide as its widest text; on a terminal the last but one (the symbol, or the pid's
    /// command) gives up what does not fit.
    private static func columnWidths(_ titles: [String], _ texts: [[String]], room: Int?) -> [Int] {
        var widths = titles.indices.map { column in
            texts.reduce(titles[column].count) { max($0, $1[column].count) }
        }
        if titles.count == 3 { widths[2] = min(widths[2], 28) }
        guard let room else { return widths }
        let needed = widths.reduce(0, +) + widths.count - 1
        if needed > room {
            let squeezed = titles.count == 3 ? 1 : titles.count - 1
            widths[squeezed] = max(4, widths[squeezed] - (needed - room))
        }
        return widths
    }

    private static func pad(_ texts: [String], _ widths: [Int]) -> String {
        zip(texts, widths).enumerated().map { index, pair in
            let (text, width) = pair
            let cut = String(text.prefix(width))
            return index == texts.count - 1 ? cut : cut + String(repeating: " ", count: max(0, width - cut.count))
        }.joined(separator: " ")
    }

    private static func rightAligned(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private static func format(_ seconds: Double) -> String { String(format: "%.1f", seconds) }
}
