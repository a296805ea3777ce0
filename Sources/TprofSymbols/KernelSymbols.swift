import Foundation
import TprofCapture

/// A snapshot of /proc/kallsyms: text symbols with their module, sorted by address.
///
/// The file has over 100,000 lines; they are parsed as bytes and a name becomes a String only when looked up.
final class KernelSymbols {
    struct Entry {
        var address: UInt64
        var name: String
        /// Module name, or nil for the kernel image.
        var module: String?
    }

    private struct Slot {
        var address: UInt64
        var name: Range<Int>
        var module: Range<Int>?
    }

    private var text: [UInt8] = []
    private var slots: [Slot] = []

    /// Symbols read.
    var count: Int { slots.count }

    /// Reads `/proc/kallsyms` (or another file in its format); empty when unreadable or all addresses are 0
    /// (kernel.kptr_restrict hides them).
    init(path: String = "/proc/kallsyms") {
        guard let contents = readSmallFile(path) else { return }
        text = Array(contents.utf8)
        slots.reserveCapacity(200_000)
        var position = 0
        let end = text.count
        while position < end {
            var lineEnd = position
            while lineEnd < end && text[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            if let slot = parseLine(position..<lineEnd) { slots.append(slot) }
            position = lineEnd + 1
        }
        slots.sort { $0.address < $1.address }
    }

    /// `ADDRESS TYPE NAME [\tMODULE]` with text types t, T, w, W only.
    private func parseLine(_ line: Range<Int>) -> Slot? {
        var address: UInt64 = 0
        var index = line.lowerBound
        while index < line.upperBound, let digit = hexValue(text[index]) {
            address = address &<< 4 | digit
            index += 1
        }
        guard address != 0, index + 3 < line.upperBound, text[index] == UInt8(ascii: " ") else { return nil }
        let type = text[index + 1]
        guard type == UInt8(ascii: "t") || type == UInt8(ascii: "T") || type == UInt8(ascii: "w")
                || type == UInt8(ascii: "W"), text[index + 2] == UInt8(ascii: " ") else { return nil }
        let nameStart = index + 3
        var nameEnd = nameStart
        while nameEnd < line.upperBound && text[nameEnd] != UInt8(ascii: "\t") && text[nameEnd] != UInt8(ascii: " ") {
            nameEnd += 1
        }
        var module: Range<Int>?
        if let open = text[nameEnd..<line.upperBound].firstIndex(of: UInt8(ascii: "[")),
           let close = text[open..<line.upperBound].firstIndex(of: UInt8(ascii: "]")) {
            module = (open + 1)..<close
        }
        return Slot(address: address, name: nameStart..<nameEnd, module: module)
    }

    private func hexValue(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt64(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The symbol an address falls in: the last one at or below it (a kernel symbol runs to the next one).
    func lookup(_ address: UInt64) -> Entry? {
        guard let index = slots.lastIndex(atOrBelow: address, key: \.address) else { return nil }
        let slot = slots[index]
        return Entry(address: slot.address, name: String(decoding: text[slot.name], as: UTF8.self),
                     module: slot.module.map { String(decoding: text[$0], as: UTF8.self) })
    }

    /// Bytes from the symbol starting at `address` to the next symbol, which is where a kernel function ends; nil
    /// when no symbol starts there, or it is the last.
    func extent(ofSymbolAt address: UInt64) -> UInt64? {
        guard var index = slots.lastIndex(atOrBelow: address, key: \.address), slots[index].address == address
        else { return nil }
        while index < slots.count && slots[index].address == address { index += 1 }
        return index < slots.count ? slots[index].address - address : nil
    }
}

/// A JIT's `/tmp/perf-PID.map`: lines of `START SIZE name` in hex.
struct PerfMap {
    var entries: [(start: UInt64, size: UInt64, name: String)] = []

    /// Largest map read: anyone can write /tmp, so the file is read only when it is a regular file of sane size.
    static let maximumBytes = 256 << 20

    init?(pid: Int32) {
        self.init(path: "/tmp/perf-\(pid).map")
    }

    init?(path: String) {
        guard let text = readRegularFile(path, limit: Self.maximumBytes) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let start = UInt64(fields[0].replacingOccurrences(of: "0x", with: ""), radix: 16),
                  let size = UInt64(fields[1].replacingOccurrences(of: "0x", with: ""), radix: 16) else { continue }
            entries.append((start, size, String(fields[2])))
        }
        entries.sort { $0.start < $1.start }
    }

    /// The last entry (in start order) that contains `address`; sizes are the file's claims, so an entry's end
    /// is never computed.
    func lookup(_ address: UInt64) -> (start: UInt64, size: UInt64, name: String)? {
        guard var index = entries.lastIndex(atOrBelow: address, key: \.start) else { return nil }
        while index >= 0 {
            if address - entries[index].start < entries[index].size { return entries[index] }
            index -= 1
        }
        return nil
    }
}
