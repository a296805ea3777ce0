import Foundation

/// The bounded list of completed sample buffers between the per-CPU producers and the writer, with exact drop
/// accounting, as NetBSD tprof's `tprof_list`.
///
/// Locking: `condition` protects every stored property below it. Producers hold it only to hand a buffer on
/// (once a buffer, not once a sample); the writer holds it to take and release batches.
public final class BufferList {
    /// Sizes of the buffers and of the list.
    public struct Configuration: Sendable {
        /// Samples one buffer holds.
        public var bufferCapacity: Int
        /// Buffers that may be queued for or held by the writer at once; past it a completed buffer is dropped.
        public var limit: Int
        /// Side-band records that may wait for the writer; past it they are dropped and counted.
        public var sidebandLimit: Int

        /// Call-chain entries one buffer holds (0 without call chains).
        public var frameCapacity: Int
        /// Bytes of user registers and stack copies one buffer holds (0 without DWARF call graphs).
        public var userDataCapacity: Int

        public init(bufferCapacity: Int, limit: Int, sidebandLimit: Int = 1 << 20, frameCapacity: Int = 0,
                    userDataCapacity: Int = 0) {
            self.userDataCapacity = max(0, userDataCapacity)
            self.frameCapacity = max(0, frameCapacity)
            self.bufferCapacity = max(1, bufferCapacity)
            self.limit = max(1, limit)
            self.sidebandLimit = max(1, sidebandLimit)
        }
    }

    public let configuration: Configuration
    /// CPU numbers, in the order of `counters`.
    public let cpus: [Int]
    private let slotOfCPU: [Int: Int]

    private let condition = NSCondition()
    private var completed: [SampleBuffer] = []
    private var heldByWriter = 0
    private var free: [SampleBuffer] = []
    private var allocated = 0
    private let maxBuffers: Int
    private var counters: [CaptureCounters]
    private var written: [UInt64]
    private var unwritten: [UInt64]
    private var sideband: [SidebandRecord] = []
    /// Per CPU, the time before which all its records have been handed on.
    private var completeUntil: [UInt64]
    private var closed = false

    public init(cpus: [Int], configuration: Configuration) {
        self.cpus = cpus
        self.configuration = configuration
        var slots: [Int: Int] = [:]
        for (slot, cpu) in cpus.enumerated() { slots[cpu] = slot }
        self.slotOfCPU = slots
        // Every CPU's current buffer plus everything the list may hold: memory is bounded by this.
        self.maxBuffers = configuration.limit + cpus.count
        self.counters = Array(repeating: CaptureCounters(), count: cpus.count)
        self.written = Array(repeating: 0, count: cpus.count)
        self.unwritten = Array(repeating: 0, count: cpus.count)
        self.completeUntil = Array(repeating: 0, count: cpus.count)
    }

    /// Buffers that exist at most, which bounds the memory of the capture engine.
    public var maximumBufferCount: Int { maxBuffers }

    // MARK: Producers

    /// Hands `buffer` on (to the list, or dropped when the list is full), adds the producer's pending counters
    /// and side-band records, and returns the buffer `cpu` continues with: nil when no buffer is free.
    /// `completeUntil`: every record of `cpu` stamped before it is in this hand-off or an earlier one.
    func handOff(_ buffer: SampleBuffer?, cpu: Int, now: UInt64, pending: CaptureCounters,
                 sideband newSideband: [SidebandRecord], completeUntil complete: UInt64 = 0) -> SampleBuffer? {
        condition.lock()
        defer { condition.unlock() }
        let slot = slotOfCPU[cpu] ?? 0
        completeUntil[slot] = max(completeUntil[slot], complete)
        var c = counters[slot] + pending
        if !newSideband.isEmpty {
            let room = max(0, configuration.sidebandLimit - sideband.count)
            sideband.append(contentsOf: newSideband.prefix(room))
            c.sidebandDropped += UInt64(newSideband.count - min(room, newSideband.count))
        }
        var next: SampleBuffer? = nil
        if let buffer {
            if buffer.isEmpty {
                c.emptybuf += 1
                next = buffer
            } else if completed.count + heldByWriter >= configuration.limit {
                c.dropbuf += 1
                c.dropbufSample += UInt64(buffer.count)
                next = buffer
            } else {
                c.buf += 1
                c.sample += UInt64(buffer.count)
                completed.append(buffer)
                condition.broadcast()
            }
        }
        counters[slot] = c
        if next == nil { next = takeFreeBuffer() }
        next?.install(cpu: cpu, at: now)
        return next
    }

