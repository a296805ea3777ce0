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

    /// What the errno says, as strerror(3) words it.
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String { "\(operation): \(reason)" }
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
