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
            guard let maps = readSmallFile("/proc/\(pid)/maps") else { continue }
            for line in maps.split(separator: "\n") {
                if let mapping = parseMapsLine(line, pid: pid, time: time) { records.append(.mmap(mapping)) }
            }
        }
        return records
    }

    /// Parses `start-end perms offset major:minor inode [path]`.
    static func parseMapsLine(_ line: Substring, pid: Int32, time: UInt64) -> SidebandRecord.Mapping? {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count >= 5 else { return nil }
        let range = fields[0].split(separator: "-")
        let device = fields[3].split(separator: ":")
        guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
              end >= start, let offset = UInt64(fields[2], radix: 16), device.count == 2,
              let major = UInt32(device[0], radix: 16), let minor = UInt32(device[1], radix: 16),
              let inode = UInt64(fields[4]) else { return nil }
        let perms = Array(fields[1])
        var protection: UInt32 = 0
        if perms.count >= 4 {
            if perms[0] == "r" { protection |= 1 }
            if perms[1] == "w" { protection |= 2 }
            if perms[2] == "x" { protection |= 4 }
        }
        let flags: UInt32 = perms.count >= 4 && perms[3] == "s" ? 1 : 2
        let path = fields.count == 6 ? fields[5].trimmingCharacters(in: .whitespaces) : "//anon"
        return SidebandRecord.Mapping(
            time: time, pid: pid, tid: pid, start: start, length: end - start, pageOffset: offset, major: major,
            minor: minor, inode: inode, inodeGeneration: nil, buildID: nil, protection: protection, flags: flags,
            filename: path, source: .proc)
    }
}
