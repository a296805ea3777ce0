import CTprofLinux
import Foundation
import Glibc

/// What the perf_event backend samples.
public enum PerfTarget: Equatable, Sendable {
    /// A command held before exec: events follow it from exec on, with its children and threads.
    case command(pid: Int32)
    /// Existing threads (all threads of the `-p` processes); children and new threads are followed.
    case threads([Int32])
    /// Every task on the sampled CPUs.
    case systemWide
}

extension PerfTarget {
    /// A command's events start at its exec; the others are enabled when recording starts.
    var enablesOnExec: Bool {
        if case .command = self { return true }
        return false
    }
}

/// How often the kernel takes a sample.
public enum SamplingRate: Equatable, Sendable {
    /// Samples per second per CPU; the kernel adjusts the period to reach it.
    case frequency(UInt64)
    /// One sample every N events.
    case period(UInt64)

    /// Samples per second per CPU to size buffers for: the frequency, or 1000 with a period (whose rate depends on
    /// the event).
    public var expectedFrequency: UInt64 {
        switch self {
        case .frequency(let hz): return hz
        case .period: return 1000
        }
    }
}

/// Why the perf_event backend could not open its events.
public enum PerfEventError: Error, CustomStringConvertible, Equatable {
    case permissionDenied(event: String, paranoid: Int?, systemWide: Bool)
    /// The process belongs to another user: the kernel's ptrace check refused it, whatever the paranoia level.
    case otherUsersProcess(pid: Int32, owner: UInt32)
    case eventNotSupported(event: String, errno: Int32)
    case noSuchProcess(Int32)
    case tooManyOpenFiles(needed: Int)
    case open(event: String, cpu: Int, errno: Int32)
    case system(SystemError)

    public var description: String {
        switch self {
        case .permissionDenied(let event, let paranoid, let systemWide):
            let level = paranoid.map { String($0) } ?? "unknown"
            let scope = systemWide ? "system-wide profiling (-a)" : "event '\(event)'"
            return "permission denied for \(scope): kernel.perf_event_paranoid is \(level); run as root or with "
                + "CAP_PERFMON, or lower it with 'sysctl kernel.perf_event_paranoid=\(systemWide ? 0 : 1)'"
        case .otherUsersProcess(let pid, let owner):
            return "permission denied for process \(pid): it belongs to another user (uid \(owner)); profile it as "
                + "that user, or as root (CAP_SYS_PTRACE)"
        case .eventNotSupported(let event, let errno):
            return "event '\(event)' is not supported on this machine (\(String(cString: strerror(errno)))); "
                + "run 'tprof-record --list-events' for the events it has"
        case .noSuchProcess(let pid):
            return "no such process: \(pid)"
        case .tooManyOpenFiles(let needed):
            return "too many open files: this recording needs \(needed) perf events; raise 'ulimit -n'"
        case .open(let event, let cpu, let errno):
            return "cannot open event '\(event)' on CPU \(cpu): \(String(cString: strerror(errno)))"
        case .system(let error):
            return error.description
        }
    }
}

extension PerfEventError {
    /// Classifies a failed perf_event_open of `event` on `cpu` for `task` (-1 for every task): what the user can
    /// do about it. `needed` is how many events the session opens, for the open-files limit.
    init(errno error: Int32, event: EventSpec, cpu: Int, task: Int32, systemWide: Bool, needed: Int) {
        switch error {
        case EACCES, EPERM:
            var owner = stat()
            if task > 0, geteuid() != 0, stat("/proc/\(task)", &owner) == 0, owner.st_uid != geteuid() {
                self = .otherUsersProcess(pid: task, owner: owner.st_uid)
                return
            }
            self = .permissionDenied(event: event.name, paranoid: kernelSetting("kernel/perf_event_paranoid"),
                                     systemWide: systemWide)
        case ENOENT, EOPNOTSUPP:
            self = .eventNotSupported(event: event.name, errno: error)
        case ESRCH:
            self = .noSuchProcess(task)
        case EMFILE, ENFILE:
            self = .tooManyOpenFiles(needed: needed)
        default:
            self = .open(event: event.name, cpu: cpu, errno: error)
        }
    }
}

/// Totals the kernel keeps for one event over the whole run.
public struct EventTotals: Equatable, Sendable {
    /// The event count (cycles, nanoseconds of cpu-clock, faults, ...).
    public var count: UInt64 = 0
    public var timeEnabled: UInt64 = 0
    /// Nanoseconds the event was counting, summed over CPUs and tasks.
    public var timeRunning: UInt64 = 0

    public init(count: UInt64 = 0, timeEnabled: UInt64 = 0, timeRunning: UInt64 = 0) {
        self.count = count
        self.timeEnabled = timeEnabled
        self.timeRunning = timeRunning
    }
}

