import TprofDatabase

/// A breakdown key: `--by-pid`, `--by-tid`, ...; several combine into one grouping.
public enum Grouping: String, CaseIterable, Sendable {
    case pid, tid, comm, cpu, mode, event, state, dso, symbol, line, address

    static let kernelMarker = "CASE WHEN \(KernelModes.sql()) THEN '[k]' ELSE '[.]' END"

    /// The view columns it groups by and the names they are shown under.
    var columns: [(expression: String, label: String)] {
        switch self {
        case .pid: return [("pid", "pid"), ("comm", "command")]
        case .tid: return [("pid", "pid"), ("tid", "tid"), ("thread_comm", "thread")]
        case .comm: return [("thread_comm", "comm")]
        case .cpu: return [("cpu", "cpu")]
        case .mode: return [("mode_name", "mode")]
        case .event: return [("event_name", "event")]
        case .state: return [("state", "state")]
        case .dso: return [("dso", "dso")]
        case .symbol: return [("dso", "dso"), (Self.kernelMarker, "k"), ("symbol", "symbol")]
        case .line: return [("coalesce(srcline, symbol)", "line")]
        case .address:
            // NetBSD `tprof analyze`: pid, lwp, cpu, k flag, address, symbol+offset.
            return [("pid", "pid"), ("tid", "lwp"), ("cpu", "cpu"), (Self.kernelMarker, "k"),
                    ("printf('0x%x', pc)", "address"),
                    ("symbol || CASE WHEN symbol_offset IS NULL OR symbol_offset = 0 THEN '' "
                        + "ELSE printf('+0x%x', symbol_offset) END", "symbol")]
        }
    }

    /// True for groupings that need the resolved symbols.
    public var needsSymbols: Bool {
        switch self {
        case .dso, .symbol, .line, .address: return true
        default: return false
        }
    }
}

/// Which samples a report counts. Every value is bound as an SQL parameter.
public struct SampleFilter: Equatable, Sendable {
    public var pids: [Int64] = []
    public var tids: [Int64] = []
    public var comms: [String] = []
    public var cpus: [Int64] = []
    /// Only kernel (true) or only user (false) samples.
    public var kernel: Bool?
    public var events: [String] = []
    /// Seconds from the start of the run.
    public var since: Double?
    public var until: Double?
    /// Only symbols matching this regular expression (POSIX extended).
    public var symbol: String?
    /// Only this library or executable: its path or its file name.
    public var dso: String?
    /// What the report adds up; a time weight also restricts the events to the ones it reads.
    public var weight: SampleWeight = .samples

    public init() {}

    /// True when a time range asks for the per-sample view instead of the grouped counts.
    public var needsSamples: Bool { since != nil || until != nil }

    /// True when a filter needs the resolved symbols.
    var needsSymbols: Bool { symbol != nil || dso != nil }

    /// The WHERE clause over `sample_facts` or `sample_groups`, with its bindings; `schema` names the database
    /// whose `events` table event names are looked up in.
    public func whereClause(schema: String = "main") -> (sql: String, bindings: [SQLiteValue]) {
        var terms: [String] = []
        var bindings: [SQLiteValue] = []
        func oneOf(_ column: String, _ values: [SQLiteValue]) {
            guard !values.isEmpty else { return }
            terms.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
            bindings.append(contentsOf: values)
        }
        oneOf("pid", pids.map { .integer($0) })
        oneOf("tid", tids.map { .integer($0) })
        oneOf("thread_comm", comms.map { .text($0) })
        oneOf("cpu", cpus.map { .integer($0) })
        if let condition = weight.eventCondition(schema: schema, eventsGiven: !events.isEmpty) {
            terms.append(condition)
        }
        if let kernel { terms.append(kernel ? KernelModes.sql() : KernelModes.userSQL()) }
        if !events.isEmpty {
            let marks = Array(repeating: "?", count: events.count).joined(separator: ", ")
            terms.append("event IN (SELECT id FROM \(schema).events WHERE name IN (\(marks)) OR base_name IN (\(marks)))")
            bindings.append(contentsOf: events.map { .text($0) } + events.map { .text($0) })
        }
        if let since {
            let term = sinceTerm(schema: schema)
            terms.append(term.sql)
            bindings.append(contentsOf: Array(repeating: .integer(Int64(since * 1e9)), count: term.bindings))
        }
        if let until {
            terms.append("time < ?")
            bindings.append(.integer(Int64(until * 1e9)))
        }
        if let symbol {
            terms.append("symbol REGEXP ?")
            bindings.append(.text(symbol))
        }
        if let dso {
            // The path, or a path ending in /NAME, compared as text: LIKE would read % and _ in NAME as wildcards
            // (and ignore case).
            terms.append("(dso = ? OR substr(dso, -length(?) - 1) = '/' || ?)")
            bindings.append(contentsOf: [.text(dso), .text(dso), .text(dso)])
        }
        return (terms.isEmpty ? "" : "WHERE " + terms.joined(separator: " AND "), bindings)
    }
}

