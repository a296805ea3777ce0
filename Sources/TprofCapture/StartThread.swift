import Dispatch
import Foundation

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