/// Samples from the kernel's perf_event interface: one event per CPU (per event), each with its own mmapped ring,
/// read by one thread woken by poll(2).
public final class PerfEventBackend: SamplingBackend {
    /// Everything needed to open the events.
    public struct Configuration: Sendable {
        public var events: [EventSpec]
        public var rate: SamplingRate
        public var target: PerfTarget
        public var cpus: [Int]
        /// Data pages per ring (a power of two).
        public var ringPages: Int
        /// Nanoseconds after which a CPU's buffer is handed on even when not full.
        public var flushInterval: UInt64
        /// Frame-pointer call chains of at most this many entries (`-g`); nil records none.
        public var maxStack: Int?
        /// Bytes of user stack copied with each sample for DWARF unwinding (`--call-graph dwarf`); the kernel's
        /// own chain is still recorded, without its user part.
        public var userStackSize: Int?

        public init(events: [EventSpec], rate: SamplingRate, target: PerfTarget, cpus: [Int], ringPages: Int,
                    flushInterval: UInt64, maxStack: Int? = nil, userStackSize: Int? = nil) {
            self.maxStack = maxStack
            self.userStackSize = userStackSize
            self.events = events
            self.rate = rate
            self.target = target
            self.cpus = cpus
            self.ringPages = ringPages
            self.flushInterval = flushInterval
        }
    }

    public let name = "perf_event"
    public private(set) var configuration: Configuration
    public var cpus: [Int] { configuration.cpus }
    /// True when kernel samples were refused and the events were reopened as user-only (`:u`).
    public private(set) var fellBackToUserOnly = false
    /// Data pages per ring actually mapped (fewer than asked when the mlock limit was hit).
    public private(set) var ringPagesMapped = 0

    private var rings: [PerfRing] = []
    /// Every opened fd with its event index, for enable/disable and the final totals.
    private var descriptors: [(fd: Int32, event: Int)] = []
    private var reader: ThreadHandle?
    /// A pipe whose read end wakes the reader's poll(2) to stop.
    private var stopPipe: [Int32] = [-1, -1]
    private var totals: [EventTotals] = []

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    deinit { closeAll() }

    public func estimateFrequency() -> UInt64 {
        configuration.rate.expectedFrequency
    }

    /// Opens every event and maps the rings, before the command is started, so errors come first.
    public func open() throws {
        var pages = max(1, configuration.ringPages)
        while true {
            do {
                try openAll(dataPages: pages)
                ringPagesMapped = pages
                return
            } catch let error as SystemError where error.operation == "mmap" && (error.errno == EPERM || error.errno == ENOMEM) && pages > 1 {
                closeAll()
                pages /= 2
            } catch PerfEventError.permissionDenied(_, _, let systemWide)
                        where !systemWide && !fellBackToUserOnly
                        && configuration.events.contains(where: { !$0.excludeKernel && !$0.modesGiven }) {
                // Only events whose modes were left to tprof fall back; one given as NAME:k or NAME:uk must be
                // opened as asked, so it fails on the next attempt if it is not permitted either.
                closeAll()
                fellBackToUserOnly = true
                configuration.events = configuration.events.map {
                    $0.excludeKernel || $0.modesGiven ? $0 : $0.userOnly
                }
            } catch {
                closeAll()
                throw error
            }
        }
    }

