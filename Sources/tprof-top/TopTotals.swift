/// What one row of the view counts samples by: the process, its command, the mode, and the frame's names.
struct SampleKey: Hashable {
    var pid: Int32
    var command: String
    var kernel: Bool
    var symbol: String
    /// The file the code runs from (its path, `[kernel.kallsyms]`, `[vdso]`).
    var library: String
}

/// Samples in all, and on each CPU (in the order of the recording's CPUs).
struct Counts {
    var total = 0
    var perCPU: [Int]

    mutating func add(_ other: Counts) {
        total += other.total
        for index in other.perCPU.indices { perCPU[index] += other.perCPU[index] }
    }
}

/// The samples of the first event, counted by `SampleKey`: in the last interval, and since the start (or the
/// last `z`). Keyed by names, not addresses, so the totals grow with the symbols that ran, not with the run; a
/// machine that starts processes without end is bounded by `keyLimit`, beyond which the coldest half of the
/// totals is let go (rows far below any the screen shows).
struct TopTotals {
    static let keyLimit = 100_000

    private(set) var interval: [SampleKey: Counts] = [:]
    private(set) var accumulated: [SampleKey: Counts] = [:]
    let cpus: [Int]
    private let cpuIndex: [Int: Int]

    init(cpus: [Int]) {
        self.cpus = cpus
        cpuIndex = Dictionary(uniqueKeysWithValues: cpus.enumerated().map { ($1, $0) })
    }

    /// Starts a new interval.
    mutating func beginInterval() {
        interval = [:]
    }

    mutating func add(_ key: SampleKey, cpu: Int, samples: Int) {
        var counts = Counts(total: samples, perCPU: Array(repeating: 0, count: cpus.count))
        if let column = cpuIndex[cpu] { counts.perCPU[column] = samples }
        let empty = Counts(perCPU: Array(repeating: 0, count: cpus.count))
        interval[key, default: empty].add(counts)
        accumulated[key, default: empty].add(counts)
        if accumulated.count > Self.keyLimit {
            let kept = accumulated.sorted { $0.value.total > $1.value.total }.prefix(Self.keyLimit / 2)
            accumulated = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
    }

    /// Forgets every count (`z`).
    mutating func clear() {
        interval = [:]
        accumulated = [:]
    }
}
