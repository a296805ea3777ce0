import Foundation

/// A fixed-capacity buffer of one CPU's samples, as `tprof_buf_t`.
public final class SampleBuffer {
    /// The CPU whose samples fill it; a recycled buffer may serve another CPU.
    public internal(set) var cpu: Int
    public let capacity: Int
    /// The samples, `count` of them valid; storage is kept across reuse.
    public private(set) var samples: [Sample]
    /// CLOCK_MONOTONIC time the buffer became its CPU's current buffer, for the flush interval.
    public internal(set) var installedAt: UInt64 = 0

    public init(cpu: Int, capacity: Int) {
        self.cpu = cpu
        self.capacity = max(1, capacity)
        self.samples = []
        samples.reserveCapacity(self.capacity)
    }

    public var count: Int { samples.count }
    public var isFull: Bool { samples.count >= capacity }
    public var isEmpty: Bool { samples.isEmpty }

    /// Appends a sample; the caller checks `isFull` first.
    @inline(__always)
    public func append(_ sample: Sample) {
        samples.append(sample)
    }

    func install(cpu: Int, at time: UInt64) {
        self.cpu = cpu
        samples.removeAll(keepingCapacity: true)
        installedAt = time
    }
}
