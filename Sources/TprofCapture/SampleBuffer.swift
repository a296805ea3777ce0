import Foundation

/// A fixed-capacity buffer of one CPU's samples, as `tprof_buf_t`.
public final class SampleBuffer {
    /// The CPU whose samples fill it; a recycled buffer may serve another CPU.
    public internal(set) var cpu: Int
    public let capacity: Int
    // The arrays are unchecked for exclusive access: a buffer is only ever touched by the thread that holds it
    // (its CPU's reader until it is handed on, then the writer, the handover under the list's lock), and the run-time
    // checks on the reader's per-sample appends took ~4.5% of the recorder's CPU at 50 kHz -a -g.

    /// The samples, `count` of them valid; storage is kept across reuse.
    @exclusivity(unchecked) public private(set) var samples: [Sample]
    /// Call-chain entries of the samples, in sample order (`Sample.frameCount` each).
    @exclusivity(unchecked) public private(set) var frames: [UInt64] = []
    /// Call-chain entries the buffer holds before it counts as full.
    public let frameCapacity: Int
    /// User registers then stack bytes of each sample that has them, in sample order (`Sample.userDataCount`).
    @exclusivity(unchecked) public private(set) var userData: [UInt8] = []
    /// Bytes of user data the buffer holds before it counts as full.
    public let userDataCapacity: Int
    /// CLOCK_MONOTONIC time the buffer became its CPU's current buffer, for the flush interval.
    public internal(set) var installedAt: UInt64 = 0

    /// Call-chain entries one sample can bring beyond `frameCapacity`: the buffer counts as full only once it is
    /// reached, so the last chain appended may overshoot by a whole chain (at most --max-stack's 1024 frames plus
    /// the kernel's context markers).
    public static let frameSlack = 1024 + 64

    public init(cpu: Int, capacity: Int, frameCapacity: Int = 0, userDataCapacity: Int = 0) {
        self.cpu = cpu
        self.capacity = max(1, capacity)
        self.frameCapacity = frameCapacity
        self.userDataCapacity = userDataCapacity
        userData.reserveCapacity(userDataCapacity)
        self.samples = []
        samples.reserveCapacity(self.capacity)
        // Reserved with the slack: an append past the reserved storage would double it, and with it the memory
        // the buffer budget allows for.
        frames.reserveCapacity(frameCapacity > 0 ? frameCapacity + Self.frameSlack : 0)
    }

    public var count: Int { samples.count }
    public var isFull: Bool {
        samples.count >= capacity || (frameCapacity > 0 && frames.count >= frameCapacity)
            || (userDataCapacity > 0 && userData.count >= userDataCapacity)
    }
    public var isEmpty: Bool { samples.isEmpty }

    /// Appends a sample; the caller checks `isFull` first.
    @inline(__always)
    public func append(_ sample: Sample) {
        samples.append(sample)
    }

    /// Appends a sample with its call chain (raw u64 entries).
    public func append(_ sample: Sample, callchain: UnsafeRawBufferPointer) {
        var sample = sample
        let count = min(callchain.count / 8, Int(UInt16.max))
        sample.frameCount = UInt16(count)
        frames.append(contentsOf: UnsafeBufferPointer<UInt64>(
            start: callchain.baseAddress?.assumingMemoryBound(to: UInt64.self), count: count))
        samples.append(sample)
    }

    /// Appends a sample with its (kernel) call chain and its user registers and stack copy.
    public func append(_ sample: Sample, callchain: UnsafeRawBufferPointer?,
                       userStack: (registers: UnsafeRawBufferPointer, stack: UnsafeRawBufferPointer)) {
        var sample = sample
        sample.userDataCount = UInt32(userStack.registers.count + userStack.stack.count)
        userData.append(contentsOf: userStack.registers)
        userData.append(contentsOf: userStack.stack)
        if let callchain {
            append(sample, callchain: callchain)
        } else {
            samples.append(sample)
        }
    }

    func install(cpu: Int, at time: UInt64) {
        self.cpu = cpu
        samples.removeAll(keepingCapacity: true)
        frames.removeAll(keepingCapacity: true)
        userData.removeAll(keepingCapacity: true)
        installedAt = time
    }
}
