import CTprofLinux
import Glibc

/// One mmapped perf ring buffer: a control page and a power-of-two data area.
final class PerfRing {
    let fd: Int32
    let cpu: Int
    let decoder: PerfRecordDecoder
    private let base: UnsafeMutableRawPointer
    private let mapLength: Int
    private let dataSize: Int

    init(fd: Int32, cpu: Int, decoder: PerfRecordDecoder, dataSize: Int, pageSize: Int) throws {
        self.fd = fd
        self.cpu = cpu
        self.decoder = decoder
        self.dataSize = dataSize
        self.mapLength = dataSize + pageSize
        guard let mapped = mmap(nil, mapLength, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
              mapped != MAP_FAILED else {
            throw SystemError("mmap")
        }
        self.base = mapped
    }

    deinit { munmap(base, mapLength) }

    private var control: UnsafeMutablePointer<perf_event_mmap_page> {
        base.assumingMemoryBound(to: perf_event_mmap_page.self)
    }

    /// Reads every record up to the kernel's head into `sink` and gives the space back.
    func drain(into sink: CPUSampleSink, reader: inout RingBufferReader, now: UInt64) {
        let head = CTprofLinux_ring_load_head(control)
        let tail = control.pointee.data_tail
        guard head != tail else { return }
        let newTail = reader.deliver(data: UnsafeRawPointer(base + Int(control.pointee.data_offset)), size: dataSize,
                                     tail: tail, head: head, decoder: decoder, into: sink, now: now)
        CTprofLinux_ring_store_tail(control, newTail)
    }
}

extension RingBufferReader {
    /// Drains the records from `tail` to `head` into `sink` and returns the new tail. Every record lands in one
    /// counter: samples in `read`, side-band records in the side-band queue, the kernel's reports in its loss and
    /// throttle counters, records of other types in `ignoredRecords`, undecodable ones in `malformedRecords` (with
    /// the bytes skipped after a bad header in `malformedBytes`). A sample whose user stack fields do not fit its
    /// record is kept in `read` without a stack copy, as a sample taken without user context is.
    public mutating func deliver(data: UnsafeRawPointer, size: Int, tail: UInt64, head: UInt64,
                                 decoder: PerfRecordDecoder, into sink: CPUSampleSink, now: UInt64) -> UInt64 {
        let drained = drain(data: data, size: size, tail: tail, head: head) { record in
            switch decoder.decode(record) {
            case .sample(let sample):
                if let switchOut = decoder.switchOut(sample, in: record) { sink.add(switchOut) }
                let callchain = decoder.callchain(in: record)
                // A chain whose length runs past the record: the record's layout is not the one asked for.
                if decoder.callchain && callchain == nil {
                    sink.countMalformedRecord()
                } else if let userStack = decoder.userStack(in: record) {
                    sink.add(sample, callchain: callchain, userStack: userStack, now: now)
                } else if let callchain {
                    sink.add(sample, callchain: callchain, now: now)
                } else {
                    sink.add(sample, now: now)
                }
            case .sideband(let record): sink.add(record)
            case .lost(let count): sink.countKernelLost(count)
            case .lostSamples(let count): sink.countKernelLostSamples(count)
            case .throttle: sink.countThrottle()
            case .unthrottle: sink.countUnthrottle()
            case .ignored: sink.countIgnoredRecord()
            case .malformed: sink.countMalformedRecord()
            }
        }
        if drained.malformed { sink.countMalformedRecord(skippedBytes: drained.skippedBytes) }
        return drained.tail
    }
}
