import Foundation
import TprofCapture
import TprofStore
import TprofSymbols
import TprofCLI

/// A recording once it runs: what the capture and the finishing phases work with.
struct RecordingSession {
    var backend: PerfEventBackend
    var list: BufferList
    var output: RecordingOutput
    var database: RecordingDatabase
    var writer: SampleWriter
    /// The command tprof-record started, nil for -p and -a.
    var command: HeldCommand?
    /// The events opened, after any fallback to user mode.
    var events: [EventSpec]
    var startMonotonic: UInt64
}

/// The start phase: the output file, the events, the command, the writer; undone when any step fails.
extension Recorder {
    func start(_ plan: RecordingPlan, target: ResolvedTarget) throws -> RecordingSession {
        let output = try createOutput(protecting: target.executable)
        var command: HeldCommand?
        var started = false
        defer {
            if !started {
                command?.abandon()
                output.discard()
            }
        }
        if case .command(let arguments) = options.target {
            command = try HeldCommand(arguments: arguments, detached: options.detachesCommand)
        }
        let backend = try openEvents(plan, target: perfTarget(target, command: command))
        let list = BufferList(cpus: plan.cpus, configuration: .init(
            bufferCapacity: plan.buffers.bufferSamples, limit: plan.buffers.bufferLimit,
            frameCapacity: plan.buffers.frameCapacity, userDataCapacity: plan.buffers.userDataCapacity))
        let startMonotonic = monotonicNanoseconds()
        do {
            try RecordingDatabase.prepare(output, run: runInfo(plan, backend: backend, startMonotonic: startMonotonic),
                                          events: backend.configuration.events.enumerated().map { index, spec in
                                              // Off-CPU events take every switch and wake-up.
                                              EventInfo(spec: spec, rate: spec.offCPU == nil ? options.rate : .period(1),
                                                        note: index == 0 ? plan.eventNote : spec.offCPU?.note)
                                          })
        } catch {
            throw ToolFailure("cannot write \(options.output): \(error)")
        }
        let now = monotonicNanoseconds()
        let roots = processRoots
        let sinks = plan.cpus.map {
            CPUSampleSink(cpu: $0, list: list, flushInterval: plan.flushInterval, now: now,
                          mappingObserver: { roots.observe($0) })
        }
        do {
            try backend.start(sinks: sinks)
        } catch {
            list.close()
            throw ToolFailure("cannot start recording: \(error)")
        }
        // The output is replaced only once the command runs: a command that cannot start leaves it as it was.
        if let command, let failure = command.release() {
            backend.stop()
            list.close()
            throw HeldCommand.cannotRun(command.arguments, errno: failure)
        }
        let (database, writer): (RecordingDatabase, SampleWriter)
        do {
            (database, writer) = try openWriter(output, list: list, events: backend.configuration.events.count,
                                                startMonotonic: startMonotonic)
        } catch {
            backend.stop()
            list.close()
            throw error as? ToolFailure ?? ToolFailure("cannot write \(options.output): \(error)")
        }
        writer.start()
        started = true
        return RecordingSession(backend: backend, list: list, output: output, database: database, writer: writer,
                                command: command, events: backend.configuration.events,
                                startMonotonic: startMonotonic)
    }

    /// What the events follow: the held command from its exec on, the -p processes' threads, or every task.
    private func perfTarget(_ target: ResolvedTarget, command: HeldCommand?) -> PerfTarget {
        if let command { return .command(pid: command.pid) }
        if case .pids = options.target { return .threads(target.threads) }
        return .systemWide
    }

