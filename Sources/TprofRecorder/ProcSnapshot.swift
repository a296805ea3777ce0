import Foundation
import TprofCapture

/// Processes, threads and mappings that existed before recording started, read from /proc (they produce no
/// kernel records).
enum ProcSnapshot {
    /// The thread ids of a process, from /proc/PID/task; nil when the process does not exist.
    static func threads(of pid: Int32) -> [Int32]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else {
            return nil
        }
        return names.compactMap { Int32($0) }.sorted()
    }

    /// Every process id in /proc.
    static func allProcesses() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { Int32($0) }.sorted()
    }

    /// Side-band records describing `pids` as they are now: each thread's comm and each process's mappings.
    static func records(for pids: [Int32], time: UInt64) -> [SidebandRecord] {
        var records: [SidebandRecord] = []
        for pid in pids {
            guard let tids = threads(of: pid) else { continue }
            for tid in tids {
                guard let comm = readSmallFile("/proc/\(pid)/task/\(tid)/comm") else { continue }
                records.append(.comm(time: time, pid: pid, tid: tid,
                                     name: comm.trimmingCharacters(in: .newlines), exec: false, source: .proc))
            }
            guard var maps = readSmallFile("/proc/\(pid)/maps") else { continue }
            // Parsed as bytes: the snapshot of -a reads every process's maps before the first sample, and splitting
            // and trimming them as Strings took about 20 µs a line.
            maps.withUTF8 { bytes in
                var lineStart = 0
                while lineStart < bytes.count {
                    let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                    if let mapping = parseMapsLine(UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd]),
                                                   pid: pid, time: time) {
                        records.append(.mmap(mapping))
                    }
                    lineStart = lineEnd + 1
                }
            }
        }
        return records
    }

    /// Parses `start-end perms offset major:minor inode [path]`; nil for a line not of that form.
    static func parseMapsLine(_ line: UnsafeBufferPointer<UInt8>, pid: Int32, time: UInt64) -> SidebandRecord.Mapping? {
        var fields = MapsFields(line)
        guard let start = fields.number(radix: 16, until: "-"), let end = fields.number(radix: 16, until: " "),
              end >= start, let perms = fields.word(), let offset = fields.number(radix: 16, until: " "),
              let major = fields.number(radix: 16, until: ":"), let minor = fields.number(radix: 16, until: " "),
              major <= UInt32.max, minor <= UInt32.max, let inode = fields.number(radix: 10, until: " ")
        else { return nil }
        var protection: UInt32 = 0
        var flags: UInt32 = 2
        if perms.count >= 4 {
            if perms[0] == UInt8(ascii: "r") { protection |= 1 }
            if perms[1] == UInt8(ascii: "w") { protection |= 2 }
            if perms[2] == UInt8(ascii: "x") { protection |= 4 }
            if perms[3] == UInt8(ascii: "s") { flags = 1 }
        }
        let path = fields.rest()
        return SidebandRecord.Mapping(
            time: time, pid: pid, tid: pid, start: start, length: end - start, pageOffset: offset,
            major: UInt32(major), minor: UInt32(minor), inode: inode, inodeGeneration: nil, buildID: nil,
            protection: protection, flags: flags,
            filename: path.isEmpty ? "//anon" : String(decoding: path, as: UTF8.self), source: .proc)
    }
}

/// The fields of a /proc/PID/maps line, read left to right.
private struct MapsFields {
    private let line: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(_ line: UnsafeBufferPointer<UInt8>) { self.line = line }

    private mutating func skipSpaces() {
        while position < line.count && (line[position] == UInt8(ascii: " ") || line[position] == UInt8(ascii: "\t")) {
            position += 1
        }
    }

    /// A number in `radix` ended by `separator` (or, for a space, by the end of the line); the separator is read.
    mutating func number(radix: UInt64, until separator: Unicode.Scalar) -> UInt64? {
        skipSpaces()
        var value: UInt64 = 0
        var digits = 0
        while position < line.count && line[position] != UInt8(ascii: separator) {
            let byte = line[position]
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard digit < radix else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: radix)
            guard !overflow else { return nil }
            let (sum, carry) = shifted.addingReportingOverflow(digit)
            guard !carry else { return nil }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { return nil }
        if position < line.count {
            position += 1
        } else if separator != " " {
            return nil
        }
        return value
    }

    /// The bytes up to the next space.
    mutating func word() -> UnsafeBufferPointer<UInt8>? {
        skipSpaces()
        let start = position
        while position < line.count && line[position] != UInt8(ascii: " ") { position += 1 }
        guard position > start else { return nil }
        return UnsafeBufferPointer(rebasing: line[start..<position])
    }

    /// The rest of the line without its surrounding blanks (the mapped file's path, or a name such as [heap]).
    mutating func rest() -> UnsafeBufferPointer<UInt8> {
        skipSpaces()
        var end = line.count
        while end > position && (line[end - 1] == UInt8(ascii: " ") || line[end - 1] == UInt8(ascii: "\t")) {
            end -= 1
        }
        return UnsafeBufferPointer(rebasing: line[position..<end])
    }
}
