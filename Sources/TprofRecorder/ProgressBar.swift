import Foundation
import TprofCapture

/// The progress of one finishing step on the status line: a bar, the share done, done/total and the time left.
final class ProgressBar {
    private let task: String
    private let unit: String
    private let line: StatusLine?
    private let began = monotonicNanoseconds()
    private var lastDrawn: UInt64 = 0
    /// Redrawn at most this often, and always at the start and the end.
    private static let interval: UInt64 = 100_000_000

    init(task: String, unit: String, line: StatusLine?) {
        self.task = task
        self.unit = unit
        self.line = line
    }

    func update(done: Int, total: Int) {
        guard let line else { return }
        let now = monotonicNanoseconds()
        guard done == 0 || done >= total || now - lastDrawn >= Self.interval else { return }
        lastDrawn = now
        line.show(Self.text(task: task, unit: unit, done: done, total: total, elapsed: Double(now - began) / 1e9))
    }

    /// `resolving symbols [#######.............] 35% 12,345/35,000 addresses, 4 s left`; the time left is said
    /// once a second has passed, from the pace so far.
    static func text(task: String, unit: String, done: Int, total: Int, elapsed: Double) -> String {
        let width = 20
        let fraction = total > 0 ? min(1, Double(max(0, done)) / Double(total)) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var text = "\(task) [\(bar)] \(Int(fraction * 100))% \(grouped(done))/\(grouped(total)) \(unit)"
        if done > 0, done < total, elapsed >= 1 {
            let left = elapsed * Double(total - done) / Double(done)
            text += left < 60 ? ", \(Int(left.rounded(.up))) s left"
                : ", \(Int(left / 60)) min \(Int(left.truncatingRemainder(dividingBy: 60))) s left"
        }
        return text
    }

    /// 12345 as "12,345".
    static func grouped(_ value: Int) -> String {
        var digits = String(value.magnitude)
        var index = digits.endIndex
        while digits.distance(from: digits.startIndex, to: index) > 3 {
            index = digits.index(index, offsetBy: -3)
            digits.insert(",", at: index)
        }
        return value < 0 ? "-" + digits : digits
    }
}
