import TprofCapture

/// Little-endian bytes of perf ring-buffer records, laid out as the kernel writes them for tprof's attributes.
enum PerfRecordBytes {
    /// The `sample_id_all` trailer of side-band records: pid, tid, time, cpu, res.
    struct SampleID {
        var pid: Int32
        var tid: Int32
        var time: UInt64
        var cpu: UInt32
    }

    /// A record: the 8-byte header (type, misc, size) followed by `body`.
    static func record(type: UInt32, misc: UInt16 = 0, body: [UInt8]) -> [UInt8] {
        var bytes = le(type) + le(misc) + le(UInt16(8 + body.count))
        bytes += body
        return bytes
    }

    /// PERF_RECORD_SAMPLE with IP | TID | TIME | CPU | PERIOD; `cpuMode` goes into `header.misc`.
    static func sample(ip: UInt64, pid: Int32, tid: Int32, time: UInt64, cpu: UInt32, period: UInt64,
                       cpuMode: UInt16) -> [UInt8] {
        record(type: 9, misc: cpuMode,
               body: le(ip) + le(pid) + le(tid) + le(time) + le(cpu) + le(UInt32(0)) + le(period))
    }

    /// PERF_RECORD_SAMPLE with CALLCHAIN (and, with `userStack`, REGS_USER and STACK_USER after it): the chain's
    /// `nr` is written as given, so it can claim more entries than follow.
    static func sample(ip: UInt64, callchainCount nr: UInt64, ips: [UInt64], userStack: [UInt8] = []) -> [UInt8] {
        record(type: 9, misc: 2, body: le(ip) + le(Int32(100)) + le(Int32(101)) + le(UInt64(1_000)) + le(UInt32(1))
            + le(UInt32(0)) + le(UInt64(1)) + le(nr) + ips.flatMap { le($0) } + userStack)
    }

    /// The REGS_USER and STACK_USER part of a sample: abi, 17 registers, the stack copy's size, its bytes and the
    /// dynamic size (each written as given).
    static func userStack(abi: UInt64 = 2, registers: [UInt64], size: UInt64, stack: [UInt8],
                          dynamicSize: UInt64) -> [UInt8] {
        le(abi) + registers.flatMap { le($0) } + le(size) + stack + le(dynamicSize)
    }

    /// PERF_RECORD_COMM: pid, tid, the name NUL-padded to a multiple of 8, the trailer.
    static func comm(pid: Int32, tid: Int32, name: String, exec: Bool, id: SampleID) -> [UInt8] {
        record(type: 3, misc: exec ? 1 << 13 : 0, body: le(pid) + le(tid) + padded(name) + trailer(id))
    }

    /// PERF_RECORD_MMAP2 carrying maj, min, ino and ino_generation.
    static func mmap2(pid: Int32, tid: Int32, start: UInt64, length: UInt64, pageOffset: UInt64, major: UInt32,
                      minor: UInt32, inode: UInt64, inodeGeneration: UInt64, protection: UInt32, flags: UInt32,
                      filename: String, id: SampleID) -> [UInt8] {
        record(type: 10, body: le(pid) + le(tid) + le(start) + le(length) + le(pageOffset) + le(major) + le(minor)
            + le(inode) + le(inodeGeneration) + le(protection) + le(flags) + padded(filename) + trailer(id))
    }

    /// PERF_RECORD_MMAP2 carrying a build id (PERF_RECORD_MISC_MMAP_BUILD_ID): size, 3 reserved bytes, 20 bytes.
    static func mmap2(pid: Int32, tid: Int32, start: UInt64, length: UInt64, pageOffset: UInt64, buildID: [UInt8],
                      protection: UInt32, flags: UInt32, filename: String, id: SampleID) -> [UInt8] {
        let idField = [UInt8(buildID.count), 0, 0, 0] + buildID + [UInt8](repeating: 0, count: 20 - buildID.count)
        return record(type: 10, misc: 1 << 14, body: le(pid) + le(tid) + le(start) + le(length) + le(pageOffset)
            + idField + le(protection) + le(flags) + padded(filename) + trailer(id))
    }