    /// Opens the events and maps the rings, saying on stderr what had to be given up.
    private func openEvents(_ plan: RecordingPlan, target: PerfTarget) throws -> PerfEventBackend {
        let backend = PerfEventBackend(configuration: .init(
            events: plan.events, rate: options.rate, target: target, cpus: plan.cpus, ringPages: plan.ringPages,
            flushInterval: plan.flushInterval, maxStack: options.maxStack, userStackSize: options.userStackSize))
        do {
            try backend.open()
        } catch let error as PerfEventError {
            // A process that ended before its events were opened is missing, as one that never existed.
            if case .noSuchProcess = error { throw ToolFailure(error.description, exitStatus: 127) }
            throw ToolFailure(error.description)
        } catch {
            throw ToolFailure("cannot open perf events: \(error)")
        }
        if backend.fellBackToUserOnly {
            stderr.line("\(options.toolName): kernel samples are not permitted (kernel.perf_event_paranoid is "
                + "\(kernelSetting("kernel/perf_event_paranoid").map(String.init) ?? "unknown") and no CAP_PERFMON); "
                + "recording user space only (events :u)")
        }
        if backend.ringPagesMapped < plan.ringPages {
            stderr.line("\(options.toolName): the locked-memory limit (kernel.perf_event_mlock_kb, ulimit -l) allows "
                + "\(backend.ringPagesMapped) ring pages per CPU, not \(plan.ringPages); using "
                + "\(backend.ringPagesMapped)")
        }
        if let note = plan.eventNote, !options.quiet { stderr.line("\(options.toolName): \(note)") }
        return backend
    }

    /// The run's metadata, stored in `run` before the first sample.
    private func runInfo(_ plan: RecordingPlan, backend: PerfEventBackend, startMonotonic: UInt64) -> RunInfo {
        var runTarget = RunTarget.system
        var commandArguments: [String]?
        var pids: [Int32]?
        switch options.target {
        case .command(let arguments):
            runTarget = .command
            commandArguments = arguments.displayed
        case .pids(let given):
            runTarget = .pid
            pids = given
        case .systemWide:
            break
        }
        return RunInfo(
            toolVersion: tprofVersion, target: runTarget, commandLine: options.commandLine, command: commandArguments,
            targetPIDs: pids, cpus: plan.cpus, backend: backend.name, host: host.host,
            kernelRelease: host.kernelRelease, machine: host.machine, cpuModel: host.cpuModel,
            cpuCount: host.onlineCPUs.count, maxSampleRate: kernelSetting("kernel/perf_event_max_sample_rate"),
            paranoid: kernelSetting("kernel/perf_event_paranoid"), userOnlyFallback: backend.fellBackToUserOnly,
            ringPages: backend.ringPagesMapped,
            callGraph: options.userStackSize.map { "dwarf,\($0)" } ?? (options.maxStack == nil ? nil : "fp"),
            maxStack: options.maxStack, flushIntervalMs: options.flushIntervalMs,
            bufferSamples: plan.buffers.bufferSamples, bufferLimit: plan.buffers.bufferLimit,
            startTimeNs: Int64(Date().timeIntervalSince1970 * 1e9), startMonotonicNs: startMonotonic,
            kernelTextStart: runningKernelTextStart())
    }

    /// Publishes the output and opens the writer on it, with the side-band records of processes already running.
    private func openWriter(_ output: RecordingOutput, list: BufferList, events: Int,
                            startMonotonic: UInt64) throws -> (RecordingDatabase, SampleWriter) {
        let database = try publish(output)
        if options.userStackSize != nil && !options.keepStacks {
            try attachScratchStacks(database)
        }
        let writer = try SampleWriter(database: database, list: list, startMonotonic: startMonotonic,
                                      eventCount: events,
                                      userStacksSchema: options.userStackSize == nil ? nil
                                          : (options.keepStacks ? "main" : Self.scratchSchema))
        var snapshot: [SidebandRecord] = []
        switch options.target {
        case .pids(let pids): snapshot = ProcSnapshot.records(for: pids, time: startMonotonic)
        case .systemWide: snapshot = ProcSnapshot.records(for: ProcSnapshot.allProcesses(), time: startMonotonic)
        case .command: break
        }
        for case .mmap(let mapping) in snapshot { processRoots.observe(mapping) }
        try writer.writeSideband(snapshot)
        return (database, writer)
    }
}