    private func openAll(dataPages: Int) throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let dataSize = dataPages * pageSize
        let tasks: [Int32]
        switch configuration.target {
        case .command(let pid): tasks = [pid]
        case .threads(let tids): tasks = tids
        case .systemWide: tasks = [-1]
        }
        for (eventIndex, event) in configuration.events.enumerated() {
            for cpu in configuration.cpus {
                var leader: PerfRing?
                var opened = 0
                for task in tasks {
                    var attr = PerfEventAttributes.sampling(
                        event, configuration: configuration, sideband: eventIndex == 0, dataSize: dataSize)
                    let fd = CTprofLinux_perf_event_open(&attr, task, Int32(cpu), -1, UInt(PERF_FLAG_FD_CLOEXEC))
                    if fd < 0 {
                        let error = errno
                        if error == ESRCH, case .threads = configuration.target { continue }
                        throw PerfEventError(errno: error, event: event, cpu: cpu, task: task,
                                             systemWide: configuration.target == .systemWide,
                                             needed: configuration.events.count * configuration.cpus.count)
                    }
                    descriptors.append((fd, eventIndex))
                    opened += 1
                    if let leader {
                        if CTprofLinux_ioctl_int(fd, CTprofLinux_PERF_EVENT_IOC_SET_OUTPUT, UInt(leader.fd)) != 0 {
                            throw PerfEventError.system(SystemError("ioctl(PERF_EVENT_IOC_SET_OUTPUT)"))
                        }
                    } else {
                        let ring = try PerfRing(fd: fd, cpu: cpu, decoder: PerfRecordDecoder(
                            event: UInt16(eventIndex), configuration: configuration), dataSize: dataSize,
                                                pageSize: pageSize)
                        rings.append(ring)
                        leader = ring
                    }
                }
                if opened == 0, case .threads(let tids) = configuration.target {
                    throw PerfEventError.noSuchProcess(tids.first ?? -1)
                }
            }
        }
    }

    /// Enables the events (for `-p` and `-a`; a command's events enable themselves at exec) and starts the reader.
    public func start(sinks: [CPUSampleSink]) throws {
        if rings.isEmpty { try open() }
        guard pipe(&stopPipe) == 0 else { throw PerfEventError.system(SystemError("pipe")) }
        for fd in stopPipe {
            guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { throw PerfEventError.system(SystemError("fcntl(F_SETFD)")) }
            guard fcntl(fd, F_SETFL, O_NONBLOCK) == 0 else { throw PerfEventError.system(SystemError("fcntl(F_SETFL)")) }
        }
        if !configuration.target.enablesOnExec {
            for descriptor in descriptors
            where CTprofLinux_ioctl_int(descriptor.fd, CTprofLinux_PERF_EVENT_IOC_ENABLE, 0) != 0 {
                throw PerfEventError.system(SystemError("ioctl(PERF_EVENT_IOC_ENABLE)"))
            }
        }
        var sinkOfCPU: [Int: CPUSampleSink] = [:]
        for sink in sinks { sinkOfCPU[sink.cpu] = sink }
        let rings = self.rings
        let stopEvent = stopPipe[0]
        let interval = configuration.flushInterval
        let descriptors = self.descriptors
        reader = startThread(name: "tprof-reader") {
            PerfEventBackend.readLoop(rings: rings, sinks: sinkOfCPU, stopEvent: stopEvent, flushInterval: interval,
                                      descriptors: descriptors.map(\.fd))
        }
    }

    public func stop() {
        guard let reader else { return }
        var byte: UInt8 = 1
        _ = retryingEINTR { write(stopPipe[1], &byte, 1) }
        reader.join()
        self.reader = nil
        totals = readTotals()
    }

    /// The kernel's totals per event, read after `stop()`.
    public var eventTotals: [EventTotals] { totals }

    private func readTotals() -> [EventTotals] {
        var result = Array(repeating: EventTotals(), count: configuration.events.count)
        for descriptor in descriptors {
            var values: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let n = withUnsafeMutableBytes(of: &values) { buffer in
                retryingEINTR { read(descriptor.fd, buffer.baseAddress, buffer.count) }
            }
            guard n == 24 else { continue }
            result[descriptor.event].count &+= values.0
            result[descriptor.event].timeEnabled &+= values.1
            result[descriptor.event].timeRunning &+= values.2
        }
        return result
    }

    private func closeAll() {
        rings.removeAll()
        for descriptor in descriptors { close(descriptor.fd) }
        descriptors.removeAll()
        for fd in stopPipe where fd >= 0 { close(fd) }
        stopPipe = [-1, -1]
    }

    private static func readLoop(rings: [PerfRing], sinks: [Int: CPUSampleSink], stopEvent: Int32,
                                 flushInterval: UInt64, descriptors: [Int32]) {
        let timeoutMs = Int32(max(1, min(1000, flushInterval / 1_000_000)))
        var hungUp = Array(repeating: false, count: rings.count)
        var reader = RingBufferReader()
        var stopping = false
        while !stopping {
            var pollSet = [pollfd(fd: stopEvent, events: Int16(POLLIN), revents: 0)]
            var ringOfPoll: [Int] = []
            for (index, ring) in rings.enumerated() where !hungUp[index] {
                pollSet.append(pollfd(fd: ring.fd, events: Int16(POLLIN), revents: 0))
                ringOfPoll.append(index)
            }
            _ = retryingEINTR { poll(&pollSet, nfds_t(pollSet.count), timeoutMs) }
            if pollSet[0].revents & Int16(POLLIN) != 0 { stopping = true }
            for (position, index) in ringOfPoll.enumerated()
            where pollSet[position + 1].revents & Int16(POLLHUP | POLLERR) != 0 {
                hungUp[index] = true
            }
            if stopping {
                for fd in descriptors { _ = CTprofLinux_ioctl_int(fd, CTprofLinux_PERF_EVENT_IOC_DISABLE, 0) }
            }
            let now = monotonicNanoseconds()
            for ring in rings {
                guard let sink = sinks[ring.cpu] else { continue }
                ring.drain(into: sink, reader: &reader, now: now)
            }
            for sink in sinks.values {
                if stopping { sink.flush(now: now) } else { sink.tick(now: now) }
            }
        }
    }
}
