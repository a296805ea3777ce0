import Foundation
import Glibc

/// Reads a whole small file such as /proc/sys/kernel/perf_event_paranoid; nil when it cannot be read.
public func readSmallFile(_ path: String) -> String? {
    let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return readAll(fd, limit: Int.max).map { String(decoding: $0, as: UTF8.self) }
}

/// Every byte up to the end of `fd`; nil on a read error or past `limit` bytes.
private func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { buffer in
            retryingEINTR { read(fd, buffer.baseAddress, buffer.count) }
        }
        if n < 0 || n > limit - bytes.count { return nil }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

/// Opens `path` read-only when it is a regular file, and returns the descriptor; nil otherwise. Files named by a
/// profiled program (its mappings, its perf map) may have been replaced by a FIFO, whose open or read would block
/// forever, or by a device.
public func openRegularFile(_ path: String) -> Int32? {
    var info = stat()
    guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
    // O_NONBLOCK: the name may have become a FIFO since the stat.
    let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
    guard fd >= 0 else { return nil }
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
        close(fd)
        return nil
    }
    return fd
}

/// The contents of a regular file of at most `limit` bytes, decoded as UTF-8 with repair; nil when it is not a
/// regular file, cannot be read, or is larger.
public func readRegularFile(_ path: String, limit: Int) -> String? {
    readRegularFileBytes(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
}

/// The bytes of a regular file of at most `limit` bytes, as `readRegularFile` reads its text.
public func readRegularFileBytes(_ path: String, limit: Int) -> [UInt8]? {
    guard let fd = openRegularFile(path) else { return nil }
    defer { close(fd) }
    return readAll(fd, limit: limit)
}

/// An integer kernel setting under /proc/sys, such as `kernel/perf_event_paranoid`.
public func kernelSetting(_ name: String) -> Int? {
    readSmallFile("/proc/sys/" + name).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}
