import CTprofLinux
import Glibc

/// The `perf_event_attr` of an event: the one place its fields are set, for the sampling events of a recording, the
/// counting events of tprof-count and the probes that ask whether this machine can open an event at all.
enum PerfEventAttributes {
    /// The event itself, created disabled: its type, config and modes (never the hypervisor's).
    static func event(_ event: EventSpec) -> perf_event_attr {
        var attr = perf_event_attr()
        attr.type = event.type
        attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
        attr.config = event.config
        attr.disabled = 1
        attr.exclude_user = event.excludeUser ? 1 : 0
        attr.exclude_kernel = event.excludeKernel ? 1 : 0
        attr.exclude_hv = 1
        return attr
    }

    /// A sampling event of a recording with `configuration`, writing into a ring of `dataSize` bytes; the
    /// `sideband` event (the first) also reports mappings, comm changes and task lifetimes.
    static func sampling(_ event: EventSpec, configuration: PerfEventBackend.Configuration, sideband: Bool,
                         dataSize: Int) -> perf_event_attr {
        var attr = Self.event(event)
        switch configuration.rate {
        case .frequency(let hz):
            attr.freq = 1
            attr.sample_freq = hz
        case .period(let period):
            attr.sample_period = period
        }
        attr.sample_type = PerfRecordDecoder.sampleType
        // A wake-up needs no call chain: only who woke whom, and when.
        let chains = event.offCPU.map { if case .switchOut = $0 { true } else { false } } ?? true
        if let maxStack = configuration.maxStack, chains {
            attr.sample_type |= PerfRecordDecoder.callchainBit
            attr.sample_max_stack = UInt16(clamping: maxStack)
        }
        if let role = event.offCPU {
            // Every switch and wake-up, with its tracepoint fields; the switch-out event also has the kernel write
            // PERF_RECORD_SWITCH records, whose switch-ins end the intervals.
            attr.freq = 0
            attr.sample_period = 1
            attr.sample_type |= PerfRecordDecoder.rawBit
            if case .switchOut = role { attr.context_switch = 1 }
        }
        if let size = configuration.userStackSize, chains {
            attr.sample_type |= PerfRecordDecoder.userRegistersBit | PerfRecordDecoder.userStackBit
            attr.sample_regs_user = PerfRecordDecoder.userRegisterMask
            attr.sample_stack_user = UInt32(size)
            attr.exclude_callchain_user = 1
        }
        following(configuration.target, &attr)
        attr.sample_id_all = 1
        attr.use_clockid = 1
        attr.clockid = CLOCK_MONOTONIC
        attr.watermark = 1
        attr.wakeup_watermark = UInt32(max(1, dataSize / 4))
        if sideband {
            attr.mmap = 1
            attr.mmap2 = 1
            attr.comm = 1
            attr.comm_exec = 1
            attr.task = 1
            // Not attr.build_id: kernels up to at least 6.18 leave its flag set on the MMAP2 record they share
            // with every other session, and a concurrent perf then misreads device numbers as a build id and
            // crashes. Build ids are read from the files when symbols are resolved.
        }
        return attr
    }

    /// A counting event (no sample period), read as its count with the times it was enabled and running;
    /// `reportsThreads` has the kernel write each inherited thread's own count to the event's ring as the thread
    /// ends, and `names` the names threads take and their ends (`ThreadReports`).
    static func counting(_ event: EventSpec, target: PerfTarget, reportsThreads: Bool = false,
                         names: Bool = false) -> perf_event_attr {
        var attr = Self.event(event)
        following(target, &attr)
        if reportsThreads {
            attr.inherit_stat = 1
            // A thread's report names its counter by id: the ring it lands in does not say.
            attr.read_format |= UInt64(PERF_FORMAT_ID.rawValue)
        }
        if names {
            attr.comm = 1
            attr.comm_exec = 1
        }
        return attr
    }

    /// What sampling and counting events share: the read format of `EventTotals`, and a target's tasks followed
    /// into their children and threads (a command's from its exec on).
    private static func following(_ target: PerfTarget, _ attr: inout perf_event_attr) {
        attr.read_format = UInt64(PERF_FORMAT_TOTAL_TIME_ENABLED.rawValue | PERF_FORMAT_TOTAL_TIME_RUNNING.rawValue)
        switch target {
        case .command:
            attr.inherit = 1
            attr.enable_on_exec = 1
        case .threads:
            attr.inherit = 1
        case .systemWide:
            break
        }
    }
}

extension PerfEventBackend {
    /// Opens `event` in user mode on this process, which every paranoia level allows, and closes it again: what
    /// `--list-events` shows and what the default event falls back on. Throws the open's errno.
    public static func probe(_ event: EventSpec) throws(SystemError) {
        var attr = PerfEventAttributes.event(event.userOnly)
        let fd = CTprofLinux_perf_event_open(&attr, 0, -1, -1, UInt(PERF_FLAG_FD_CLOEXEC))
        guard fd >= 0 else { throw SystemError("perf_event_open") }
        close(fd)
    }
}