/// Counts samples by a combination of groupings, sorted by samples, with the share of the filtered total.
public struct SampleReport {
    public var groupings: [Grouping]
    public var filter: SampleFilter
    public var limit: Int?
    public var percentLimit: Double?
    /// Databases to report on: their schema names in the connection (`main`, or attached ones) and the labels
    /// shown in the `database` column when there is more than one. Shares are per database.
    public var sources: [(schema: String, label: String)] = [("main", "")]

    public init(groupings: [Grouping], filter: SampleFilter, limit: Int? = nil, percentLimit: Double? = nil) {
        self.groupings = groupings
        self.filter = filter
        self.limit = limit
        self.percentLimit = percentLimit
    }

    /// The SQL over the report views and its bindings.
    public func sql() -> (sql: String, bindings: [SQLiteValue]) {
        var keys: [(expression: String, label: String)] = []
        let several = sources.count > 1
        if several { keys.append(("database", "database")) }
        for grouping in Grouping.allCases where groupings.contains(grouping) {
            for column in grouping.columns where !keys.contains(where: { $0.expression == column.expression }) {
                keys.append(column)
            }
        }
        let symbols = filter.needsSymbols || groupings.contains(where: \.needsSymbols)
        // Off-CPU states are in the intervals, which no sample view has.
        let view = groupings.contains(.state) ? "off_cpu_facts" : symbols ? (filter.needsSamples ? "sample_symbol_facts" : "symbol_groups")
            : (filter.needsSamples ? "sample_facts" : "sample_groups")
        var bindings: [SQLiteValue] = []
        var branches: [String] = []
        for source in sources {
            let (whereSQL, whereBindings) = filter.whereClause(schema: source.schema)
            // The main file's views may live in TEMP (a file of an older schema): an unqualified name finds them
            // there, and the file's own views otherwise.
            let qualified = source.schema == "main" ? view : "\(source.schema).\(view)"
            let weight = filter.weight.isTime ? ", \(filter.periodSQL(schema: source.schema)) AS weight" : ""
            branches.append("SELECT ? AS database, *\(weight) FROM \(qualified) \(whereSQL)")
            bindings.append(.text(source.label))
            bindings.append(contentsOf: whereBindings)
        }
        let from = "(" + branches.joined(separator: " UNION ALL ") + ")"
        let selected = keys.map { "\($0.expression) AS \"\($0.label)\"" }.joined(separator: ", ")
        let grouped = keys.map(\.expression).joined(separator: ", ")
        let labels = keys.map { "\"\($0.label)\"" }.joined(separator: ", ")
        // Times are added up in nanoseconds and shown in milliseconds.
        let shown = filter.weight.isTime ? "round(samples / 1e6, 3)" : "samples"
        let weight = filter.weight.isTime ? "weight" : "samples"
        var sql = """
            SELECT percent, \(shown) AS "\(filter.weight.column)"\(labels.isEmpty ? "" : ", " + labels) FROM (
                SELECT \(selected.isEmpty ? "" : selected + ", ")sum(\(weight)) AS samples,
                       100.0 * sum(\(weight)) / sum(sum(\(weight))) OVER (\(several ? "PARTITION BY database" : "")) AS percent
                FROM \(from)
                \(grouped.isEmpty ? "" : "GROUP BY " + grouped)
            )
            """
        var all = bindings
        if let percentLimit {
            sql += " WHERE percent >= ?"
            all.append(.real(percentLimit))
        }
        sql += " ORDER BY \(several ? "\"database\", " : "")samples DESC\(labels.isEmpty ? "" : ", " + labels)"
        if let limit {
            sql += " LIMIT ?"
            all.append(.integer(Int64(limit)))
        }
        return (sql, all)
    }

    public func run(on database: ReportDatabase) throws -> ResultTable {
        let (sql, bindings) = self.sql()
        return try database.query(sql, bindings)
    }
}
