import CTprofLinux
import Foundation
import Glibc
import TprofCapture
import TprofStore
import TprofFinish

/// One recording session: checks the request, opens the events, runs the target, and leaves a finished database.
public final class Recorder {
    let options: RecordOptions
    private let host = HostInfo.current()
    let stderr = StandardError()
    /// The progress line on stderr, where it cannot mix with the profiled program's output.
    lazy var statusLine = StatusLine.make(for: options)
    var symbolOutcome: SymbolOutcome?
    /// The signalfd the stop signals are read from while recording; a stop signal during finishing skips the rest
    /// of unwinding and symbol resolution.
    var signalFD: Int32 = -1
    var unwindOutcome: StackUnwinding.Outcome?

    public init(options: RecordOptions) {
        self.options = options
    }

    /// Records and returns the exit status for tprof-record: the command's own, 127 when it cannot start,
    /// non-zero with one line on stderr for any error.
    public func run() -> Int32 {
        do {
            return try record()
        } catch let error as RecordError {
            stderr.line("tprof-record: \(error.message)")
            return error.exitStatus
        } catch {
            stderr.line("tprof-record: \(error)")
            return 1
        }
    }

    // MARK: Checks made before anything is created or started

    private func resolveEvents() throws -> (specs: [EventSpec], note: String?) {
        if options.events.isEmpty {
            if let failure = probeHardwareCycles() {
                return ([try EventSpec.parse("cpu-clock")],
                        "cycles is not available on this machine (\(failure)); using cpu-clock")
            }
            return ([try EventSpec.parse("cycles")], nil)
        }
        var specs: [EventSpec] = []
        for name in options.events {
            do {
                specs.append(try EventSpec.parse(name))
            } catch let error as EventSpec.ParseError {
                throw RecordError(error.description)
            }
        }
        return (specs, nil)
    }

    /// Opens `cycles` on this process for user mode only (allowed whatever the paranoia level): nil when it works.
    private func probeHardwareCycles() -> String? {
        var attr = perf_event_attr()
        attr.type = 0
        attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
        attr.config = 0
        attr.disabled = 1
        attr.exclude_kernel = 1
        attr.exclude_hv = 1
        let fd = CTprofLinux_perf_event_open(&attr, 0, -1, -1, UInt(PERF_FLAG_FD_CLOEXEC))
        if fd >= 0 {
            close(fd)
            return nil
        }
        return String(cString: strerror(errno))
    }

    private func checkRate() throws {
        if let period = options.period, period == 0 { throw RecordError("bad period 0 for -c: it must be at least 1") }
        guard case .frequency(let hz) = options.rate else { return }
        guard hz > 0 else { throw RecordError("bad frequency 0 for -F: it must be at least 1") }
        if let max = kernelSetting("kernel/perf_event_max_sample_rate"), hz > UInt64(max) {
            throw RecordError("-F \(hz) is above kernel.perf_event_max_sample_rate (\(max)); use -F \(max) or "
                + "less, or raise it with 'sysctl kernel.perf_event_max_sample_rate=\(hz)'")
        }
    }

    private func resolveCPUs() throws -> [Int] {
        guard let asked = options.cpus else { return host.onlineCPUs }
        let online = Set(host.onlineCPUs)
        if let missing = asked.first(where: { !online.contains($0) }) {
            throw RecordError("CPU \(missing) is not online (online: \(host.onlineCPUs.map(String.init).joined(separator: ",")))")
        }
        return asked
    }

    // MARK: Recording

