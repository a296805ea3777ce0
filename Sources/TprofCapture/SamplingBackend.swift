import Dispatch
import Foundation
import Glibc

/// A source of samples, in the spirit of NetBSD tprof's `tprof_backend_ops` (estimate frequency, start, stop).
public protocol SamplingBackend: AnyObject {
    /// A short name recorded with the run.
    var name: String { get }
    /// The CPUs the backend samples; one sink is given for each.
    var cpus: [Int] { get }
    /// Samples per second one CPU is expected to deliver, to size buffers (`tbo_estimate_freq`).
    func estimateFrequency() -> UInt64
    /// Starts delivering samples, each CPU's into the sink with that CPU's number.
    func start(sinks: [CPUSampleSink]) throws
    /// Stops sampling; when it returns, every sample read has been added to a sink and every sink flushed.
    func stop()
}

/// CLOCK_MONOTONIC in nanoseconds: the clock samples are stamped with.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Joins a thread started with `startThread`.
public final class ThreadHandle {
    private let done = DispatchSemaphore(value: 0)
    fileprivate init() {}
    fileprivate func finish() { done.signal() }
    /// Waits until the thread's body has returned; joining again returns at once.
    public func join() {
        done.wait()
        done.signal()
    }
}

/// Starts `body` on a new thread named `name`.
@discardableResult
public func startThread(name: String, _ body: @escaping () -> Void) -> ThreadHandle {
    let handle = ThreadHandle()
    let thread = Foundation.Thread {
        body()
        handle.finish()
    }
    thread.name = name
    thread.stackSize = 1 << 20
    thread.start()
    return handle
}
