import Foundation

/// Generates samples at a set rate with set shapes, to drive the pipeline in tests and benchmarks without the kernel.
///
/// Never used by `tprof-record`'s default path: the kernel is the only real source of samples.
public final class SyntheticBackend: SamplingBackend {
    /// What the generated samples look like.
    public struct Shape: Sendable {
        /// Distinct processes; sample `i` goes to pid `pidBase + i % processes`.
        public var processes: Int
        /// Threads per process.
        public var threadsPerProcess: Int
        /// Distinct program counters cycled through.
        public var distinctPCs: Int
        /// Every `kernelEvery`-th sample is in kernel mode (0: none).
        public var kernelEvery: Int
        /// Events the samples are spread over.
        public var events: Int
        public var pidBase: Int32
        /// Frames of each sample's call chain (0: no call chains).
        public var stackDepth: Int
        /// Distinct call chains the samples are drawn from.
        public var distinctStacks: Int
        /// How the call chains look.
        public var chains: ChainKind = .uniform

        /// How the call chains look.
        public enum ChainKind: Sendable {
            /// User frames only, `stackDepth` of them, from a few thousand addresses.
            case uniform
            /// Like a busy machine's `-a -g`: 20 to 60 frames, most with a kernel part (5 to 20 frames) under the
            /// user part; chains share their outer frames as real call trees do; each belongs to one of the
            /// processes; half the samples come from the 1,000 hottest chains, half from all of them.
            case systemWide
        }

        /// `-a -g` on a busy machine: 100,000 distinct kernel+user chains of 20 to 60 frames in 300 processes.
        public static let systemWide: Shape = {
            var shape = Shape(processes: 300, threadsPerProcess: 2, stackDepth: maxSystemWideFrames + 2,
                              distinctStacks: 100_000)
            shape.chains = .systemWide
            return shape
        }()
        static let maxSystemWideFrames = 60

        public init(processes: Int = 4, threadsPerProcess: Int = 2, distinctPCs: Int = 1000, kernelEvery: Int = 5,
                    events: Int = 1, pidBase: Int32 = 1000, stackDepth: Int = 0, distinctStacks: Int = 1000) {
            self.stackDepth = max(0, min(stackDepth, 128))
            self.distinctStacks = max(1, distinctStacks)
            self.processes = max(1, processes)
            self.threadsPerProcess = max(1, threadsPerProcess)
            self.distinctPCs = max(1, distinctPCs)
            self.kernelEvery = max(0, kernelEvery)
            self.events = max(1, events)
            self.pidBase = pidBase
        }
    }

    public let name = "synthetic"
    public let cpus: [Int]
    /// Samples per second per CPU; 0 generates as fast as the pipeline takes them.
    public let rate: UInt64
    /// Samples per CPU after which generation stops by itself (0: until `stop()`).
    public let samplesPerCPU: UInt64
    public let shape: Shape

    private var threads: [ThreadHandle] = []
    private let stopFlag = StopFlag()

    public init(cpus: [Int], rate: UInt64, samplesPerCPU: UInt64, shape: Shape = Shape()) {
        self.cpus = cpus
        self.rate = rate
        self.samplesPerCPU = samplesPerCPU
        self.shape = shape
    }

    public func estimateFrequency() -> UInt64 { rate == 0 ? 1_000_000 : rate }

    public func start(sinks: [CPUSampleSink]) throws {
        let shape = self.shape
        let rate = self.rate
        let limit = samplesPerCPU
        let stopFlag = self.stopFlag
        for sink in sinks {
            threads.append(startThread(name: "tprof-synth-\(sink.cpu)") {
                SyntheticBackend.generate(into: sink, shape: shape, rate: rate, limit: limit, stop: stopFlag)
            })
        }
    }

    /// Waits until every generator thread has produced its `samplesPerCPU` samples.
    public func waitUntilFinished() {
        for thread in threads { thread.join() }
    }

    public func stop() {
        stopFlag.set()
        for thread in threads { thread.join() }
        threads.removeAll()
    }