    private func record() throws -> Int32 {
        let (events, eventNote) = try resolveEvents()
        try checkRate()
        let cpus = try resolveCPUs()
        let buffers = try BufferPlan(.init(
            bufferSamples: options.bufferSamples, bufferLimit: options.bufferLimit,
            frequency: options.rate.expectedFrequency, flushIntervalMs: options.flushIntervalMs,
            callChains: options.maxStack != nil,
            userStackSize: options.userStackSize, cpuCount: cpus.count))
        var targetTIDs: [Int32] = []
        var executable: [UInt8]?
        switch options.target {
        case .command(let arguments):
            executable = try HeldCommand.resolve(arguments)
        case .pids(let pids):
            for pid in pids {
                guard pid > 0, let tids = ProcSnapshot.threads(of: pid) else {
                    throw RecordError("no such process: \(pid)", exitStatus: 127)
                }
                targetTIDs.append(contentsOf: tids)
            }
        case .systemWide:
            break
        }
        if let duration = options.duration, !(duration > 0 && duration < 1e9) {
            throw RecordError("bad duration \(duration) for -d: it must be a positive number of seconds")
        }

        let signals = CTprofLinux_block_signals_to_fd()
        guard signals >= 0 else { throw RecordError("cannot block signals: \(SystemError("signalfd"))") }
        signalFD = signals
        defer { close(signals) }

        let output = try createOutput(protecting: executable)
        var command: HeldCommand?
        var started = false
        defer {
            if !started {
                command?.abandon()
                output.discard()
            }
        }

        let perfTarget: PerfTarget
        switch options.target {
        case .command(let arguments):
            let held = try HeldCommand(arguments: arguments)
            command = held
            perfTarget = .command(pid: held.pid)
        case .pids:
            perfTarget = .threads(targetTIDs)
        case .systemWide:
            perfTarget = .systemWide
        }
        let flushInterval = UInt64(options.flushIntervalMs) * 1_000_000
        // A user stack copy makes every sample kilobytes long: the rings must hold a flush interval of them.
        let ringPages = options.userStackSize != nil && !options.ringPagesGiven ? 512 : options.ringPages
        let backend = PerfEventBackend(configuration: .init(
            events: events, rate: options.rate, target: perfTarget, cpus: cpus, ringPages: ringPages,
            flushInterval: flushInterval, maxStack: options.maxStack, userStackSize: options.userStackSize))
        do {
            try backend.open()
        } catch let error as PerfEventError {
            // A process that ended before its events were opened is missing, as one that never existed.
            if case .noSuchProcess = error { throw RecordError(error.description, exitStatus: 127) }
            throw RecordError(error.description)
        } catch {
            throw RecordError("cannot open perf events: \(error)")
        }
        if backend.fellBackToUserOnly {
            stderr.line("tprof-record: kernel samples are not permitted (kernel.perf_event_paranoid is "
                + "\(kernelSetting("kernel/perf_event_paranoid").map(String.init) ?? "unknown") and no CAP_PERFMON); "
                + "recording user space only (events :u)")
        }
        if backend.ringPagesMapped < ringPages {
            stderr.line("tprof-record: the locked-memory limit (kernel.perf_event_mlock_kb, ulimit -l) allows "
                + "\(backend.ringPagesMapped) ring pages per CPU, not \(ringPages); using \(backend.ringPagesMapped)")
        }
        if let eventNote, !options.quiet { stderr.line("tprof-record: \(eventNote)") }

        let list = BufferList(cpus: cpus, configuration: .init(
            bufferCapacity: buffers.bufferSamples, limit: buffers.bufferLimit, frameCapacity: buffers.frameCapacity,
            userDataCapacity: buffers.userDataCapacity))

        let startWall = Int64(Date().timeIntervalSince1970 * 1e9)
        let startMonotonic = monotonicNanoseconds()
        let finalEvents = backend.configuration.events
        let pidsForRun: [Int32]?
        if case .pids(let pids) = options.target { pidsForRun = pids } else { pidsForRun = nil }
        var commandArguments: [String]?
        if case .command(let arguments) = options.target { commandArguments = arguments.displayed }
        let targetName: String
        switch options.target {
        case .command: targetName = "command"
        case .pids: targetName = "pid"
        case .systemWide: targetName = "system"
        }
        let run = RunInfo(
            toolVersion: tprofVersion, target: targetName, commandLine: options.commandLine, command: commandArguments,
            targetPIDs: pidsForRun, cpus: cpus, backend: backend.name, host: host.host,
            kernelRelease: host.kernelRelease, machine: host.machine, cpuModel: host.cpuModel,
            cpuCount: host.onlineCPUs.count, maxSampleRate: kernelSetting("kernel/perf_event_max_sample_rate"),
            paranoid: kernelSetting("kernel/perf_event_paranoid"), userOnlyFallback: backend.fellBackToUserOnly,
            ringPages: backend.ringPagesMapped,
            callGraph: options.userStackSize.map { "dwarf,\($0)" } ?? (options.maxStack == nil ? nil : "fp"),
            maxStack: options.maxStack, flushIntervalMs: options.flushIntervalMs, bufferSamples: buffers.bufferSamples,
            bufferLimit: buffers.bufferLimit, startTimeNs: startWall, startMonotonicNs: startMonotonic)
        let eventInfos = finalEvents.enumerated().map { index, spec in
            EventInfo(spec: spec, rate: options.rate, note: index == 0 ? eventNote : nil)
        }
        do {
            try RecordingDatabase.prepare(output, run: run, events: eventInfos)
        } catch {
            throw RecordError("cannot write \(options.output): \(error)")
        }

        let now = monotonicNanoseconds()
        let sinks = cpus.map { CPUSampleSink(cpu: $0, list: list, flushInterval: flushInterval, now: now) }
        do {
            try backend.start(sinks: sinks)
        } catch {
            list.close()
            throw RecordError("cannot start recording: \(error)")
        }
        // The output is replaced only once the command runs: a command that cannot start leaves it as it was.
        if let command, let failure = command.release() {
            backend.stop()
            list.close()
            throw HeldCommand.cannotRun(command.arguments, errno: failure)
        }
        let database: RecordingDatabase
        let writer: SampleWriter
        do {
            database = try publish(output)
            if options.userStackSize != nil && !options.keepStacks {
                try attachScratchStacks(database)
            }
            writer = try SampleWriter(database: database, list: list, startMonotonic: startMonotonic,
                                      eventCount: finalEvents.count,
                                      userStacksSchema: options.userStackSize == nil ? nil
                                          : (options.keepStacks ? "main" : Self.scratchSchema))
            switch options.target {
            case .pids(let pids): try writer.writeSideband(ProcSnapshot.records(for: pids, time: startMonotonic))
            case .systemWide:
                try writer.writeSideband(ProcSnapshot.records(for: ProcSnapshot.allProcesses(), time: startMonotonic))
            case .command: break
            }
        } catch {
            backend.stop()
            list.close()
            throw error as? RecordError ?? RecordError("cannot write \(options.output): \(error)")
        }
        writer.start()
        started = true

        let ending = waitForEnd(signals: signals, command: command, writer: writer, list: list, start: startMonotonic)
        var status = ending.status
        var reason = ending.reason
        var exitCode = ending.exitCode

        backend.stop()
        list.close()
        writer.finish()
        statusLine?.clear()
        if let failure = writer.failure {
            status = "failed"
            reason = "writing the database failed: \(failure)"
            exitCode = 1
        }
        let end = monotonicNanoseconds()
        let statistics = list.statistics()
        var finishError: Error?
        do {
            try writer.writeCounters()
            try database.finish(RunOutcome(
                status: status, reason: reason, endTimeNs: Int64(Date().timeIntervalSince1970 * 1e9),
                durationNs: Int64(end - startMonotonic), exitStatus: command?.exit?.status,
                exitSignal: command?.exit?.signal, eventTotals: backend.eventTotals),
                samplesPerEvent: writer.samplesPerEvent, resolveSymbols: unwindAndResolveSymbols)
        } catch {
            finishError = error
            try? database.markFailed(reason: "cannot finish the database: \(error)")
        }
        if status == "failed", let reason { stderr.line("tprof-record: \(reason)") }
        if let finishError {
            stderr.line("tprof-record: cannot finish \(options.output): \(finishError)")
            if exitCode == 0 { exitCode = 1 }
        }
        if let loss = output.loss {
            let samples = writer.samplesPerEvent.reduce(0, +)
            stderr.line("tprof-record: \(loss.message(output: options.output, samples: samples))")
            return exitCode == 0 ? 1 : exitCode
        }
        if !options.quiet {
            Summary(output: options.output, fileSize: database.fileSize, statistics: statistics,
                    events: finalEvents, eventTotals: backend.eventTotals, samplesPerEvent: writer.samplesPerEvent,
                    rate: options.rate, duration: Double(end - startMonotonic) / 1e9, symbols: symbolOutcome,
                    unwinding: unwindOutcome).print(to: stderr)
        }
        return exitCode
    }
}

/// Unbuffered writes to stderr.
struct StandardError {
    func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let n = retryingEINTR { Glibc.write(STDERR_FILENO, base + offset, bytes.count - offset) }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    func line(_ text: String) { write(text + "\n") }
}
