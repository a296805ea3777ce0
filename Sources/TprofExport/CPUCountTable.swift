import Foundation
import TprofDatabase
import TprofReport

/// Per-CPU counts in the table of NetBSD's `tprof count`: a column per event, a row per CPU (`CPU0  `), the
/// counts right-aligned in columns at least 11 wide; with intervals a time column first. A multiplexed event's
/// count is scaled, and a note under the table says how long it ran.
public struct CPUCountTable {
    /// Whether the header has been printed: with intervals it heads the first interval only.
    private var printedHeader = false
    /// The event columns' widths, fixed by the first rows so that intervals line up.
    private var widths: [String: Int] = [:]

    public init() {}

    /// The table of `rows`, one line per CPU; `time` leads each line with the interval's end in seconds.
    public mutating func render(_ rows: [CountRow], time: Bool) -> String {
        let events = rows.reduce(into: [String]()) { if !$0.contains($1.event) { $0.append($1.event) } }
        let cpus = rows.reduce(into: [Int]()) { if let cpu = $1.cpu, !$0.contains(cpu) { $0.append(cpu) } }
        for event in events where widths[event] == nil {
            let cells = rows.filter { $0.event == event }.map(CountSheet.countText)
            widths[event] = max(11, event.count, cells.map(\.count).max() ?? 0)
        }
        var out = ""
        if !printedHeader {
            out += (time ? "#           time " : "") + "      "
                + events.map { " " + pad($0, widths[$0] ?? 11) }.joined() + "\n"
            printedHeader = true
        }
        var notes: [String] = []
        let ends = rows.reduce(into: [UInt64]()) { if !$0.contains($1.intervalEnd) { $0.append($1.intervalEnd) } }
        for end in ends {
            for cpu in cpus {
                out += line(rows.filter { $0.cpu == cpu && $0.intervalEnd == end }, cpu: cpu, events: events,
                            time: time ? end : nil, notes: &notes)
            }
        }
        if !notes.isEmpty { out += "scaled (multiplexed): " + notes.joined(separator: ", ") + "\n" }
        return out
    }

    /// One CPU's row of one interval.
    private func line(_ mine: [CountRow], cpu: Int, events: [String], time: UInt64?, notes: inout [String])
        -> String {
        var out = ""
        if let time { out += String(format: "%16.9f ", Double(time) / 1e9) }
        out += "CPU" + "\(cpu)".padding(toLength: 3, withPad: " ", startingAt: 0)
        for event in events {
            let row = mine.first { $0.event == event }
            out += " " + pad(row.map(CountSheet.countText) ?? "", widths[event] ?? 11)
            if let row, row.status == .counted, row.timeRunning < row.timeEnabled {
                notes.append("\(row.event) on CPU\(cpu) ran "
                             + String(format: "%.2f%% of the time", row.percentRunning))
            }
        }
        return out + "\n"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
