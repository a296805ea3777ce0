import TprofDatabase

/// What a report adds up: samples, or time in nanoseconds (`--off-cpu`, `--wall`), shown as milliseconds in tables
/// and as microseconds in stacks (folded output, flame graphs, trees).
public enum SampleWeight: Equatable, Sendable {
    /// Each sample counts one.
    case samples
    /// The intervals of `tprof-record --off-cpu`: the `off-cpu` samples weighed by their period, the time their
    /// thread then spent off its CPU.
    case offCPU
    /// Wall-clock time: the on-CPU samples of the first clock event (cpu-clock or task-clock, whose period is
    /// nanoseconds) and the off-CPU intervals, each weighed by its period.
    case wall

    /// The `events.base_name` of the off-CPU samples.
    public static let offCPUEvent = "off-cpu"
    /// The `events.base_name` of the wake-ups, which name the wakers and are no samples.
    static let wakerEvent = "off-cpu-waker"
    static let clockEvents = "('cpu-clock', 'task-clock')"

    /// True when the report adds up nanoseconds.
    public var isTime: Bool { self != .samples }

    /// The events a report reads, as a condition on a view's `event`: a time weight's own; for samples, all but the
    /// off-CPU switch-outs (whose count says little), unless `--event` names the events; nil for all.
    func eventCondition(schema: String, eventsGiven: Bool) -> String? {
        let offCPU = "SELECT id FROM \(schema).events WHERE base_name = '\(Self.offCPUEvent)'"
        switch self {
        case .samples: return eventsGiven ? nil : "event NOT IN (\(offCPU))"
        case .offCPU: return "event IN (\(offCPU))"
        case .wall:
            return "(event IN (\(offCPU)) OR event = (SELECT min(id) FROM \(schema).events WHERE base_name IN "
                + "\(Self.clockEvents)))"
        }
    }

    /// The column that holds the weight in tables.
    public var column: String {
        switch self {
        case .samples: return "samples"
        case .offCPU: return "off-cpu ms"
        case .wall: return "wall ms"
        }
    }

    /// What the unit of a stack's weight is called in titles and help (`StackProfile` holds microseconds of time).
    public var stackUnit: String {
        switch self {
        case .samples: return "samples"
        case .offCPU: return "µs off CPU"
        case .wall: return "µs wall-clock"
        }
    }

    /// A table cell for a stack weight (samples, or microseconds shown as milliseconds).
    public func cell(_ value: Int64) -> SQLiteValue {
        isTime ? .real(Double(value) / 1000) : .integer(value)
    }

    /// Why `database` cannot be reported with this weight; nil when it can.
    public func refusal(_ database: SQLiteDatabase, path: String) throws -> String? {
        guard isTime else { return nil }
        let offCPU = try database.scalarInt("SELECT count(*) FROM events WHERE base_name = '\(Self.offCPUEvent)'")
        if offCPU == 0 {
            return "\(path) was recorded without --off-cpu: it has no off-CPU time (record with "
                + "'tprof-record --off-cpu -g')"
        }
        let clocks = try database.scalarInt("SELECT count(*) FROM events WHERE base_name IN \(Self.clockEvents)")
        if self == .wall && clocks == 0 {
            return "--wall adds on-CPU time from cpu-clock or task-clock samples, and \(path) has neither: record "
                + "with 'tprof-record --off-cpu -e cpu-clock -g'"
        }
        return nil
    }
}