    private static func generate(into sink: CPUSampleSink, shape: Shape, rate: UInt64, limit: UInt64,
                                 stop: StopFlag) {
        let start = monotonicNanoseconds()
        let threadCount = shape.processes * shape.threadsPerProcess
        var produced: UInt64 = 0
        var now = start
        let chunk: UInt64 = 256
        // Call chains as the kernel writes them, leaf first: a user context marker, then the frames.
        var stacks: [[UInt64]] = []
        for k in 0..<(shape.stackDepth == 0 || shape.chains != .uniform ? 0 : shape.distinctStacks) {
            var chain: [UInt64] = [PerfCallChain.contextUser]
            for j in 0..<shape.stackDepth {
                let slot = UInt64((k &* 31 &+ j &* 7919) % 4096)
                chain.append(0x40_1000 &+ slot &* 16)
            }
            stacks.append(chain)
        }
        var scratch = [UInt64](repeating: 0, count: Shape.maxSystemWideFrames + 2)
        while !stop.isSet && (limit == 0 || produced < limit) {
            if rate > 0 {
                let due = (now &- start) &* rate / 1_000_000_000
                if produced >= due {
                    usleep(200)
                    now = monotonicNanoseconds()
                    sink.tick(now: now)
                    continue
                }
            }
            let end = limit == 0 ? produced + chunk : min(limit, produced + chunk)
            while produced < end {
                let i = Int(truncatingIfNeeded: produced &+ UInt64(sink.cpu) &* 7919)
                let thread = i % threadCount
                let process = thread % shape.processes
                let pid = shape.pidBase + Int32(process)
                let tid = pid + Int32(100_000 * (thread / shape.processes))
                let kernel = shape.kernelEvery > 0 && i % shape.kernelEvery == 0
                let pcIndex = UInt64((i &* 2_654_435_761) % shape.distinctPCs)
                let pc = kernel ? 0xffff_ffff_8100_0000 &+ pcIndex &* 16 : 0x40_1000 &+ pcIndex &* 16
                let sample = Sample(time: now &+ produced, pid: pid, tid: tid, cpu: UInt32(sink.cpu),
                                    event: UInt16(i % shape.events), mode: kernel ? .kernel : .user,
                                    pc: pc, period: 1_000_000)
                if shape.chains == .systemWide && shape.stackDepth > 0 {
                    let hot = i & 1 == 0
                    let k = Int(murmurFinalize(UInt64(i)) % UInt64(hot ? min(1000, shape.distinctStacks) : shape.distinctStacks))
                    let count = systemWideChain(k, into: &scratch)
                    var withLeaf = sample
                    withLeaf.pid = shape.pidBase + Int32(k % shape.processes)
                    withLeaf.tid = withLeaf.pid + Int32(100_000 * (i % shape.threadsPerProcess))
                    withLeaf.mode = scratch[0] == PerfCallChain.contextKernel ? .kernel : .user
                    withLeaf.pc = scratch[1]
                    scratch.withUnsafeBytes {
                        sink.add(withLeaf, callchain: UnsafeRawBufferPointer(rebasing: $0[0..<count * 8]), now: now)
                    }
                } else if stacks.isEmpty {
                    sink.add(sample, now: now)
                } else {
                    let stack = stacks[i % stacks.count]
                    var withLeaf = sample
                    withLeaf.mode = .user
                    withLeaf.pc = stack[1]
                    stack.withUnsafeBytes { sink.add(withLeaf, callchain: $0, now: now) }
                }
                produced += 1
            }
            now = monotonicNanoseconds()
            sink.tick(now: now)
        }
        sink.flush(now: monotonicNanoseconds())
    }
}

/// Writes system-wide chain `k` as the kernel does (leaf first, context markers), returning its entries. A frame at
/// depth d from its part's root depends only on d and on k's upper bits (fewer of them nearer the root), so the chains
/// share their outer frames the way call trees do and differ near the leaf.
private func systemWideChain(_ k: Int, into chain: inout [UInt64]) -> Int {
    let h = murmurFinalize(UInt64(k) &+ 0x5eed)
    let frames = 20 + Int(h % 41)
    let kernelFrames = (h >> 8) & 3 == 0 ? 0 : 5 + Int((h >> 12) % 16)
    let userFrames = frames - kernelFrames
    func frame(_ base: UInt64, depth: Int, salt: UInt64) -> UInt64 {
        let prefix = UInt64(k) >> UInt64(max(0, 17 - depth))
        return base &+ (murmurFinalize(prefix &* 0x9e37_79b9 ^ UInt64(depth) &* 0x85eb_ca6b ^ salt) % 65536) &* 16
    }
    var n = 0
    if kernelFrames > 0 {
        chain[n] = PerfCallChain.contextKernel
        n += 1
        for depth in stride(from: kernelFrames - 1, through: 0, by: -1) {
            chain[n] = frame(0xffff_ffff_8100_0000, depth: depth, salt: 1)
            n += 1
        }
    }
    chain[n] = PerfCallChain.contextUser
    n += 1
    for depth in stride(from: userFrames - 1, through: 0, by: -1) {
        chain[n] = frame(0x40_0000, depth: depth, salt: 2)
        n += 1
    }
    return n
}

/// A flag one thread sets and others poll.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
