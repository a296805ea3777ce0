import ArgumentParser
import Foundation
import TprofCapture
import TprofCLI
import TprofExport
import TprofReport
import TprofStore

/// `tprof-report`: reports over a tprof database, through the SQL views of its schema.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tprof-report",
        abstract: "Report on a tprof database: samples by process, thread, command, CPU, mode, event, symbol, "
            + "library or source line; call graphs, flame graphs, exports, diffs.",
        // No empty lines: the man page is generated from this text, and mdoc warns about them.
        discussion: """
            Groupings combine: '--by-pid --by-cpu' counts samples per process and CPU. Filters apply to every \
            report. The database is opened read-only and may still be being recorded.
            Examples:
              tprof-report run.db --by-pid
              tprof-report run.db --by-symbol --children --user --since 1 --until 3
              tprof-report run.db --tree --depth 6
              tprof-report run.db --flamegraph fg.svg
              tprof-report run.db --pprof run.pb.gz
              tprof-report new.db --diff base.db --by-symbol
              tprof-report run.db --stat
              tprof-report run.db --sql 'SELECT * FROM by_process LIMIT 5' --format csv
            """,
        version: tprofVersion)

    @Argument(help: ArgumentHelp("The database tprof-record wrote; several give one report with a 'database' "
                                 + "column, each read in place.", valueName: "database"))
    var databases: [String] = []

    /// The first (usually the only) database.
    var database: String { databases.first ?? "" }

    @Flag(name: .customLong("by-pid"), help: "Group by process (pid and command).") var byPID = false
    @Flag(name: .customLong("by-tid"), help: "Group by thread.") var byTID = false
    @Flag(name: .customLong("by-comm"), help: "Group by command name.") var byComm = false
    @Flag(name: .customLong("by-cpu"), help: "Group by CPU.") var byCPU = false
    @Flag(name: .customLong("by-mode"), help: "Group by mode (kernel, user).") var byMode = false
    @Flag(name: .customLong("by-event"), help: "Group by event.") var byEvent = false
    @Flag(name: .customLong("by-dso"), help: "Group by library or executable.") var byDSO = false
    @Flag(name: .customLong("by-symbol"), help: "Group by symbol ([k] kernel, [.] user) with its library.")
    var bySymbol = false
    @Flag(name: .customLong("by-line"), help: "Group by source line (DWARF).") var byLine = false
    @Flag(name: .customLong("by-address"),
          help: "NetBSD tprof analyze layout: pid, lwp, cpu, k flag, address, symbol+offset.")
    var byAddress = false

    @Option(name: .customLong("pid"), parsing: .singleValue,
            help: ArgumentHelp("Only these processes (repeatable, or comma-separated).", valueName: "pid"))
    var pids: [String] = []
    @Option(name: .customLong("tid"), parsing: .singleValue,
            help: ArgumentHelp("Only these threads.", valueName: "tid"))
    var tids: [String] = []
    @Option(name: .customLong("comm"), parsing: .singleValue,
            help: ArgumentHelp("Only these command names.", valueName: "name"))
    var comms: [String] = []
    @Option(name: .customLong("cpu"), parsing: .singleValue,
            help: ArgumentHelp("Only these CPUs, as 0-3,6.", valueName: "cpulist"))
    var cpus: [String] = []
    @Flag(help: "Only kernel-mode samples.") var kernel = false
    @Flag(help: "Only user-mode samples.") var user = false
    @Option(name: .customLong("event"), parsing: .singleValue,
            help: ArgumentHelp("Only these events.", valueName: "name"))
    var events: [String] = []
    @Option(help: ArgumentHelp("Only samples from this many seconds after the start.", valueName: "seconds"))
    var since: Double?
    @Option(help: ArgumentHelp("Only samples before this many seconds after the start.", valueName: "seconds"))
    var until: Double?
    @Option(help: ArgumentHelp("Only symbols matching this regular expression.", valueName: "regex"))
    var symbol: String?
    @Option(help: ArgumentHelp("Only this library or executable (path or file name).", valueName: "name"))
    var dso: String?
    @Option(help: ArgumentHelp("Print at most N rows.", valueName: "n")) var limit: Int?
    @Option(help: ArgumentHelp("Leave out rows below P percent.", valueName: "p")) var percentLimit: Double?

    @Flag(help: "With --by-symbol: inclusive shares (the symbol anywhere on the stack) beside self shares.")
    var children = false
    @Option(help: ArgumentHelp("Who calls this symbol, with shares.", valueName: "symbol")) var callers: String?
    @Option(help: ArgumentHelp("What this symbol calls, with shares.", valueName: "symbol")) var callees: String?
    @Flag(help: "The call tree, top-down, with percentages.") var tree = false
    @Option(help: ArgumentHelp("With --tree: at most N levels.", valueName: "n")) var depth: Int?
    @Flag(help: "With --tree: bottom-up, from the leaves.") var inverted = false
    @Flag(help: "Folded stacks (root;...;leaf count) for flamegraph.pl, speedscope, Pyroscope.") var folded = false
    @Option(help: ArgumentHelp("Write an interactive SVG flame graph to this file.", valueName: "file"))
    var flamegraph: String?
    @Flag(help: "With --flamegraph: the inverted (icicle) view, roots at the top.") var icicle = false

    @Option(help: ArgumentHelp("Compare with this base run: shares in both and the change; with --folded the "
                                   + "two-count format, with --flamegraph a differential flame graph.",
                               valueName: "base.db"))
    var diff: String?
    @Flag(help: ArgumentHelp("Samples per time bucket per process (per CPU with --by-cpu, per symbol with "
                             + "--by-symbol); '--timeline FILE.svg' draws the chart instead."))
    var timeline = false
    @Option(help: ArgumentHelp("Write the timeline as an SVG chart to this file (also '--timeline FILE.svg').",
                               valueName: "file.svg"))
    var timelineSvg: String?
    @Option(help: ArgumentHelp("Timeline bucket width (default: about 50 buckets over the run).",
                               valueName: "seconds"))
    var bucket: Double?

    @Option(help: ArgumentHelp("Write a gzipped pprof profile (profile.proto) to this file.", valueName: "file"))
    var pprof: String?
    @Option(help: ArgumentHelp("Write a speedscope JSON profile to this file.", valueName: "file"))
    var speedscope: String?

    @Flag(help: "Print the run's metadata alone.") var header = false
    @Flag(help: "Resolve the symbols again with the files available now (writes to the database).")
    var resymbolize = false
    @Flag(help: "Print the capture statistics (NetBSD tprof's counters and the kernel's losses).") var stat = false
    // .unconditional: the value may begin with '--', as SQL starting with a comment line does.
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Run one read-only SQL statement ('-' reads it from stdin).", valueName: "query"))
    var sql: String?
    @Option(help: ArgumentHelp("Output format: table, csv or json.", valueName: "format"))
    var format: String = "table"

    var groupings: [Grouping] {
        var result: [Grouping] = []
        if byPID { result.append(.pid) }
        if byTID { result.append(.tid) }
        if byComm { result.append(.comm) }
        if byCPU { result.append(.cpu) }
        if byMode { result.append(.mode) }
        if byEvent { result.append(.event) }
        if byDSO { result.append(.dso) }
        if bySymbol { result.append(.symbol) }
        if byLine { result.append(.line) }
        if byAddress { result.append(.address) }
        return result
    }

    /// True when the report is built from resolved symbols.
    var needsSymbols: Bool {
        groupings.contains(where: \.needsSymbols) || symbol != nil || dso != nil
            || callers != nil || callees != nil || tree || folded || flamegraph != nil || pprof != nil
            || speedscope != nil || children
    }

    var hasFilters: Bool {
        !pids.isEmpty || !tids.isEmpty || !comms.isEmpty || !cpus.isEmpty || kernel || user || !events.isEmpty
            || since != nil || until != nil || limit != nil || percentLimit != nil || symbol != nil || dso != nil
    }

    func validate() throws {
        if databases.isEmpty { throw ValidationError("give the database to report on, such as run.db") }
        for (flag, values) in [("--pid", pids), ("--tid", tids), ("--comm", comms), ("--cpu", cpus), ("--event", events)]
        where values.contains(where: { $0.isEmpty }) {
            throw ValidationError("empty value for \(flag)")
        }
        if symbol == "" || dso == "" { throw ValidationError("empty value for --symbol or --dso") }
        guard OutputFormat(rawValue: format) != nil else {
            throw ValidationError("unknown format '\(format)': use table, csv or json")
        }
        if kernel && user { throw ValidationError("give --kernel or --user, not both") }
        let modes = (sql != nil ? 1 : 0) + (header ? 1 : 0) + (stat ? 1 : 0) + (resymbolize ? 1 : 0)
        if modes > 1 { throw ValidationError("give only one of --sql, --header, --stat and --resymbolize") }
        if modes == 1 && (!groupings.isEmpty || hasFilters) {
            throw ValidationError("--sql, --header, --stat and --resymbolize take no groupings or filters")
        }
        let callGraphModes = (callers != nil ? 1 : 0) + (callees != nil ? 1 : 0) + (tree ? 1 : 0) + (folded ? 1 : 0)
            + (flamegraph != nil ? 1 : 0) + (pprof != nil ? 1 : 0) + (speedscope != nil ? 1 : 0)
        if callGraphModes > 1 {
            throw ValidationError("give only one of --callers, --callees, --tree, --folded, --flamegraph, --pprof, "
                + "--speedscope")
        }
        if callGraphModes == 1 && (modes > 0 || !groupings.isEmpty || children) {
            throw ValidationError("--callers, --callees, --tree, --folded and --flamegraph take filters, not groupings")
        }
        if (depth != nil || inverted) && !tree { throw ValidationError("--depth and --inverted go with --tree") }
        if icicle && flamegraph == nil { throw ValidationError("--icicle goes with --flamegraph") }
        if children && (groupings != [.symbol] && !groupings.isEmpty) {
            throw ValidationError("--children goes with --by-symbol alone")
        }
        let isTimeline = timeline || timelineSvg != nil
        if isTimeline && (callGraphModes > 0 || modes > 0 || diff != nil || children) {
            throw ValidationError("--timeline takes filters and one of --by-pid, --by-cpu, --by-symbol")
        }
        if isTimeline && !(groupings.isEmpty || groupings == [.pid] || groupings == [.cpu] || groupings == [.symbol]) {
            throw ValidationError("--timeline groups by one of --by-pid, --by-cpu, --by-symbol")
        }
        if let bucket, !(bucket >= 0.000001 && bucket < 1e6) {
            throw ValidationError("bad value \(bucket) for --bucket: it must be a positive number of seconds")
        }
        if bucket != nil && !isTimeline { throw ValidationError("--bucket goes with --timeline") }
        if databases.count > 1 && (modes > 0 || callGraphModes > 0 || isTimeline || diff != nil || children) {
            throw ValidationError("several databases go with grouped reports (--by-...) only")
        }
        if diff != nil && (modes > 0 || callers != nil || callees != nil || tree || children) {
            throw ValidationError("--diff goes with grouped reports, --folded or --flamegraph")
        }
        if let depth, depth < 1 { throw ValidationError("bad value \(depth) for --depth: it must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("bad value \(limit) for --limit: it must be at least 1") }
        if let percentLimit, !(percentLimit >= 0 && percentLimit <= 100) {
            throw ValidationError("bad value \(percentLimit) for --percent-limit: it must be 0 to 100")
        }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, !(value >= 0 && value < 1e9) {
                throw ValidationError("bad value \(value) for \(name): it must be a number of seconds, 0 or more")
            }
        }
        if let since, let until, since >= until {
            throw ValidationError("--since \(since) is not before --until \(until)")
        }
    }

    func run() throws {
        let outputFormat = OutputFormat(rawValue: format) ?? .table
        let width = terminalWidth()
        let db: ReportDatabase
        do {
            db = try ReportDatabase(path: database)
        } catch let error as ReportError {
            throw ToolFailure(error.message)
        }
        if resymbolize {
            do {
                let outcome = try Resymbolizer.run(path: database)
                print("resolved \(outcome.addresses) addresses: \(outcome.withSymbol) to symbols, "
                    + "\(outcome.libraryOnly) to a library only, \(outcome.unknown) unknown")
            } catch {
                throw ToolFailure("cannot resymbolize \(database): \(error)")
            }
            return
        }
        do {
            if let sql {
                let text = sql == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : sql
                try db.connection.makeQueryOnly()
                let statement = try db.connection.prepareSingle(text)
                write(outputFormat.render(try ResultTable(collecting: statement), width: width))
                return
            }
            let runHeader = try RunHeader(database: db)
            if header {
                write(outputFormat == .table ? runHeader.headerText(path: database)
                      : outputFormat.render(runHeader.table, width: width))
                return
            }
            if stat {
                if outputFormat == .table {
                    write(try Statistics.text(database: db) + "\n")
                }
                write(outputFormat.render(try Statistics.table(database: db), width: width))
                footer(runHeader)
                return
            }
            guard runHeader.samples > 0 else {
                throw ToolFailure("\(database) holds no samples")
            }
            // Addresses are resolved when recording ends: a recorder that was killed left samples without symbols,
            // which every symbol-based report would show as nothing at all.
            if needsSymbols, try db.connection.scalarInt("SELECT EXISTS (SELECT 1 FROM symbol_counts)") == 0 {
                throw ToolFailure("\(database) has no resolved symbols yet (tprof-record resolves them when it "
                    + "finishes; it was killed or is still running): run 'tprof-report --resymbolize \(database)' once it "
                    + "is not running")
            }
            var filter = SampleFilter()
            filter.pids = try numbers(pids, flag: "--pid")
            filter.tids = try numbers(tids, flag: "--tid")
            filter.comms = comms
            for list in cpus {
                do { filter.cpus += try CPUList.parse(list).map(Int64.init) } catch { throw ToolFailure("\(error)") }
            }
            filter.kernel = kernel ? true : (user ? false : nil)
            filter.events = events.flatMap { $0.split(separator: ",").map(String.init) }
            filter.since = since
            filter.until = until
            filter.symbol = symbol
            filter.dso = dso
            let base = try diff.map(openBase)
            if let pprof {
                try writeFile(pprof, try PprofExport.gzippedData(database: db, filter: filter))
                footer(runHeader)
                return
            }
            if let speedscope {
                let command = runHeader.fields.first { $0.name == "command" }?.value ?? database
                let profile = try StackProfile.load(database: db, filter: filter)
                if profile.stacks.isEmpty { try nothingToShow(runHeader) }
                try writeFile(speedscope, try SpeedscopeExport.json(profile, name: "tprof: \(command)"))
                footer(runHeader)
                return
            }
            if callers != nil || callees != nil || tree || folded || flamegraph != nil || children {
                try callGraph(db, filter: filter, header: runHeader, format: outputFormat, width: width, base: base)
                footer(runHeader)
                return
            }
            if timeline || timelineSvg != nil {
                try writeTimeline(db, filter: filter, header: runHeader, format: outputFormat, width: width)
                footer(runHeader)
                return
            }
            var report = SampleReport(groupings: groupings.isEmpty ? [.pid] : groupings, filter: filter,
                                      limit: limit, percentLimit: percentLimit)
            var table: ResultTable
            if let base {
                report.limit = nil
                report.percentLimit = nil
                table = ReportDiff.compare(base: try report.run(on: base), new: try report.run(on: db))
                if let limit { table.rows = Array(table.rows.prefix(limit)) }
            } else {
                report.sources = try attachOthers(to: db)
                table = try report.run(on: db)
            }
            if table.rows.isEmpty { try nothingToShow(runHeader) }
            if outputFormat == .table { write(runHeader.headerText(path: database) + "\n") }
            write(outputFormat.render(table, width: width))
            footer(runHeader)
        } catch let error as SQLiteError {
            throw ToolFailure("\(database): \(error.message)")
        } catch let error as ReportError {
            throw ToolFailure(error.message)
        }
    }

    /// A report with nothing in it: a note when the filters chose no sample; without filters the samples the file
    /// counts cannot be read back (its tables disagree: damage), which is an error rather than an empty report.
    private func nothingToShow(_ runHeader: RunHeader) throws {
        guard hasFilters else {
            throw ToolFailure("\(database) is damaged: it counts \(runHeader.samples) samples, but none of them can be "
                + "read back for this report")
        }
        FileHandle.standardError.write(Data("tprof-report: no samples match\n".utf8))
    }

    /// Writes an output file, with one line on stderr saying so.
    private func writeFile(_ path: String, _ data: Data, detail: String? = nil) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw ToolFailure("cannot write \(path): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(Data("tprof-report: wrote \(path) (\(detail ?? "\(data.count) bytes"))\n".utf8))
    }

    /// Opens the --diff base run, checked like the main one.
    private func openBase(_ path: String) throws -> ReportDatabase {
        do {
            return try ReportDatabase(path: path)
        } catch let error as ReportError {
            throw ToolFailure(error.message)
        }
    }

    /// Checks every further database and attaches it read-only to `db`; returns the report's sources.
    private func attachOthers(to db: ReportDatabase) throws -> [(schema: String, label: String)] {
        guard databases.count > 1 else { return [("main", database)] }
        var sources: [(schema: String, label: String)] = [("main", database)]
        for (index, path) in databases.enumerated().dropFirst() {
            let schema = "db\(index + 1)"
            do {
                try db.attach(path: path, as: schema)
            } catch let error as ReportError {
                throw ToolFailure(error.message)
            }
            sources.append((schema, path))
        }
        return sources
    }

    /// `--timeline`: the table, or the SVG chart with --timeline-svg.
    private func writeTimeline(_ db: ReportDatabase, filter: SampleFilter, header runHeader: RunHeader,
                               format: OutputFormat, width: Int?) throws {
        let series: Timeline.Series = groupings == [.cpu] ? .cpu : (groupings == [.symbol] ? .symbol : .process)
        let duration = Double(try db.connection.scalarInt("SELECT coalesce(max(time), 0) FROM samples") ?? 0) / 1e9
        let span = (until ?? duration) - (since ?? 0)
        let chart = Timeline(series: series, bucket: bucket ?? Timeline.bucket(forDuration: span), filter: filter)
        let table = try chart.table(database: db)
        if table.rows.isEmpty { try nothingToShow(runHeader) }
        if let timelineSvg {
            let command = runHeader.fields.first { $0.name == "command" }?.value ?? ""
            try writeFile(timelineSvg, Data(chart.svg(table, title: "tprof timeline: \(command)").utf8))
            if !timeline { return }
        }
        if format == .table { write(runHeader.headerText(path: database) + "\n") }
        write(format.render(table, width: width))
    }

    /// The reports built from whole stacks.
    private func callGraph(_ db: ReportDatabase, filter: SampleFilter, header runHeader: RunHeader,
                           format: OutputFormat, width: Int?, base: ReportDatabase?) throws {
        let profile = try StackProfile.load(database: db, filter: filter)
        if profile.stacks.isEmpty && callers == nil && callees == nil { try nothingToShow(runHeader) }
        let baseProfile = try base.map { try StackProfile.load(database: $0, filter: filter) }
        if folded {
            write(baseProfile.map { ReportDiff.folded(base: $0, new: profile) } ?? profile.folded())
            return
        }
        if let flamegraph {
            let command = runHeader.fields.first { $0.name == "command" }?.value ?? ""
            let events = runHeader.fields.filter { $0.name == "event" }.map(\.value).joined(separator: "; ")
            let kind = baseProfile == nil ? "" : " (differential: red grew, blue shrank against \(diff ?? ""))"
            let svg = FlameGraph(title: "tprof: \(command)\(kind)", subtitle: "\(events) - \(profile.total) samples",
                                 icicle: icicle).render(profile, base: baseProfile)
            try writeFile(flamegraph, Data(svg.utf8), detail: "\(profile.total) samples")
            return
        }
        if format == .table { write(runHeader.headerText(path: database) + "\n") }
        if tree {
            write(profile.treeText(inverted: inverted, depth: depth, percentLimit: percentLimit ?? 0))
            return
        }
        var table: ResultTable
        if let symbol = callers ?? callees {
            table = profile.neighbours(of: symbol, callers: callers != nil)
            if table.rows.isEmpty { throw ToolFailure("no sampled stack holds the symbol '\(symbol)'") }
        } else {
            table = profile.inclusiveTable()
        }
        if let percentLimit, let column = table.columns.firstIndex(where: { $0 == "percent" || $0 == "children" }) {
            table.rows = table.rows.filter { row in
                if case .real(let share) = row[column] { return share >= percentLimit }
                return true
            }
        }
        if let limit { table.rows = Array(table.rows.prefix(limit)) }
        write(format.render(table, width: width))
    }

    private func footer(_ runHeader: RunHeader) {
        for warning in runHeader.warnings {
            FileHandle.standardError.write(Data("tprof-report: WARNING: \(warning)\n".utf8))
        }
    }

    private func numbers(_ values: [String], flag: String) throws -> [Int64] {
        try values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { part in
            guard let number = Int64(part), number >= 0 else {
                throw ToolFailure("bad value '\(part)' for \(flag): expected a number")
            }
            return number
        }
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// `--timeline FILE.svg` writes the chart and `--timeline` alone prints the table; the argument parser has no
/// option with an optional value, so the first form is read as `--timeline-svg FILE.svg`.
func timelineArguments(_ arguments: [String]) -> [String] {
    var result: [String] = []
    var index = 0
    while index < arguments.count {
        if arguments[index] == "--timeline", index + 1 < arguments.count, arguments[index + 1].hasSuffix(".svg") {
            result += ["--timeline-svg", arguments[index + 1]]
            index += 2
        } else {
            result.append(arguments[index])
            index += 1
        }
    }
    return result
}

CommandLineTool.main(Report.self, name: "tprof-report",
                     arguments: timelineArguments(Array(CommandLine.arguments.dropFirst())))
