import Foundation
import TprofCapture

/// A snapshot of /proc/kallsyms: text symbols with their module, sorted by address.
final class KernelSymbols {
    struct Entry {
        var address: UInt64
        var name: String
        /// Module name, or nil for the kernel image.
        var module: String?
    }

    private(set) var entries: [Entry] = []

    /// Reads `/proc/kallsyms` (or another file in its format); empty when unreadable or all addresses are 0
    /// (kernel.kptr_restrict hides them).
    init(path: String = "/proc/kallsyms") {
        guard let text = readSmallFile(path) else { return }
        var entries: [Entry] = []
        entries.reserveCapacity(200_000)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
            guard fields.count >= 3, let address = UInt64(fields[0], radix: 16), address != 0 else { continue }
            let type = fields[1]
            guard type == "t" || type == "T" || type == "w" || type == "W" else { continue }
            var module: String?
            if fields.count == 4 {
                module = fields[3].trimmingCharacters(in: CharacterSet(charactersIn: "[] \t"))
            }
            entries.append(Entry(address: address, name: String(fields[2]), module: module))
        }
        entries.sort { $0.address < $1.address }
        self.entries = entries
    }

    /// The symbol an address falls in: the last one at or below it (a kernel symbol runs to the next one).
    func lookup(_ address: UInt64) -> Entry? {
        entries.lastIndex(atOrBelow: address, key: \.address).map { entries[$0] }
    }
}

/// A JIT's `/tmp/perf-PID.map`: lines of `START SIZE name` in hex.
struct PerfMap {
    var entries: [(start: UInt64, size: UInt64, name: String)] = []

    init?(pid: Int32) {
        guard let text = readSmallFile("/tmp/perf-\(pid).map") else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let start = UInt64(fields[0].replacingOccurrences(of: "0x", with: ""), radix: 16),
                  let size = UInt64(fields[1].replacingOccurrences(of: "0x", with: ""), radix: 16) else { continue }
            entries.append((start, size, String(fields[2])))
        }
        entries.sort { $0.start < $1.start }
    }

    func lookup(_ address: UInt64) -> (start: UInt64, size: UInt64, name: String)? {
        entries.last { $0.start <= address && address < $0.start &+ $0.size }
    }
}