    /// PERF_RECORD_FORK (7) or PERF_RECORD_EXIT (4): pid, ppid, tid, ptid, time, the trailer.
    static func task(type: UInt32, pid: Int32, ppid: Int32, tid: Int32, ptid: Int32, time: UInt64,
                     id: SampleID) -> [UInt8] {
        record(type: type, body: le(pid) + le(ppid) + le(tid) + le(ptid) + le(time) + trailer(id))
    }

    /// PERF_RECORD_LOST: id, lost, the trailer.
    static func lost(id eventID: UInt64, lost: UInt64, id: SampleID) -> [UInt8] {
        record(type: 2, body: le(eventID) + le(lost) + trailer(id))
    }

    /// PERF_RECORD_LOST_SAMPLES: lost, the trailer.
    static func lostSamples(_ lost: UInt64, id: SampleID) -> [UInt8] {
        record(type: 13, body: le(lost) + trailer(id))
    }

    /// PERF_RECORD_THROTTLE (5) or PERF_RECORD_UNTHROTTLE (6): time, id, stream_id, the trailer.
    static func throttle(type: UInt32, time: UInt64, id: SampleID) -> [UInt8] {
        record(type: type, body: le(time) + le(UInt64(1)) + le(UInt64(2)) + trailer(id))
    }

    static func trailer(_ id: SampleID) -> [UInt8] {
        le(id.pid) + le(id.tid) + le(id.time) + le(id.cpu) + le(UInt32(0))
    }

    /// `text` with a NUL, padded with NULs to a multiple of 8 bytes, as the kernel aligns names.
    static func padded(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8) + [0]
        while bytes.count % 8 != 0 { bytes.append(0) }
        return bytes
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}

/// The data area of a perf ring buffer in memory, filled the way the kernel fills it: records are written at
/// `head` masked with `size - 1`, wrapping at the end, and `head` only grows.
struct FakeRing {
    private(set) var data: [UInt8]
    private(set) var head: UInt64

    /// - Parameter start: the byte counter of the first record, which may be far beyond `size`.
    init(size: Int, start: UInt64) {
        data = [UInt8](repeating: 0xAA, count: size)
        head = start
    }

    /// Writes `record` at `head` and advances it.
    mutating func append(_ record: [UInt8]) {
        for (index, byte) in record.enumerated() {
            data[Int((head + UInt64(index)) & UInt64(data.count - 1))] = byte
        }
        head += UInt64(record.count)
    }

    /// Writes a 8-byte header with a bad `size` field at `head` and advances `head` by `advance` bytes.
    mutating func appendHeader(size: UInt16, advance: Int) {
        append(PerfRecordBytes.le(UInt32(9)) + PerfRecordBytes.le(UInt16(2)) + PerfRecordBytes.le(size)
            + [UInt8](repeating: 0, count: max(0, advance - 8)))
    }

    /// Drains from `tail` up to `head` (or `end`) and returns the outcome and a copy of each record handed over.
    func drain(from tail: UInt64, upTo end: UInt64? = nil) throws
        -> (drained: RingBufferReader.Drained, records: [[UInt8]]) {
        var reader = RingBufferReader()
        var records: [[UInt8]] = []
        let drained = try data.withUnsafeBytes { buffer -> RingBufferReader.Drained in
            guard let base = buffer.baseAddress else { throw RingError.empty }
            return reader.drain(data: base, size: buffer.count, tail: tail, head: end ?? head) { record in
                records.append(Array(record))
            }
        }
        return (drained, records)
    }

    enum RingError: Error {
        case empty
    }
}

/// Decodes a copied record.
func decode(_ record: [UInt8], event: UInt16 = 0) -> PerfRecord {
    record.withUnsafeBytes { PerfRecordDecoder(event: event).decode($0) }
}