    private func takeFreeBuffer() -> SampleBuffer? {
        if let buffer = free.popLast() { return buffer }
        guard allocated < maxBuffers else { return nil }
        allocated += 1
        return SampleBuffer(cpu: 0, capacity: configuration.bufferCapacity,
                            frameCapacity: configuration.frameCapacity,
                            userDataCapacity: configuration.userDataCapacity)
    }

    /// Producers are done: the writer takes what is left and then sees an empty batch.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Writer

    /// What the writer takes at once: buffers and side-band records.
    public struct Batch {
        public var buffers: [SampleBuffer]
        public var sideband: [SidebandRecord]
        /// Every CPU's records stamped before this time are in this batch or an earlier one: records reach the list
        /// in time order per CPU, not across CPUs, and what pairs records of several CPUs waits for it.
        public var completeUntil: UInt64
        public var isEmpty: Bool { buffers.isEmpty && sideband.isEmpty }

        public init(buffers: [SampleBuffer], sideband: [SidebandRecord], completeUntil: UInt64) {
            self.buffers = buffers
            self.sideband = sideband
            self.completeUntil = completeUntil
        }
    }

    /// Waits up to `timeout` seconds for completed buffers and takes them all; an empty batch after `close()`
    /// means there will be no more.
    public func takeBatch(timeout: Double) -> Batch {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while completed.isEmpty && sideband.isEmpty && !closed {
            if !condition.wait(until: deadline) { break }
        }
        let batch = Batch(buffers: completed, sideband: sideband, completeUntil: completeUntil.min() ?? 0)
        heldByWriter += completed.count
        completed.removeAll(keepingCapacity: true)
        sideband.removeAll(keepingCapacity: true)
        return batch
    }

    /// True once `close()` was called and nothing is left to take.
    public var isDrained: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && completed.isEmpty && sideband.isEmpty
    }

    /// Returns buffers taken by the writer for reuse, counting their samples as written, or as unwritten when
    /// the writer failed.
    public func release(_ buffers: [SampleBuffer], written wasWritten: Bool = true) {
        condition.lock()
        defer { condition.unlock() }
        for buffer in buffers {
            if let slot = slotOfCPU[buffer.cpu] {
                if wasWritten { written[slot] += UInt64(buffer.count) } else { unwritten[slot] += UInt64(buffer.count) }
            }
            free.append(buffer)
        }
        heldByWriter -= buffers.count
    }

    /// Lets go of the buffers kept for reuse, once the list is closed and the writer is done with it: the
    /// finishing stage that follows must not hold the recording's buffer budget.
    public func releaseFreeBuffers() {
        condition.lock()
        defer { condition.unlock() }
        guard closed else { return }
        free = []
    }

    // MARK: Statistics

    /// One CPU's counters and what the writer did with its samples.
    public struct CPUStatistics: Equatable, Sendable {
        public var cpu: Int
        public var counters: CaptureCounters
        /// Samples committed to the database.
        public var written: UInt64
        /// Samples the writer took but could not commit (the database failed, for example the disk was full).
        public var unwritten: UInt64
    }

    /// A consistent copy of every CPU's counters.
    public func statistics() -> [CPUStatistics] {
        condition.lock()
        defer { condition.unlock() }
        return cpus.indices.map { CPUStatistics(cpu: cpus[$0], counters: counters[$0], written: written[$0], unwritten: unwritten[$0]) }
    }
}
