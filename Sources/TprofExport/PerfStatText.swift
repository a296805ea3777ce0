import Foundation
import TprofDatabase
import TprofReport

/// Counts in perf stat's layout: the count right-aligned with its unit, the event, `#` and the derived metric, the
/// running percentage in parentheses for a multiplexed event; the elapsed time (and the command's user and sys
/// time) under the totals; with intervals a time column first.
public struct PerfStatText {
    /// What was counted, as perf stat's title names it: `'make -j2'`, `system wide`, `process id '1234'`.
    public var title: String
    /// Names of the threads counted one by one (--per-thread).
    public var threadNames: [Int32: String]

    public init(title: String, threadNames: [Int32: String]) {
        self.title = title
        self.threadNames = threadNames
    }

    /// The totals, perf stat's summary block.
    public func summary(_ rows: [CountRow], elapsed: UInt64, commandTimes: (user: Double, system: Double)?) -> String {
        var body = ""
        for group in CountSheet.groups(rows) {
            for row in group { body += prefix(row) + line(row, in: group) + "\n" }
        }
        return summary(body: body, elapsed: elapsed, commandTimes: commandTimes)
    }

    /// perf stat's title, `body` (the counts in any layout), and the elapsed time under them.
    public func summary(body: String, elapsed: UInt64, commandTimes: (user: Double, system: Double)?) -> String {
        var out = "\n Performance counter stats for \(title):\n\n" + body
        out += "\n" + String(format: "%18.9f seconds time elapsed\n", Double(elapsed) / 1e9)
        if let commandTimes {
            out += "\n" + String(format: "%18.9f seconds user\n", commandTimes.user)
            out += String(format: "%18.9f seconds sys\n", commandTimes.system)
        }
        return out + "\n"
    }

    /// One interval's counts (-I), each line led by the interval's end in seconds; `header` adds perf stat's
    /// column heading first.
    public func interval(_ rows: [CountRow], header: Bool) -> String {
        var out = ""
        if header {
            let key = rows.first?.cpu != nil ? pad("CPU", 11, left: true)
                : rows.first?.tid != nil ? pad("comm-tid", 24) : ""
            out += "#           time \(key)            counts unit events\n"
        }
        for group in CountSheet.groups(rows) {
            for row in group {
                out += String(format: "%16.9f ", Double(row.intervalEnd) / 1e9) + prefix(row) + line(row, in: group)
                    + "\n"
            }
        }
        return out
    }

    /// The CPU (`CPU0`, as perf stat -A) or the thread (`comm-tid`, as --per-thread) a row counts.
    private func prefix(_ row: CountRow) -> String {
        if let cpu = row.cpu { return pad("CPU\(cpu)", 11, left: true) }
        if let tid = row.tid { return pad("\(threadNames[tid] ?? "?")-\(tid)", 24) }
        return ""
    }

    /// `count unit event # metric (running%)`, with perf stat's widths.
    private func line(_ row: CountRow, in group: [CountRow]) -> String {
        var text = pad(CountSheet.countText(row), 18) + " " + pad(CountSheet.unit(of: row), 4, left: true) + " "
        if let metric = CountSheet.metric(for: row, in: group) {
            let number = metric.isPercent ? String(format: "%7.2f%%", metric.value) : String(format: "%8.3f", metric.value)
            text += pad(row.event, 32, left: true) + " # " + number + " " + pad(metric.unit, 23, left: true)
        } else {
            text += pad(row.event, 60, left: true)
        }
        if row.status == .counted && row.timeRunning < row.timeEnabled {
            text += String(format: "  (%.2f%%)", row.percentRunning)
        }
        return text
    }

    /// `text` padded with spaces to `width`, on the left (right-aligned) unless `left` says the text goes first.
    private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return left ? text + padding : padding + text
    }
}
