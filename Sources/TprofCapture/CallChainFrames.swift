/// What is known of a call-chain frame besides its address; stored as is in the `stacks` table's flag columns.
public struct FrameFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A frame in the kernel (the host's or a guest's).
    public static let kernel = FrameFlags(rawValue: 1)
    /// A return address (it points after the call, so naming it looks one byte back): every frame of a context
    /// but its first, which is where the context was interrupted.
    public static let returnAddress = FrameFlags(rawValue: 2)
}

/// One call chain's frames as capture hands them on, leaf first: each an address with its flags, in two flat
/// arrays as a sample buffer holds its samples' frames. For chains assembled after capture (unwound stacks) and
/// tests.
public struct CallChainFrames: Sendable {
    public private(set) var addresses: [UInt64] = []
    public private(set) var flags: [FrameFlags] = []

    public init() {}

    /// The frames of a raw perf call chain (leaf first, with the kernel's context markers).
    public init(perfCallChain raw: [UInt64]) {
        guard !raw.isEmpty else { return }
        var flags: [FrameFlags] = []
        addresses = [UInt64](unsafeUninitializedCapacity: raw.count) { addresses, addressCount in
            flags = [FrameFlags](unsafeUninitializedCapacity: raw.count) { flags, flagCount in
                flagCount = raw.withUnsafeBufferPointer { raw in
                    PerfCallChain.frames(of: raw, addresses: addresses.baseAddress!, flags: flags.baseAddress!)
                }
            }
            addressCount = flags.count
        }
        self.flags = flags
    }

    /// Appends one context's frames, leaf first: the first is where the context was interrupted, the others are
    /// return addresses.
    public mutating func appendContext<Frames: Collection<UInt64>>(_ frames: Frames, kernel: Bool) {
        guard !frames.isEmpty else { return }
        let context: FrameFlags = kernel ? .kernel : []
        addresses.append(contentsOf: frames)
        flags.append(context)
        flags.append(contentsOf: repeatElement(context.union(.returnAddress), count: frames.count - 1))
    }
}

/// The call chain of PERF_SAMPLE_CALLCHAIN: u64 entries leaf first, each context (kernel, user, guest, hypervisor)
/// started by a marker entry at or above PERF_CONTEXT_MAX. Only capture reads it; the buffers hold its frames.
enum PerfCallChain {
    /// `PERF_CONTEXT_MAX`: entries at or above it are context markers, not addresses.
    static let contextMax = UInt64(bitPattern: -4095)
    static let contextKernel = UInt64(bitPattern: -128)
    static let contextUser = UInt64(bitPattern: -512)
    static let contextGuestKernel = UInt64(bitPattern: -2176)

    /// Writes the frames of `raw` and their flags, leaf first, and returns how many there are (at most
    /// `raw.count`). Frames before the first marker are user frames, a marker that is not a kernel one starts a user
    /// context, and the first frame of each context is where it was interrupted, the others return addresses.
    @inline(__always)
    static func frames(of raw: UnsafeBufferPointer<UInt64>, addresses: UnsafeMutablePointer<UInt64>,
                       flags: UnsafeMutablePointer<FrameFlags>) -> Int {
        var kept = 0
        var context: FrameFlags = []
        var next: FrameFlags = []
        for entry in raw {
            if entry >= contextMax {
                context = entry == contextKernel || entry == contextGuestKernel ? .kernel : []
                next = context
                continue
            }
            addresses[kept] = entry
            flags[kept] = next
            next = context.union(.returnAddress)
            kept += 1
        }
        return kept
    }
}
