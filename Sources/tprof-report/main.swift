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
            report. The database is opened read-only and may still be being recorded; without one, tprof.db is \
            read. Output files (--flamegraph, --pprof, --speedscope, --timeline FILE.svg) are never a database \
            read; an existing one is replaced only with --force, and '-' writes to standard output.
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

    @Argument(help: ArgumentHelp("The database tprof-record wrote (default: tprof.db); several give one report "
                                 + "with a 'database' column, each read in place.", valueName: "database"))
    var databases: [BytePath] = []

    /// The database read when none is given, as perf report reads perf.data.
    static let defaultDatabase: BytePath = "tprof.db"

    /// The databases read: those given, or the default one.
    var inputs: [BytePath] { databases.isEmpty ? [Report.defaultDatabase] : databases }

    /// The first (usually the only) database.
    var database: BytePath { inputs[0] }

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
    var flamegraph: BytePath?
    @Flag(help: "With --flamegraph: the inverted (icicle) view, roots at the top.") var icicle = false

    @Option(help: ArgumentHelp("Compare with this base run: shares in both and the change; with --folded the "
                                   + "two-count format, with --flamegraph a differential flame graph.",
                               valueName: "base.db"))
    var diff: BytePath?
    @Flag(help: ArgumentHelp("Samples per time bucket per process (per CPU with --by-cpu, per symbol with "
                             + "--by-symbol); '--timeline FILE.svg' draws the chart instead."))
    var timeline = false
    @Option(help: ArgumentHelp("Write the timeline as an SVG chart to this file (also '--timeline FILE.svg').",
                               valueName: "file.svg"))
    var timelineSvg: BytePath?
    @Option(help: ArgumentHelp("Timeline bucket width (default: about 50 buckets over the run).",
                               valueName: "seconds"))
    var bucket: Double?

    @Option(help: ArgumentHelp("Write a gzipped pprof profile (profile.proto) to this file.", valueName: "file"))
    var pprof: BytePath?
    @Option(help: ArgumentHelp("Write a speedscope JSON profile to this file.", valueName: "file"))
    var speedscope: BytePath?

    @Flag(help: "Print the run's metadata alone.") var header = false
    @Flag(help: "Resolve the symbols again with the files available now (writes to the database).")
    var resymbolize = false
    @Flag(help: "Print the capture statistics (NetBSD tprof's counters and the kernel's losses).") var stat = false
    // .unconditional: the value may begin with '--', as SQL starting with a comment line does.
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Run one read-only SQL statement ('-' reads it from stdin).", valueName: "query"))
    var sql: String?
    @Option(help: ArgumentHelp("Output format: table, csv or json.", valueName: "format"),
            completion: .list(OutputFormat.allCases.map(\.rawValue)))
    var format: String = "table"
    @Flag(help: "Tables show libraries by their full path, not their file name.") var fullPaths = false
    @Flag(help: "Replace an existing output file (a symbolic link is replaced itself, never its target).")
    var force = false

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

    func run() throws {
        let outputFormat = OutputFormat(rawValue: format) ?? .table
        let width = terminalWidth()
        let db: ReportDatabase
        do {
            try checkInputs()
            for output in outputs { try output.check() }
            if resymbolize {
                try runResymbolize()
                return
            }
            db = try ReportDatabase(path: database)
        } catch let error as ReportError {
            throw ToolFailure(error.message)
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
                    + "finishes; it was killed, stopped before it resolved them, or is still running): run "
                    + "'tprof-report --resymbolize \(database)' once it is not running")
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
                try writeOutput(pprof, try PprofExport.gzippedData(database: db, filter: filter))
                footer(runHeader)
                return
            }
            if let speedscope {
                let command = runHeader.fields.first { $0.name == "command" }?.value ?? database.description
                let profile = try StackProfile.load(database: db, filter: filter)
                if profile.stacks.isEmpty { try nothingToShow(runHeader) }
                try writeOutput(speedscope, try SpeedscopeExport.json(profile, name: "tprof: \(command)"))
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
            write(render(table, format: outputFormat, width: width))
            footer(runHeader)
        } catch let error as SQLiteError {
            throw ToolFailure("\(database): \(error.message)")
        } catch let error as ReportError {
            throw ToolFailure(error.message)
        }
    }

    /// A report with nothing in it: a note when the filters chose no sample; without filters the samples the file
    /// counts cannot be read back (its tables disagree: damage), which is an error rather than an empty report.
    func nothingToShow(_ runHeader: RunHeader) throws {
        guard hasFilters else {
            throw ToolFailure("\(database) is damaged: it counts \(runHeader.samples) samples, but none of them can be "
                + "read back for this report")
        }
        FileHandle.standardError.write(Data("tprof-report: no samples match\n".utf8))
    }

    /// Opens the --diff base run, checked like the main one.
    private func openBase(_ path: BytePath) throws -> ReportDatabase {
        do {
            return try ReportDatabase(path: path)
        } catch let error as ReportError {
            throw ToolFailure(error.message)
        }
    }

    /// Checks every further database and attaches it read-only to `db`; returns the report's sources.
    private func attachOthers(to db: ReportDatabase) throws -> [(schema: String, label: String)] {
        guard inputs.count > 1 else { return [("main", database.description)] }
        var sources: [(schema: String, label: String)] = [("main", database.description)]
        for (index, path) in inputs.enumerated().dropFirst() {
            let schema = "db\(index + 1)"
            do {
                try db.attach(path: path, as: schema)
            } catch let error as ReportError {
                throw ToolFailure(error.message)
            }
            sources.append((schema, path.description))
        }
        return sources
    }

    func footer(_ runHeader: RunHeader) {
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

    func write(_ text: String) {
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
                     arguments: timelineArguments(ArgumentBytes.arguments()))
