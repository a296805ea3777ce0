import Foundation

/// A fixed-capacity buffer of one CPU's samples, as `tprof_buf_t`.
public final class SampleBuffer {
    /// The CPU whose samples fill it; a recycled buffer may serve another CPU.
    public internal(set) var cpu: Int
    public let capacity: Int
    /// The samples, `count` of them valid; storage is kept across reuse.
    public private(set) var samples: [Sample]
    /// Call-chain entries of the samples, in sample order (`Sample.frameCount` each).
    public private(set) var frames: [UInt64] = []
    /// Call-chain entries the buffer holds before it counts as full.
    public let frameCapacity: Int
    /// CLOCK_MONOTONIC time the buffer became its CPU's current buffer, for the flush interval.
    public internal(set) var installedAt: UInt64 = 0

    public init(cpu: Int, capacity: Int, frameCapacity: Int = 0) {
        self.cpu = cpu
        self.capacity = max(1, capacity)
        self.frameCapacity = frameCapacity
        self.samples = []
        samples.reserveCapacity(self.capacity)
        frames.reserveCapacity(frameCapacity)
    }

    public var count: Int { samples.count }
    public var isFull: Bool { samples.count >= capacity || (frameCapacity > 0 && frames.count >= frameCapacity) }
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

    func install(cpu: Int, at time: UInt64) {
        self.cpu = cpu
        samples.removeAll(keepingCapacity: true)
        frames.removeAll(keepingCapacity: true)
        installedAt = time
    }
}
