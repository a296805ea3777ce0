import Foundation
import Glibc

/// A failed system call: the operation and its errno.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32

    public init(_ operation: String, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

/// Runs `call` until it does not fail with EINTR; the one place interrupted system calls are retried.
@inline(__always)
public func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}

/// Reads a whole small file such as /proc/sys/kernel/perf_event_paranoid; nil when it cannot be read.
public func readSmallFile(_ path: String) -> String? {
    let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { buffer in
            retryingEINTR { read(fd, buffer.baseAddress, buffer.count) }
        }
        if n < 0 { return nil }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// An integer kernel setting under /proc/sys, such as `kernel/perf_event_paranoid`.
public func kernelSetting(_ name: String) -> Int? {
    readSmallFile("/proc/sys/" + name).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}
