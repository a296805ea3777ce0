import ArgumentParser
import TprofExport

/// How a report prints its tables, and whether an output file may replace one that exists.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Output format: table, csv or json.", valueName: "format"))
    var format: OutputFormat = .table
    @Flag(help: "Tables show libraries by their full path, not their file name.") var fullPaths = false
    @Flag(help: "Replace an existing output file (a symbolic link is replaced itself, never its target).")
    var force = false
}

extension OutputFormat: ExpressibleByArgument {}
