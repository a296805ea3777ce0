import ArgumentParser

/// `--no-debuginfod`, shared by the tools that resolve symbols (tprof-record, tprof-report --resymbolize).
public struct DebuginfodOption: ParsableArguments {
    @Flag(name: .customLong("no-debuginfod"),
          help: "When resolving symbols, never fetch debug files from the debuginfod servers of DEBUGINFOD_URLS.")
    public var disabled = false

    public init() {}
}
