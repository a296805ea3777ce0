/// The ring records of `--off-cpu`: the raw fields of the scheduler tracepoints and the kernel's switch records.
extension PerfRecordDecoder {
    /// PERF_RECORD_MISC_SWITCH_OUT: the record is a switch-out (else a switch-in).
    static let switchOutFlag: UInt16 = 1 << 13

    /// The decoder for the rings of event `event` of a recording with `configuration`.
    init(event: UInt16, configuration: PerfEventBackend.Configuration) {
        let role = configuration.events[Int(event)].offCPU
        let chains: Bool
        if case .waking = role { chains = false } else { chains = true }
        self.init(event: event, callchain: chains && configuration.maxStack != nil,
                  userStack: chains && configuration.userStackSize != nil, offCPU: role)
    }

    /// A sample's PERF_SAMPLE_RAW data (the tracepoint's fields, common ones first); nil when the record has none or
    /// it does not fit.
    func raw(in record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard offCPU != nil else { return nil }
        var offset = 8 + Self.sampleBodySize
        if callchain {
            guard record.count >= offset + 8 else { return nil }
            offset += 8 + Int(min(record.u64(offset), UInt64(record.count))) * 8
        }
        guard record.count >= offset + 4 else { return nil }
        let size = Int(record.u32(offset))
        guard record.count >= offset + 4 + size else { return nil }
        return UnsafeRawBufferPointer(rebasing: record[(offset + 4)..<(offset + 4 + size)])
    }

    /// The switch-out a `sched_switch` sample stands for (the thread, its CPU and the state it left in); nil for
    /// any other sample, or one whose raw fields do not hold `prev_state`.
    public func switchOut(_ sample: Sample, in record: UnsafeRawBufferPointer) -> SidebandRecord? {
        guard case .switchOut(let stateOffset) = offCPU, let raw = raw(in: record),
              raw.count >= stateOffset + 8 else { return nil }
        return .contextSwitch(.init(time: sample.time, cpu: sample.cpu, pid: sample.pid, tid: sample.tid,
                                    state: OffCPUState(prevState: raw.u64(stateOffset))))
    }

    /// PERF_RECORD_SWITCH and PERF_RECORD_SWITCH_CPU_WIDE: a switch-in of the thread in the `sample_id_all` trailer
    /// becomes a side-band record; a switch-out is ignored, since the `sched_switch` sample says more about it.
    func decodeSwitch(_ body: UnsafeRawBufferPointer, type: UInt32, misc: UInt16) -> PerfRecord {
        // The CPU-wide record starts with the other task's pid and tid.
        let fixed = type == PerfRecordType.switchCPUWide.rawValue ? 8 : 0
        guard body.count >= fixed + Self.sampleIDSize else { return .malformed(type: type) }
        guard misc & Self.switchOutFlag == 0 else { return .ignored(type: type) }
        let trailer = body.count - Self.sampleIDSize
        return .sideband(.contextSwitch(.init(time: body.u64(trailer + 8), cpu: body.u32(trailer + 16),
                                              pid: body.i32(trailer), tid: body.i32(trailer + 4), state: nil)))
    }
}
