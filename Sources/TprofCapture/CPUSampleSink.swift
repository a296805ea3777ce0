/// One CPU's current buffer, filled by exactly one producer thread (`tprof_sample` in NetBSD tprof).
///
/// Not thread-safe by design: a backend gives each sink to one thread. Counters accumulate here and reach the
/// `BufferList` at every hand-off, so the hot path takes no lock.
public final class CPUSampleSink {
    public let cpu: Int
    private let list: BufferList
    private let flushInterval: UInt64
    // Unchecked for exclusive access: only the sink's one producer thread touches them, and the run-time checks were
    // a sizeable part of the reader's few hundred nanoseconds a sample at 50 kHz -a -g.
    @exclusivity(unchecked) private var current: SampleBuffer?
    @exclusivity(unchecked) private var pending = CaptureCounters()
    private var pendingSideband: [SidebandRecord] = []
    /// The reader's time at the start of its previous round, and the time before which this CPU's records are all
    /// handed on. The kernel stamps a record before it writes it, so a round may miss a record stamped just before
    /// it started; the round after does not (perf's "finished round").
    private var previousRound: UInt64 = 0
    private var complete: UInt64 = 0
    private let mappingObserver: ((SidebandRecord.Mapping) -> Void)?

    /// - Parameters:
    ///   - flushInterval: nanoseconds after which a buffer is handed on even when not full.
    ///   - mappingObserver: told of each mapping record as it is read, before it waits for the writer (the files of
    ///     processes under another root must be opened while the processes live).
    public init(cpu: Int, list: BufferList, flushInterval: UInt64, now: UInt64,
                mappingObserver: ((SidebandRecord.Mapping) -> Void)? = nil) {
        self.mappingObserver = mappingObserver
        self.cpu = cpu
        self.list = list
        self.flushInterval = flushInterval
        self.current = list.handOff(nil, cpu: cpu, now: now, pending: CaptureCounters(), sideband: [])
    }

    /// Adds one sample; hands the buffer on when it becomes full.
    @inline(__always)
    public func add(_ sample: Sample, now: UInt64) {
        pending.read += 1
        guard let buffer = current ?? refill(now: now) else {
            pending.overflow += 1
            return
        }
        buffer.append(sample)
        if buffer.isFull { handOff(now: now) }
    }

    /// Adds one sample with its call chain.
    public func add(_ sample: Sample, callchain: UnsafeRawBufferPointer, now: UInt64) {
        pending.read += 1
        guard let buffer = current ?? refill(now: now) else {
            pending.overflow += 1
            return
        }
        buffer.append(sample, callchain: callchain)
        if buffer.isFull { handOff(now: now) }
    }

    /// Adds one sample with its user registers and stack copy (and kernel call chain, if any).
    public func add(_ sample: Sample, callchain: UnsafeRawBufferPointer?,
                    userStack: (registers: UnsafeRawBufferPointer, stack: UnsafeRawBufferPointer), now: UInt64) {
        pending.read += 1
        guard let buffer = current ?? refill(now: now) else {
            pending.overflow += 1
            return
        }
        buffer.append(sample, callchain: callchain, userStack: userStack)
        if buffer.isFull { handOff(now: now) }
    }

    /// Queues a side-band record; it reaches the writer with the next hand-off.
    public func add(_ record: SidebandRecord) {
        if let mappingObserver, case .mmap(let mapping) = record { mappingObserver(mapping) }
        pendingSideband.append(record)
    }

    /// Counts kernel-side losses and throttling reported in the ring buffer; the kernel's counts saturate.
    public func countKernelLost(_ lost: UInt64) { pending.kernelLost = saturatingSum(pending.kernelLost, lost) }
    public func countKernelLostSamples(_ lost: UInt64) {
        pending.kernelLostSamples = saturatingSum(pending.kernelLostSamples, lost)
    }
    public func countThrottle() { pending.throttle += 1 }
    public func countUnthrottle() { pending.unthrottle += 1 }

    /// Counts a ring record of a type tprof does not use.
    public func countIgnoredRecord() { pending.ignoredRecords += 1 }

    /// Counts an undecodable ring record and the bytes skipped after it.
    public func countMalformedRecord(skippedBytes: UInt64 = 0) {
        pending.malformedRecords += 1
        pending.malformedBytes = saturatingSum(pending.malformedBytes, skippedBytes)
    }

    /// Hands the buffer on when the flush interval has passed since it was installed.
    public func tick(now: UInt64) {
        complete = previousRound
        previousRound = now
        guard let buffer = current else {
            _ = refill(now: now)
            return
        }
        if now &- buffer.installedAt >= flushInterval { handOff(now: now) }
    }

    /// Hands on whatever the buffer holds, at the end of recording, once the events are disabled: every record
    /// stamped before `now` has been read.
    public func flush(now: UInt64) {
        complete = now
        handOff(now: now)
    }

    private func handOff(now: UInt64) {
        current = list.handOff(current, cpu: cpu, now: now, pending: pending, sideband: pendingSideband,
                               completeUntil: complete)
        pending = CaptureCounters()
        pendingSideband.removeAll(keepingCapacity: true)
    }

    private func refill(now: UInt64) -> SampleBuffer? {
        handOff(now: now)
        return current
    }
}
