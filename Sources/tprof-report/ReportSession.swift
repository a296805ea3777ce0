import Foundation
import TprofCLI
import TprofExport
import TprofReport
import TprofStore

/// What every report kind works with: the databases, the shared options, and where its output goes.
struct ReportSession {
    var inputs: DatabaseArguments
    var filters: FilterOptions
    var groupings: [Grouping]
    var output: OutputOptions
    /// `--diff`: the base run to compare with.
    var base: BytePath?

    /// The database reported on (the first, when there are several).
    var path: BytePath { inputs.first }

    /// What a report needs in the database beyond its run metadata.
    enum Contents {
        case metadata
        case samples
        case symbols
    }

    /// A database opened for a report, with its header.
    struct OpenedRun {
        let database: ReportDatabase
        let header: RunHeader

        /// The recorded command line, as titles show it; nil when the run metadata lacks it.
        var command: String? { header.fields.first { $0.name == "command" }?.value }
    }

    /// Opens the database with its header. A report of samples refuses a database without any; one that names
    /// symbols (by its kind, its groupings or its filters) refuses one whose symbols were never resolved.
    func open(_ contents: Contents) throws -> OpenedRun {
        let database = try openDatabase()
        let header = try RunHeader(database: database)
        guard contents != .metadata else { return OpenedRun(database: database, header: header) }
        guard header.samples > 0 else { throw ToolFailure("\(path) holds no samples") }
        if let refusal = try sampleFilter().weight.refusal(database.connection, path: path.description) {
            throw ToolFailure(refusal)
        }
        let needsSymbols = contents == .symbols || groupings.contains(where: \.needsSymbols) || filters.needsSymbols
        // The builds of schema 1 and 2 resolved no symbols; --resymbolize brings the tables and resolves them.
        if needsSymbols, database.schemaVersion < 3 {
            throw ToolFailure("\(path) has schema version \(database.schemaVersion), from before tprof-record "
                + "resolved symbols: run 'tprof-report --resymbolize \(path)' to resolve them (it upgrades the file)")
        }
        // Addresses are resolved when recording ends: a recorder that was killed left samples without symbols,
        // which every symbol-based report would show as nothing at all.
        if needsSymbols, try database.connection.scalarInt("SELECT EXISTS (SELECT 1 FROM symbol_counts)") == 0 {
            throw ToolFailure("\(path) has no resolved symbols yet (tprof-record resolves them when it finishes; it "
                + "was killed, stopped before it resolved them, or is still running): run "
                + "'tprof-report --resymbolize \(path)' once it is not running")
        }
        return OpenedRun(database: database, header: header)
    }

    /// The filters as the report module takes them; `--by-state` reports off-CPU time.
    func sampleFilter() throws -> SampleFilter {
        var filter = try filters.sampleFilter()
        if groupings.contains(.state) {
            guard !groupings.contains(where: \.needsSymbols), !filters.needsSymbols, filter.weight != .wall else {
                throw ToolFailure("--by-state groups off-CPU intervals by thread and state: give it without symbol, "
                    + "library, line or address groupings, --symbol, --dso and --wall")
            }
            filter.weight = .offCPU
        }
        return filter
    }

    /// Opens the database alone, for a report that does not read its header.
    func openDatabase() throws -> ReportDatabase {
        try ReportDatabase(path: path)
    }

    /// Opens the `--diff` base run, checked as the main one is.
    func openBase() throws -> ReportDatabase? {
        try base.map { try ReportDatabase(path: $0) }
    }

    /// A report with nothing in it: a note when the filters chose no sample; without filters the samples the file
    /// counts cannot be read back (its tables disagree: damage), which is an error rather than an empty report.
    func nothingToShow(_ run: OpenedRun) throws {
        guard filters.given.isEmpty else {
            FileHandle.standardError.write(Data("tprof-report: no samples match\n".utf8))
            return
        }
        throw ToolFailure("\(path) is damaged: it counts \(run.header.samples) samples, but none of them can be "
            + "read back for this report")
    }

    /// The run's warnings (losses, an unfinished recording), after the report.
    func printWarnings(_ run: OpenedRun) {
        for warning in run.header.warnings {
            FileHandle.standardError.write(Data("tprof-report: WARNING: \(warning)\n".utf8))
        }
    }

    func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// A table as printed: in tables, libraries by their file name unless --full-paths.
    func render(_ table: ResultTable) -> String {
        let shown = output.format == .table && !output.fullPaths ? table.withLibraryFileNames() : table
        return output.format.render(shown, width: terminalWidth())
    }

    /// A table after the run's header (which only the table format has).
    func printTable(_ table: ResultTable, of run: OpenedRun) {
        printHeader(of: run)
        write(render(table))
    }

    /// The run's header, before a report in the table format.
    func printHeader(of run: OpenedRun) {
        if output.format == .table { write(run.header.headerText(path: path) + "\n") }
    }

    /// An output file, checked against every database the report reads.
    func destination(_ file: BytePath) -> ReportOutput {
        ReportOutput(path: file, replacing: output.force, databases: inputs.paths + (base.map { [$0] } ?? []))
    }

    /// Writes an output file whole, with one line on stderr saying so.
    func writeOutput(_ file: BytePath, _ data: Data, detail: String? = nil) throws {
        let destination = destination(file)
        try destination.write(data)
        let what = detail ?? "\(data.count) bytes"
        FileHandle.standardError.write(Data("tprof-report: wrote \(destination.name) (\(what))\n".utf8))
    }
}
