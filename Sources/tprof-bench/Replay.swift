import ArgumentParser
import Foundation
import TprofCapture
import TprofCLI
import TprofDatabase
import TprofRecorder
import TprofStore
import TprofSynthetic

/// Replays a recording's samples and call chains through the per-CPU sinks, the buffer list and the writer into a
/// fresh database, paced by their recorded times: the CPU each stage takes a sample on a real recording's data,
/// which the synthetic shapes only approximate, without the kernel's ring buffers or a machine kept busy.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a recording through sinks, buffers and writer: the CPU each takes a sample.",
        discussion: """
            The samples of INPUT (a tprof-record database with call chains) are handed to the per-CPU sinks in \
            their recorded order, at their recorded times divided by --speed, with buffers sized as tprof-record \
            sizes them for --frequency; the writer writes them to --output. Printed: samples written and dropped, \
            the writer's batches, and CPU per sample of the producers (the replay loop with the sinks), of the \
            writer thread and, with --finish, of finishing the database (indexes and names; no symbols).
            """)

    @Argument(help: "The recording to replay.") var input: String
    @Option(name: .short, help: "The database to write (replaced if it exists; never the recording replayed).")
    var output: String
    @Option(help: "Replay this many times faster than recorded.") var speed = 1.0
    @Option(help: "Samples/s per CPU the buffers are sized for, as tprof-record sizes them.")
    var frequency: UInt64 = 50000
    @Flag(help: "Also finish the database: indexes and names, without symbols.") var finish = false

    func validate() throws {
        guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a positive number") }
    }

    /// A sample's time after the first sample's, and 0 for one recorded earlier (times are signed in the file).
    private static func offset(_ time: UInt64, from first: UInt64) -> UInt64 {
        UInt64(max(0, Int64(bitPattern: time) &- Int64(bitPattern: first)))
    }

    func run() throws {
        let inputFiles = Dictionary(FileIdentity.ofDatabase(BytePath(input)), uniquingKeysWith: { first, _ in first })
        if let identity = FileIdentity(path: output), let file = inputFiles[identity] {
            throw ToolFailure("refusing to write \(output): it is \(file), the recording replayed; choose another "
                + "output file")
        }
        let source = try SQLiteDatabase(path: input, mode: .readOnly)
        let chains = try rawChains(source)
        var samples: [(sample: Sample, stack: Int64)] = []
        let rows = try source.prepare(
            "SELECT time, cpu, pid, tid, event, mode, pc, period, coalesce(stack_id, 0) FROM samples ORDER BY rowid")
        while try rows.step() {
            // Rows of any database are taken as they come, without a trap: a CPU or event out of range is refused.
            let cpu = rows.int64(1), event = rows.int64(4)
            guard (0..<4096).contains(cpu), (0..<Int64(UInt16.max)).contains(event) else {
                throw ToolFailure("\(input): a sample on CPU \(cpu) of event \(event) is out of range: not a "
                    + "recording tprof-bench replays")
            }
            samples.append((Sample(time: UInt64(bitPattern: rows.int64(0)),
                                   pid: Int32(truncatingIfNeeded: rows.int64(2)),
                                   tid: Int32(truncatingIfNeeded: rows.int64(3)), cpu: UInt32(cpu),
                                   event: UInt16(event),
                                   mode: SampleMode(rawValue: UInt8(truncatingIfNeeded: rows.int64(5))) ?? .unknown,
                                   pc: UInt64(bitPattern: rows.int64(6)), period: UInt64(bitPattern: rows.int64(7))),
                            rows.int64(8)))
        }
        let cpus = Set(samples.map { Int($0.sample.cpu) }).sorted()
        let flushIntervalMs = 125
        let plan = try BufferPlan(.init(bufferSamples: nil, bufferLimit: nil, frequency: frequency,
                                        flushIntervalMs: flushIntervalMs, callChains: true, userStackSize: nil,
                                        cpuCount: cpus.count))
        let events = (0..<(Int(samples.map(\.sample.event).max() ?? 0) + 1)).map { index in
            EventInfo(spec: EventSpec(name: "replayed-\(index)", baseName: "replayed-\(index)", type: 1, config: 0,
                                      excludeUser: false, excludeKernel: false),
                      rate: .frequency(frequency), note: "replayed from \(input)")
        }
        let start = monotonicNanoseconds()
        let database = try SyntheticRecording.create(
            output, backend: "replay", cpus: cpus, events: events, flushIntervalMs: flushIntervalMs,
            bufferSamples: plan.bufferSamples, bufferLimit: plan.bufferLimit, startMonotonic: start)
        let list = BufferList(cpus: cpus, configuration: .init(
            bufferCapacity: plan.bufferSamples, limit: plan.bufferLimit, frameCapacity: plan.frameCapacity))
        let writer = try SampleWriter(database: database, list: list, startMonotonic: start, eventCount: events.count)
        var sinks: [CPUSampleSink?] = Array(repeating: nil, count: (cpus.last ?? 0) + 1)
        for cpu in cpus {
            sinks[cpu] = CPUSampleSink(cpu: cpu, list: list, flushInterval: UInt64(flushIntervalMs) * 1_000_000,
                                       now: start)
        }
        let first = samples.first?.sample.time ?? 0
        let processBefore = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID)
        let producerBefore = cpuSeconds(CLOCK_THREAD_CPUTIME_ID)
        writer.start()
        var index = 0
        while index < samples.count {
            let recorded = Self.offset(samples[index].sample.time, from: first)
            let due = UInt64(min(Double(recorded) / speed, 1.8e19))
            let elapsed = monotonicNanoseconds() &- start
            if elapsed < due {
                usleep(UInt32(min(2000, (due - elapsed) / 1000)))
                continue
            }
            // The sinks see the recorded clock, so buffers are handed on as in the recording.
            let now = start &+ recorded
            for (sample, stack) in samples[index..<min(samples.count, index + 256)] {
                guard let sink = sinks[Int(sample.cpu)] else { continue }
                if let chain = chains[stack] {
                    chain.withUnsafeBytes { sink.add(sample, callchain: $0, now: now) }
                } else {
                    sink.add(sample, now: now)
                }
            }
            index = min(samples.count, index + 256)
            for sink in sinks { sink?.tick(now: now) }
        }
        let last = samples.map { Self.offset($0.sample.time, from: first) }.max() ?? 0
        for sink in sinks { sink?.flush(now: start &+ last) }
        let producer = cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - producerBefore
        list.close()
        writer.finish()
        let writing = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - processBefore - producer
        if let failure = writer.failure { throw failure }
        var finishing = 0.0
        if finish {
            let before = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID)
            try writer.writeCounters()
            try database.finish(RunOutcome(
                status: .complete, reason: nil, endTimeNs: Int64(Date().timeIntervalSince1970 * 1e9),
                durationNs: Int64(monotonicNanoseconds() - start), exitStatus: nil, exitSignal: nil, eventTotals: []),
                samplesPerEvent: writer.samplesPerEvent)
            finishing = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - before
        }
        let statistics = list.statistics()
        let written = statistics.reduce(0) { $0 + $1.written }
        let dropped = statistics.reduce(0) { $0 + $1.counters.dropped }
        func perSample(_ seconds: Double) -> String { String(format: "%.3f", 1e6 * seconds / Double(max(1, written))) }
        print("samples \(written) dropped \(dropped) batches \(writer.batches) | producers \(perSample(producer)) µs, "
            + "writer \(perSample(writing)) µs, finish \(perSample(finishing)) µs a sample")
    }

    /// Each stack's chain as the kernel writes it (leaf first, a context marker where kernel and user frames meet),
    /// rebuilt from the `stacks` tree.
    private func rawChains(_ source: SQLiteDatabase) throws -> [Int64: [UInt64]] {
        var nodes: [Int64: (parent: Int64, address: UInt64, kernel: Bool)] = [:]
        let rows = try source.prepare("SELECT id, parent_id, address, kernel FROM stacks")
        while try rows.step() {
            nodes[rows.int64(0)] = (rows.int64(1), UInt64(bitPattern: rows.int64(2)), rows.int64(3) != 0)
        }
        var chains: [Int64: [UInt64]] = [:]
        let leaves = try source.prepare("SELECT DISTINCT stack_id FROM samples WHERE stack_id > 0")
        while try leaves.step() {
            var chain: [UInt64] = []
            var context: Bool?
            var id = leaves.int64(0)
            while id != 0, let node = nodes[id] {
                if context != node.kernel {
                    // perf's PERF_CONTEXT_KERNEL and PERF_CONTEXT_USER markers.
                    chain.append(node.kernel ? UInt64(bitPattern: -128) : UInt64(bitPattern: -512))
                    context = node.kernel
                }
                chain.append(node.address)
                id = node.parent
            }
            chains[leaves.int64(0)] = chain
        }
        return chains
    }

    private func cpuSeconds(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
