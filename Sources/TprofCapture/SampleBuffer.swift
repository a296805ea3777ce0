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
    /// Call-chain frames the buffer holds before it counts as full.
    public let frameCapacity: Int
    // The frames live in manually managed memory, written in one pass as the raw chain is read: appended to two
    // arrays context by context they took about five times the reader's time of the raw copy they replace (profile
    // of `tprof-bench pipeline --system-wide-chains`). Unchecked for exclusive access as the arrays are: the checks
    // on `framesUsed` ran once a sample.
    @exclusivity(unchecked) private var addressStorage: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) private var flagStorage: UnsafeMutablePointer<FrameFlags>
    /// Frames the storage holds before it has to grow.
    @exclusivity(unchecked) public private(set) var frameStorageCapacity: Int
    @exclusivity(unchecked) private var framesUsed = 0
    /// User registers then stack bytes of each sample that has them, in sample order (`Sample.userRegisterBytes`
    /// and `Sample.userStackBytes`).
    @exclusivity(unchecked) public private(set) var userData: [UInt8] = []
    /// Bytes of user data the buffer holds before it counts as full.
    public let userDataCapacity: Int
    /// CLOCK_MONOTONIC time the buffer became its CPU's current buffer, for the flush interval.
    public internal(set) var installedAt: UInt64 = 0

    /// Call-chain frames one sample can bring beyond `frameCapacity`: the buffer counts as full only once it is
    /// reached, so the last chain appended may overshoot by a whole chain (at most --max-stack's 1024 frames; the
    /// kernel's context markers, which are not kept, leave room to spare).
    public static let frameSlack = 1024 + 64
    /// Bytes of buffer storage a call-chain frame takes: its address and its flags.
    public static let bytesPerFrame = MemoryLayout<UInt64>.stride + MemoryLayout<FrameFlags>.stride

    public init(cpu: Int, capacity: Int, frameCapacity: Int = 0, userDataCapacity: Int = 0) {
        // Reserved with the slack: growing past the reserved storage would double it, and with it the memory the
        // buffer budget allows for.
        frameStorageCapacity = frameCapacity > 0 ? frameCapacity + Self.frameSlack : 0
        addressStorage = .allocate(capacity: frameStorageCapacity)
        flagStorage = .allocate(capacity: frameStorageCapacity)
        self.cpu = cpu
        self.capacity = max(1, capacity)
        self.frameCapacity = frameCapacity
        self.userDataCapacity = userDataCapacity
        userData.reserveCapacity(userDataCapacity)
        self.samples = []
        samples.reserveCapacity(self.capacity)
    }

    deinit {
        addressStorage.deallocate()
        flagStorage.deallocate()
    }

    /// Addresses of the samples' call-chain frames, leaf first, in sample order (`Sample.frameCount` each), perf's
    /// context markers gone; valid while the buffer is held.
    public var frameAddresses: UnsafeBufferPointer<UInt64> {
        UnsafeBufferPointer(start: addressStorage, count: framesUsed)
    }

    /// The flags of the frames in `frameAddresses`, index for index.
    public var frameFlags: UnsafeBufferPointer<FrameFlags> {
        UnsafeBufferPointer(start: flagStorage, count: framesUsed)
    }

    public var count: Int { samples.count }
    public var isFull: Bool {
        samples.count >= capacity || (frameCapacity > 0 && framesUsed >= frameCapacity)
            || (userDataCapacity > 0 && userData.count >= userDataCapacity)
    }
    public var isEmpty: Bool { samples.isEmpty }

    /// Appends a sample; the caller checks `isFull` first.
    @inline(__always)
    public func append(_ sample: Sample) {
        samples.append(sample)
    }

    /// Appends a sample with its call chain (perf's raw u64 entries), kept as its frames and their flags.
    public func append(_ sample: Sample, callchain: UnsafeRawBufferPointer) {
        var sample = sample
        let entries = min(callchain.count / 8, Int(UInt16.max))
        if let raw = callchain.baseAddress?.assumingMemoryBound(to: UInt64.self), entries > 0 {
            if framesUsed + entries > frameStorageCapacity { growFrameStorage(to: framesUsed + entries) }
            let kept = PerfCallChain.frames(of: UnsafeBufferPointer(start: raw, count: entries),
                                            addresses: addressStorage + framesUsed, flags: flagStorage + framesUsed)
            framesUsed += kept
            sample.frameCount = UInt16(kept)
        }
        samples.append(sample)
    }

    /// Appends a sample with its (kernel) call chain and its user registers and stack copy.
    public func append(_ sample: Sample, callchain: UnsafeRawBufferPointer?,
                       userStack: (registers: UnsafeRawBufferPointer, stack: UnsafeRawBufferPointer)) {
        var sample = sample
        sample.userRegisterBytes = UInt16(userStack.registers.count)
        sample.userStackBytes = UInt32(userStack.stack.count)
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
        framesUsed = 0
        userData.removeAll(keepingCapacity: true)
        installedAt = time
    }

    /// Doubles the frame storage until `needed` frames fit: only a chain longer than the slack (a damaged record
    /// or a --max-stack above 1024) gets here.
    @inline(never)
    private func growFrameStorage(to needed: Int) {
        var capacity = max(1, frameStorageCapacity)
        while capacity < needed { capacity *= 2 }
        let addresses = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        let flags = UnsafeMutablePointer<FrameFlags>.allocate(capacity: capacity)
        addresses.initialize(from: addressStorage, count: framesUsed)
        flags.initialize(from: flagStorage, count: framesUsed)
        addressStorage.deallocate()
        flagStorage.deallocate()
        addressStorage = addresses
        flagStorage = flags
        frameStorageCapacity = capacity
    }
}
