/// One row of the `counts` table (schema 11): an event's count over an interval, summed over CPUs and threads
/// unless `cpu` or `tid` says which one it is. What tprof-count prints and stores, and `tprof-report --counts` reads.
public struct CountRow: Hashable, Sendable {
    /// Nanoseconds since the start of counting.
    public var intervalStart: UInt64
    public var intervalEnd: UInt64
    /// The CPU counted (--per-cpu); nil when summed over CPUs.
    public var cpu: Int?
    /// The thread counted (--per-thread); nil when summed over threads.
    public var tid: Int32?
    /// The event as given (`cycles:u`) and its canonical name (`cycles`), which says its unit and metrics.
    public var event: String
    public var baseName: String
    /// The count as read, before scaling; nil when the machine cannot count the event (`<not supported>`).
    public var value: UInt64?
    /// Nanoseconds the event was enabled and actually counting: less running than enabled means it was
    /// multiplexed with others, and the count is scaled by their ratio.
    public var timeEnabled: UInt64
    public var timeRunning: UInt64

    public init(intervalStart: UInt64, intervalEnd: UInt64, cpu: Int?, tid: Int32?, event: String, baseName: String,
                value: UInt64?, timeEnabled: UInt64, timeRunning: UInt64) {
        self.intervalStart = intervalStart
        self.intervalEnd = intervalEnd
        self.cpu = cpu
        self.tid = tid
        self.event = event
        self.baseName = baseName
        self.value = value
        self.timeEnabled = timeEnabled
        self.timeRunning = timeRunning
    }

    /// What the count is.
    public enum Status: String, Sendable {
        case counted
        /// The machine has no such event.
        case notSupported = "not supported"
        /// Opened, but never running while enabled (perf's `<not counted>`).
        case notCounted = "not counted"
    }

    public var status: Status {
        guard value != nil else { return .notSupported }
        return timeRunning == 0 ? .notCounted : .counted
    }

    /// The count scaled to the whole enabled time when the event was multiplexed, as perf stat scales it.
    public var scaledValue: Double? {
        guard let value, status == .counted else { return nil }
        if timeRunning >= timeEnabled { return Double(value) }
        return Double(value) * Double(timeEnabled) / Double(timeRunning)
    }

    /// The share of the enabled time the event was running, in percent (100 unless multiplexed).
    public var percentRunning: Double {
        timeEnabled == 0 ? 100 : min(100, Double(timeRunning) * 100 / Double(timeEnabled))
    }
}
