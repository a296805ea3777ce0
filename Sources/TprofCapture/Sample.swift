/// The CPU mode a sample was taken in, as the kernel reports it in `header.misc`.
public enum SampleMode: UInt8, CaseIterable, Sendable {
    case unknown = 0
    case kernel = 1
    case user = 2
    case hypervisor = 3
    case guestKernel = 4
    case guestUser = 5

    /// The name stored in the `modes` table.
    public var name: String {
        switch self {
        case .unknown: return "unknown"
        case .kernel: return "kernel"
        case .user: return "user"
        case .hypervisor: return "hypervisor"
        case .guestKernel: return "guest-kernel"
        case .guestUser: return "guest-user"
        }
    }
}

/// One sample as it goes from a backend through the buffers to the writer.
public struct Sample: Equatable, Sendable {
    /// CLOCK_MONOTONIC nanoseconds.
    public var time: UInt64
    public var pid: Int32
    public var tid: Int32
    public var cpu: UInt32
    /// Index of the event in the run's event list.
    public var event: UInt16
    public var mode: SampleMode
    public var pc: UInt64
    public var period: UInt64
    /// Call-chain frames of this sample in its buffer's `frames`; 0 without -g.
    public var frameCount: UInt16
    /// Bytes of user registers in its buffer's `userData`, before its stack copy (DWARF call graphs); 0 otherwise.
    public var userRegisterBytes: UInt16 = 0
    /// Bytes of user stack copy in its buffer's `userData`, after its registers; 0 without one.
    public var userStackBytes: UInt32 = 0

    public init(time: UInt64, pid: Int32, tid: Int32, cpu: UInt32, event: UInt16, mode: SampleMode,
                pc: UInt64, period: UInt64, frameCount: UInt16 = 0) {
        self.time = time
        self.pid = pid
        self.tid = tid
        self.cpu = cpu
        self.event = event
        self.mode = mode
        self.pc = pc
        self.period = period
        self.frameCount = frameCount
    }
}

/// Where a side-band record came from.
public enum SidebandSource: String, Sendable {
    case kernel
    case proc
}

/// Process and mapping records that arrive next to samples; stored raw, resolved later.
public enum SidebandRecord: Equatable, Sendable {
    /// A thread's command name; `exec` when it was set by exec(2).
    case comm(time: UInt64, pid: Int32, tid: Int32, name: String, exec: Bool, source: SidebandSource)
    case fork(time: UInt64, pid: Int32, ppid: Int32, tid: Int32, ptid: Int32)
    case exit(time: UInt64, pid: Int32, ppid: Int32, tid: Int32, ptid: Int32)
    // Boxed: a mapping is many times the size of the other records, which side-band queues hold by the
    // hundred thousand a second with --off-cpu.
    indirect case mmap(Mapping)
    /// A thread leaving its CPU (with its state) or coming back (`tprof-record --off-cpu`).
    case contextSwitch(ContextSwitch)
    /// A thread woken by another (`tprof-record --off-cpu`).
    case waking(Waking)

    /// A switch of `tid` out of or into CPU `cpu`.
    public struct ContextSwitch: Equatable, Sendable {
        public var time: UInt64
        public var cpu: UInt32
        public var pid: Int32
        public var tid: Int32
        /// The state it left in; nil for a switch-in.
        public var state: OffCPUState?

        public init(time: UInt64, cpu: UInt32, pid: Int32, tid: Int32, state: OffCPUState?) {
            self.time = time
            self.cpu = cpu
            self.pid = pid
            self.tid = tid
            self.state = state
        }
    }

    /// `tid` made runnable by the task that ran on `cpu` (the waker; pid 0 for an interrupt of the idle task).
    public struct Waking: Equatable, Sendable {
        public var time: UInt64
        public var cpu: UInt32
        public var wakerPID: Int32
        public var wakerTID: Int32
        public var tid: Int32

        public init(time: UInt64, cpu: UInt32, wakerPID: Int32, wakerTID: Int32, tid: Int32) {
            self.time = time
            self.cpu = cpu
            self.wakerPID = wakerPID
            self.wakerTID = wakerTID
            self.tid = tid
        }
    }

    /// A mapping of a file or anonymous memory into a process (PERF_RECORD_MMAP2 or /proc/PID/maps).
    public struct Mapping: Equatable, Sendable {
        public var time: UInt64
        public var pid: Int32
        public var tid: Int32
        public var start: UInt64
        public var length: UInt64
        public var pageOffset: UInt64
        public var major: UInt32?
        public var minor: UInt32?
        public var inode: UInt64?
        public var inodeGeneration: UInt64?
        /// Hex build id when the kernel supplied one.
        public var buildID: String?
        public var protection: UInt32
        public var flags: UInt32
        public var filename: String
        public var source: SidebandSource

        public init(time: UInt64, pid: Int32, tid: Int32, start: UInt64, length: UInt64, pageOffset: UInt64,
                    major: UInt32?, minor: UInt32?, inode: UInt64?, inodeGeneration: UInt64?, buildID: String?,
                    protection: UInt32, flags: UInt32, filename: String, source: SidebandSource) {
            self.time = time
            self.pid = pid
            self.tid = tid
            self.start = start
            self.length = length
            self.pageOffset = pageOffset
            self.major = major
            self.minor = minor
            self.inode = inode
            self.inodeGeneration = inodeGeneration
            self.buildID = buildID
            self.protection = protection
            self.flags = flags
            self.filename = filename
            self.source = source
        }
    }
}
