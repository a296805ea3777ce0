import TprofCapture
import TprofCLI

/// The sizes of the capture buffers and of the list that queues them for the writer, chosen so that every buffer
/// that can exist at once (one current on each CPU plus the list's limit) fits in the memory budget.
///
/// Sizes left to tprof shrink to fit; sizes the user gave (`--buffer-samples`, `--buffer-limit`, the stack copies of
/// `--call-graph dwarf,SIZE`) that cannot fit are refused before anything is created.
public struct BufferPlan: Equatable {
    /// Samples one buffer holds.
    public var bufferSamples: Int
    /// Call-chain entries one buffer holds: room for 16 frames a sample on average (0 without call chains).
    public var frameCapacity: Int
    /// Bytes of copied user registers and stacks one buffer holds (0 without DWARF call graphs).
    public var userDataCapacity: Int
    /// Completed buffers the list may hold.
    public var bufferLimit: Int

    /// What the sizes depend on.
    public struct Request: Equatable {
        /// `--buffer-samples`, if given.
        public var bufferSamples: Int?
        /// `--buffer-limit`, if given.
        public var bufferLimit: Int?
        /// Samples per second per CPU expected (a period counts as 1000 Hz).
        public var frequency: UInt64
        /// `--flush-interval`: a buffer holds at most about this long of samples.
        public var flushIntervalMs: Int
        /// Call chains are recorded (`-g`, `--call-graph`, `--max-stack`).
        public var callChains: Bool
        /// Bytes of user stack copied with each sample (`--call-graph dwarf,SIZE`).
        public var userStackSize: Int?
        /// CPUs recorded: each has a current buffer besides those in the list.
        public var cpuCount: Int
        /// Bytes all the buffers may take.
        public var budget = RecordOptions.bufferMemoryBudget

        /// A request with the flags as given (nil when left to tprof) and the default budget.
        public init(bufferSamples: Int?, bufferLimit: Int?, frequency: UInt64, flushIntervalMs: Int,
                    callChains: Bool, userStackSize: Int?, cpuCount: Int) {
            self.bufferSamples = bufferSamples
            self.bufferLimit = bufferLimit
            self.frequency = frequency
            self.flushIntervalMs = flushIntervalMs
            self.callChains = callChains
            self.userStackSize = userStackSize
            self.cpuCount = cpuCount
        }

        /// Bytes one sample takes in a buffer, its share of call-chain and stack-copy storage included.
        var bytesPerSample: Int {
            MemoryLayout<Sample>.stride + (callChains ? 16 * SampleBuffer.bytesPerFrame : 0)
                + (userStackSize.map { $0 + PerfRecordDecoder.userRegisterCount * 8 } ?? 0)
        }

        /// Bytes a buffer takes whatever its size: room for the chain that may overshoot its frames.
        var bytesPerBuffer: Int { callChains ? SampleBuffer.frameSlack * SampleBuffer.bytesPerFrame : 0 }
    }

    /// The fewest buffers the list keeps, so the writer can hold one while another fills.
    static let minimumLimit = 2
    /// The most buffers the list keeps when the limit is left to tprof.
    static let maximumDefaultLimit = 256

    /// Bytes of one buffer.
    public var bufferBytes: Int {
        Self.bufferBytes(samples: bufferSamples, frameCapacity: frameCapacity, userDataCapacity: userDataCapacity)
    }

    private static func bufferBytes(samples: Int, frameCapacity: Int, userDataCapacity: Int) -> Int {
        let frames = frameCapacity > 0 ? frameCapacity + SampleBuffer.frameSlack : 0
        return samples * MemoryLayout<Sample>.stride + frames * SampleBuffer.bytesPerFrame + userDataCapacity
    }

    /// Bytes all buffers that can exist at once take: the list's limit plus the current buffer of every CPU.
    public func totalBytes(cpuCount: Int) -> Int {
        (bufferLimit + cpuCount) * bufferBytes
    }

    /// The plan for `request`, or an error naming the flags that need more than the budget.
    public init(_ request: Request) throws {
        let perSample = request.bytesPerSample
        let buffersAtLeast = request.cpuCount + (request.bufferLimit ?? Self.minimumLimit)
        let fittingSamples = (request.budget / buffersAtLeast - request.bytesPerBuffer) / perSample
        let samples: Int
        if let given = request.bufferSamples {
            samples = given
        } else {
            // Two flush intervals at the expected rate, or 256 stack copies: as many as fit.
            let wanted = request.userStackSize != nil ? 256
                : min(16_384, max(1024, Int(clamping: request.frequency) * 2 * max(1, request.flushIntervalMs) / 1000))
            samples = min(wanted, fittingSamples)
        }
        guard samples >= 1, samples <= fittingSamples else {
            throw ToolFailure(Self.overBudget(request, samples: max(1, samples), buffers: buffersAtLeast))
        }
        bufferSamples = samples
        frameCapacity = request.callChains ? samples * 16 : 0
        userDataCapacity = request.userStackSize.map { samples * ($0 + PerfRecordDecoder.userRegisterCount * 8) } ?? 0
        let bytes = Self.bufferBytes(samples: samples, frameCapacity: frameCapacity,
                                     userDataCapacity: userDataCapacity)
        bufferLimit = request.bufferLimit
            ?? max(Self.minimumLimit, min(Self.maximumDefaultLimit, request.budget / bytes - request.cpuCount))
    }

    /// The one-line refusal: which of the given flags make the buffers too large, and the budget.
    private static func overBudget(_ request: Request, samples: Int, buffers: Int) -> String {
        var flags: [String] = []
        if let given = request.bufferSamples { flags.append("--buffer-samples \(given)") }
        if let given = request.bufferLimit { flags.append("--buffer-limit \(given)") }
        if let size = request.userStackSize { flags.append("--call-graph dwarf,\(size)") }
        let needed = Double(buffers)
            * (Double(samples) * Double(request.bytesPerSample) + Double(request.bytesPerBuffer))
        let given = flags.isEmpty ? "the default buffers" : flags.joined(separator: " with ")
        return "\(given) on \(request.cpuCount) CPUs would need "
            + "\(megabytes(needed)) of sample buffers (\(buffers) buffers of \(samples) samples), above the "
            + "\(megabytes(Double(request.budget))) budget; give smaller values"
    }

    private static func megabytes(_ bytes: Double) -> String {
        let value = bytes / Double(1 << 20)
        return value < 10 ? "\((value * 10).rounded() / 10) MB" : "\(Int(value.rounded())) MB"
    }
}
