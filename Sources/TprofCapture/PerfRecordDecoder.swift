/// Record types of the perf ring buffer (`enum perf_event_type`).
public enum PerfRecordType: UInt32 {
    case mmap = 1, lost = 2, comm = 3, exit = 4, throttle = 5, unthrottle = 6, fork = 7, read = 8, sample = 9
    case mmap2 = 10, aux = 11, itraceStart = 12, lostSamples = 13, switchTask = 14, switchCPUWide = 15
}

/// One decoded ring-buffer record.
public enum PerfRecord: Equatable {
    case sample(Sample)
    case sideband(SidebandRecord)
    case lost(UInt64)
    case lostSamples(UInt64)
    case throttle
    case unthrottle
    /// A well-formed record of a type tprof does not use.
    case ignored(type: UInt32)
    /// A record too short for the layout of its type (or for a header): not decoded, counted.
    case malformed(type: UInt32)
}

/// Decodes records written with the sample layout tprof asks for:
/// `PERF_SAMPLE_IP | TID | TIME | CPU | PERIOD`, with `CALLCHAIN` for call graphs, and `sample_id_all`
/// (side-band records end with pid, tid, time, cpu).
public struct PerfRecordDecoder {
    /// The `sample_type` bits this decoder reads without call chains.
    public static let sampleType: UInt64 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 7) | (1 << 8)
    /// PERF_SAMPLE_CALLCHAIN: `u64 nr; u64 ips[nr]` after the period.
    public static let callchainBit: UInt64 = 1 << 5
    /// PERF_SAMPLE_REGS_USER and PERF_SAMPLE_STACK_USER, for DWARF unwinding after recording.
    public static let userRegistersBit: UInt64 = 1 << 12
    public static let userStackBit: UInt64 = 1 << 13
    /// PERF_SAMPLE_RAW: a tracepoint's fields, `u32 size; u8 data[size]`, after the call chain.
    public static let rawBit: UInt64 = 1 << 10
    /// x86_64 user registers DWARF unwinding needs: ax bx cx dx si di bp sp ip (perf_regs 0-8) and r8-r15
    /// (16-23), in the order the kernel writes them.
    public static let userRegisterMask: UInt64 = 0x1ff | (0xff << 16)
    public static let userRegisterCount = 17
    /// Bytes of a sample record body for `sampleType`: ip, pid/tid, time, cpu/res, period.
    static let sampleBodySize = 40
    /// Bytes of the `sample_id_all` trailer: pid/tid, time, cpu/res.
    static let sampleIDSize = 24

    static let cpuModeMask: UInt16 = 7
    static let commExec: UInt16 = 1 << 13
    static let mmapBuildID: UInt16 = 1 << 14

    /// Index of the event the ring belongs to, stored in every sample.
    public var event: UInt16

    /// True when samples carry PERF_SAMPLE_CALLCHAIN.
    public var callchain: Bool

    /// True when samples carry user registers and a copy of the user stack.
    public var userStack: Bool

    /// For the scheduler tracepoints of `--off-cpu`: samples carry PERF_SAMPLE_RAW, laid out as the role says.
    public var offCPU: OffCPURole?

    public init(event: UInt16, callchain: Bool = false, userStack: Bool = false, offCPU: OffCPURole? = nil) {
        self.event = event
        self.callchain = callchain
        self.userStack = userStack
        self.offCPU = offCPU
    }

    /// The user registers (17 u64, in `userRegisterMask` order) and the valid bytes of the user stack copy;
    /// nil when the sample has none (a kernel thread, or no user context).
    public func userStack(in record: UnsafeRawBufferPointer) -> (registers: UnsafeRawBufferPointer,
                                                                 stack: UnsafeRawBufferPointer)? {
        guard userStack else { return nil }
        var offset = 8 + Self.sampleBodySize
        if callchain {
            guard record.count >= offset + 8 else { return nil }
            offset += 8 + Int(min(record.u64(offset), UInt64(record.count))) * 8
        }
        if offCPU != nil {
            guard record.count >= offset + 4 else { return nil }
            offset += 4 + Int(record.u32(offset))
        }
        guard record.count >= offset + 8 else { return nil }
        let abi = record.u64(offset)
        offset += 8
        var registers = UnsafeRawBufferPointer(start: nil, count: 0)
        if abi != 0 {
            let length = Self.userRegisterCount * 8
            guard record.count >= offset + length else { return nil }
            registers = UnsafeRawBufferPointer(rebasing: record[offset..<(offset + length)])
            offset += length
        }
        guard record.count >= offset + 8 else { return nil }
        let size = Int(min(record.u64(offset), UInt64(record.count)))
        offset += 8
        guard size > 0, record.count >= offset + size + 8, abi != 0 else { return nil }
        let dynamicSize = Int(min(record.u64(offset + size), UInt64(size)))
        return (registers, UnsafeRawBufferPointer(rebasing: record[offset..<(offset + dynamicSize)]))
    }

    /// The call chain of a sample record, as raw u64 entries (context markers included); nil without one.
    public func callchain(in record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let start = 8 + Self.sampleBodySize
        guard callchain, record.count >= start + 8 else { return nil }
        let count = Int(min(record.u64(start), UInt64(record.count)))
        let end = start + 8 + count * 8
        guard end <= record.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: record[(start + 8)..<end])
    }

    /// Decodes one whole record, header included.
    public func decode(_ record: UnsafeRawBufferPointer) -> PerfRecord {
        guard record.count >= 8 else { return .malformed(type: 0) }
        let type = record.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
        let misc = record.loadUnaligned(fromByteOffset: 4, as: UInt16.self)
        let body = UnsafeRawBufferPointer(rebasing: record[8...])
        switch PerfRecordType(rawValue: type) {
        case .sample:
            guard body.count >= Self.sampleBodySize else { return .malformed(type: type) }
            let mode = SampleMode(rawValue: UInt8(misc & Self.cpuModeMask)) ?? .unknown
            if case .waking(let pidOffset) = offCPU {
                guard let raw = raw(in: record), raw.count >= pidOffset + 4 else { return .malformed(type: type) }
                return .sideband(.waking(.init(time: body.u64(16), cpu: body.u32(24), wakerPID: body.i32(8),
                                               wakerTID: body.i32(12), tid: raw.i32(pidOffset))))
            }
            return .sample(Sample(
                time: body.u64(16), pid: body.i32(8), tid: body.i32(12), cpu: body.u32(24), event: event,
                mode: mode, pc: body.u64(0), period: body.u64(32)))
        case .comm:
            guard body.count >= 8 + Self.sampleIDSize else { return .malformed(type: type) }
            let name = body.cString(from: 8, end: body.count - Self.sampleIDSize)
            return .sideband(.comm(time: trailerTime(body), pid: body.i32(0), tid: body.i32(4), name: name,
                                   exec: misc & Self.commExec != 0, source: .kernel))
        case .fork, .exit:
            guard body.count >= 24 + Self.sampleIDSize else { return .malformed(type: type) }
            let time = body.u64(16)
            if type == PerfRecordType.fork.rawValue {
                return .sideband(.fork(time: time, pid: body.i32(0), ppid: body.i32(4), tid: body.i32(8),
                                       ptid: body.i32(12)))
            }
            return .sideband(.exit(time: time, pid: body.i32(0), ppid: body.i32(4), tid: body.i32(8),
                                   ptid: body.i32(12)))
        case .mmap2:
            return decodeMmap2(body, misc: misc) ?? .malformed(type: type)
        case .lost:
            guard body.count >= 16 else { return .malformed(type: type) }
            return .lost(body.u64(8))
        case .lostSamples:
            guard body.count >= 8 else { return .malformed(type: type) }
            return .lostSamples(body.u64(0))
        case .switchTask, .switchCPUWide:
            // Only the off-CPU switch event asks for them.
            guard case .switchOut = offCPU else { return .ignored(type: type) }
            return decodeSwitch(body, type: type, misc: misc)
        case .throttle:
            return .throttle
        case .unthrottle:
            return .unthrottle
        default:
            return .ignored(type: type)
        }
    }

    private func trailerTime(_ body: UnsafeRawBufferPointer) -> UInt64 {
        body.u64(body.count - Self.sampleIDSize + 8)
    }

    private func decodeMmap2(_ body: UnsafeRawBufferPointer, misc: UInt16) -> PerfRecord? {
        // pid, tid, addr, len, pgoff, 24 bytes of maj/min/ino/ino_generation or build id, prot, flags, filename.
        let fixed = 4 + 4 + 8 + 8 + 8 + 24 + 4 + 4
        guard body.count >= fixed + Self.sampleIDSize else { return nil }
        var mapping = SidebandRecord.Mapping(
            time: trailerTime(body), pid: body.i32(0), tid: body.i32(4), start: body.u64(8), length: body.u64(16),
            pageOffset: body.u64(24), major: nil, minor: nil, inode: nil, inodeGeneration: nil, buildID: nil,
            protection: body.u32(56), flags: body.u32(60),
            filename: body.cString(from: fixed, end: body.count - Self.sampleIDSize), source: .kernel)
        if misc & Self.mmapBuildID != 0 {
            let length = min(20, Int(body[32]))
            mapping.buildID = (0..<length).map { hexByte(body[36 + $0]) }.joined()
        } else {
            mapping.major = body.u32(32)
            mapping.minor = body.u32(36)
            mapping.inode = body.u64(40)
            mapping.inodeGeneration = body.u64(48)
        }
        return .sideband(.mmap(mapping))
    }
}

private let hexDigits = Array("0123456789abcdef")

func hexByte(_ byte: UInt8) -> String {
    String([hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]])
}

extension UnsafeRawBufferPointer {
    @inline(__always) func u64(_ offset: Int) -> UInt64 { loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
    @inline(__always) func u32(_ offset: Int) -> UInt32 { loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    @inline(__always) func i32(_ offset: Int) -> Int32 { loadUnaligned(fromByteOffset: offset, as: Int32.self) }

    /// The NUL-terminated string in `[from, end)`, decoded as UTF-8 with repair.
    func cString(from start: Int, end: Int) -> String {
        guard start < end, end <= count else { return "" }
        var stop = start
        while stop < end && self[stop] != 0 { stop += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: self[start..<stop]), as: UTF8.self)
    }
}
