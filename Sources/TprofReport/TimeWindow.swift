import TprofDatabase

/// `--since`/`--until` with a time weight (`--off-cpu`, `--wall`): an off-CPU interval counts for the part of it
/// inside the window, whenever it started; a sample counts when it was taken in the window.
extension SampleFilter {
    /// The window's ends in nanoseconds since the start.
    private var windowStart: Int64? { since.map { Int64($0 * 1e9) } }
    private var windowEnd: Int64? { until.map { Int64($0 * 1e9) } }

    /// The rows of the `off-cpu` event in a view of `schema`.
    private func isOffCPU(schema: String) -> String {
        "event IN (SELECT id FROM \(schema).events WHERE base_name = '\(SampleWeight.offCPUEvent)')"
    }

    /// The `--since` condition and how many `?` in it the caller binds to its nanoseconds: with a time weight, an
    /// off-CPU interval that started before the window and ends in it is in.
    func sinceTerm(schema: String) -> (sql: String, bindings: Int) {
        guard weight.isTime else { return ("time >= ?", 1) }
        return ("(time >= ? OR (time + period > ? AND \(isOffCPU(schema: schema))))", 2)
    }

    /// What a row of a sample view of `schema` weighs in nanoseconds with a time weight: its period, an off-CPU
    /// interval's cut to the window. The window is written as numbers, not bound: the expression comes before the
    /// WHERE clause's parameters.
    public func periodSQL(schema: String = "main") -> String {
        guard weight.isTime, windowStart != nil || windowEnd != nil else { return "period" }
        let (start, end) = span(schema: schema, onCPU: false)
        return "(CASE WHEN \(isOffCPU(schema: schema)) THEN \(end) - \(start) ELSE period END)"
    }

    /// The start and end in nanoseconds of what a row of a sample view of `schema` stands for, cut to the window:
    /// an off-CPU interval from its switch-out; with `onCPU`, a clock sample's period up to the sample.
    func span(schema: String = "main", onCPU: Bool) -> (start: String, end: String) {
        let offCPU = isOffCPU(schema: schema)
        var start = onCPU ? "max(CASE WHEN \(offCPU) THEN time ELSE time - period END, 0)" : "time"
        var end = onCPU ? "(CASE WHEN \(offCPU) THEN time + period ELSE time END)" : "(time + period)"
        if let windowStart { start = "max(\(start), \(windowStart))" }
        if let windowEnd { end = "min(\(end), \(windowEnd))" }
        return (start, end)
    }
}
