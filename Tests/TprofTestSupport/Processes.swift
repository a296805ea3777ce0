import Foundation
import Glibc

/// Looks at processes through /proc.
public enum Processes {
    /// The state letter of `pid` from /proc/PID/stat (R, S, D, Z, ...); nil when there is no such process.
    public static func state(of pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].first(where: { $0 != " " })
    }

    /// True while `pid` exists and is not a zombie (a zombie has ended and only waits to be reaped).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let state = state(of: pid) else { return false }
        return state != "Z" && state != "X"
    }

    /// Live (not zombie) processes whose comm is `name` (the executable's name, cut to 15 bytes).
    public static func alive(named name: String) -> [Int32] {
        let comm = String(name.utf8.prefix(15)) ?? name
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            let text = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)
            return text?.trimmingCharacters(in: .newlines) == comm && isAlive(pid)
        }.sorted()
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns its last value.
    @discardableResult
    public static func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !condition() {
            if Date() >= deadline { return condition() }
            usleep(20_000)
        }
        return true
    }
}
