import TprofCapture
import TprofCLI

/// What a recording will do, decided from the options and the machine before anything is created or started: the
/// events (with the default's fallback), the CPUs, the buffer and ring sizes. Pure apart from the probe it is given,
/// so every check and size is unit-tested without perf events.
public struct RecordingPlan: Equatable {
    /// The events to open, in order: the first also reports the side-band records.
    public var events: [EventSpec]
    /// Why the events differ from what was asked (the default `cycles` this machine lacks), said once.
    public var eventNote: String?
    /// The CPUs sampled.
    public var cpus: [Int]
    /// The capture buffers' sizes.
    public var buffers: BufferPlan
    /// Data pages asked for each perf ring (the backend maps fewer when the mlock limit is lower).
    public var ringPages: Int
    /// Nanoseconds after which a CPU's buffer is handed on even when not full.
    public var flushInterval: UInt64

    /// What the plan needs to know of the machine.
    public struct Machine {
        /// The online CPUs, as /sys/devices/system/cpu/online lists them.
        public var onlineCPUs: [Int]
        /// `kernel.perf_event_max_sample_rate`, if it can be read.
        public var maxSampleRate: Int?
        /// Opens an event to see whether this machine has it (`PerfEventBackend.probe`).
        public var probe: (EventSpec) throws(SystemError) -> Void
        /// The scheduler tracepoints of `--off-cpu` (`SchedTracepoints.events`, which mounts tracefs if need be).
        public var offCPUEvents: () throws(SchedTracepoints.Unavailable) -> [EventSpec]

        public init(onlineCPUs: [Int], maxSampleRate: Int?,
                    probe: @escaping (EventSpec) throws(SystemError) -> Void,
                    offCPUEvents: @escaping () throws(SchedTracepoints.Unavailable) -> [EventSpec] = { [] }) {
            self.offCPUEvents = offCPUEvents
            self.onlineCPUs = onlineCPUs
            self.maxSampleRate = maxSampleRate
            self.probe = probe
        }
    }

    /// Data pages per ring when `--call-graph dwarf` or `--off-cpu` is given without -m: every sample is then
    /// kilobytes long, or every context switch is recorded, and a ring must hold a flush interval of them.
    static let largeRingPages = 512

    /// The plan for `options` on `machine`, or the first check that fails, as tprof-record reports it.
    public init(_ options: RecordOptions, on machine: Machine) throws {
        (events, eventNote) = try Self.events(options, on: machine)
        if options.offCPU {
            do { events += try machine.offCPUEvents() } catch { throw ToolFailure(error.description) }
        }
        try Self.checkRate(options, maxSampleRate: machine.maxSampleRate)
        cpus = try Self.cpus(options, online: machine.onlineCPUs)
        buffers = try BufferPlan(.init(
            bufferSamples: options.bufferSamples, bufferLimit: options.bufferLimit,
            frequency: options.rate.expectedFrequency, flushIntervalMs: options.flushIntervalMs,
            callChains: options.maxStack != nil,
            userStackSize: options.userStackSize, cpuCount: cpus.count))
        if let duration = options.duration, !(duration > 0 && duration < 1e9) {
            throw ToolFailure("bad duration \(duration) for -d: it must be a positive number of seconds")
        }
        // Stack copies make every sample kilobytes long; off-CPU recording takes every context switch.
        ringPages = (options.userStackSize != nil || options.offCPU) && !options.ringPagesGiven ? Self.largeRingPages
            : options.ringPages
        flushInterval = UInt64(options.flushIntervalMs) * 1_000_000
    }

    /// The events asked for; without -e, `cycles`, or `cpu-clock` where this machine cannot open `cycles`.
    private static func events(_ options: RecordOptions, on machine: Machine) throws
        -> (events: [EventSpec], note: String?) {
        if options.events.isEmpty {
            let cycles = try EventSpec.parse("cycles")
            do {
                try machine.probe(cycles)
            } catch {
                return ([try EventSpec.parse("cpu-clock")],
                        "cycles is not available on this machine (\(error.reason)); using cpu-clock")
            }
            return ([cycles], nil)
        }
        let events = try options.events.map { name in
            do {
                return try EventSpec.parse(name)
            } catch let error as EventSpec.ParseError {
                throw ToolFailure(error.description)
            }
        }
        return (events, nil)
    }

    private static func checkRate(_ options: RecordOptions, maxSampleRate: Int?) throws {
        if let period = options.period, period == 0 { throw ToolFailure("bad period 0 for -c: it must be at least 1") }
        guard case .frequency(let hz) = options.rate else { return }
        guard hz > 0 else { throw ToolFailure("bad frequency 0 for -F: it must be at least 1") }
        if let max = maxSampleRate, hz > UInt64(max) {
            throw ToolFailure("-F \(hz) is above kernel.perf_event_max_sample_rate (\(max)); use -F \(max) or "
                + "less, or raise it with 'sysctl kernel.perf_event_max_sample_rate=\(hz)'")
        }
    }

    private static func cpus(_ options: RecordOptions, online: [Int]) throws -> [Int] {
        guard let asked = options.cpus else { return online }
        let onlineSet = Set(online)
        if let missing = asked.first(where: { !onlineSet.contains($0) }) {
            throw ToolFailure("CPU \(missing) is not online (online: \(online.map(String.init).joined(separator: ",")))")
        }
        return asked
    }

}
