import TprofFinish
import TprofStore
import TprofSymbols

/// The recorder's finishing stage: unwinding copied user stacks, then naming every sampled address, with a progress
/// bar on a terminal. The first stop signal skips what is left of both; the samples are all in the file by then,
/// and `tprof-report --resymbolize` finishes it later.
extension Recorder {
    func unwindAndResolveSymbols(_ database: SQLiteDatabase) throws {
        let line = StatusLine.makeForFinishing(for: options)
        defer { line?.clear() }
        let signals = signalFD
        func stopIfAsked() throws {
            if let signal = StopSignals.pending(on: signals) { throw FinishingStopped(signal: signal) }
        }
        if options.userStackSize != nil {
            let schema = options.keepStacks ? "main" : Self.scratchSchema
            let bar = ProgressBar(task: "unwinding stacks", unit: "stacks", line: line)
            do {
                unwindOutcome = try StackUnwinding.run(
                    database: database, userStacksSchema: schema, maxFrames: options.maxStack ?? 127
                ) { done, total in
                    bar.update(done: done, total: total)
                    try stopIfAsked()
                }
            } catch let stopped as FinishingStopped {
                line?.clear()
                // The copied stacks are what a later unwinding needs: they move into the file.
                if !options.keepStacks {
                    stderr.line("\(options.toolName): \(StopSignals.name(stopped.signal)): keeping the copied stacks in "
                        + "\(options.output) for a later unwinding")
                    try UserStackTables(database: database, schema: "main").copy(from: schema)
                    try database.execute("DETACH DATABASE \(Self.scratchSchema)")
                }
                stderr.line("\(options.toolName): stack unwinding and symbol resolution skipped "
                    + "(\(StopSignals.name(stopped.signal))); run 'tprof-report --resymbolize \(options.output)' to "
                    + "finish them")
                return
            }
            if !options.keepStacks { try database.execute("DETACH DATABASE \(Self.scratchSchema)") }
        }
        let bar = ProgressBar(task: "resolving symbols", unit: "addresses", line: line)
        processRoots.settle()
        try ProcessRootsTable.write(processRoots.foreignProcesses, to: database)
        if processRoots.filesNotKept > 0 {
            stderr.line("\(options.toolName): \(processRoots.filesNotKept) files of processes in other mount namespaces "
                + "were not kept open (at most \(ProcessRootFiles.defaultLimit)); their addresses may stay unresolved")
        }
        let debuginfod = options.usesDebuginfod ? DebuginfodClient() : nil
        debuginfod?.willFetch = { [options, stderr] path, buildID in
            let text = "debuginfod: fetching the debug file of \(path) (build id \(buildID))"
            if let line { line.show(text) } else if !options.quiet { stderr.line("\(options.toolName): \(text)") }
        }
        do {
            let resolution = SymbolResolution(database: database, useRunningKernel: true, processRoots: processRoots,
                                              debuginfod: debuginfod)
            symbolOutcome = try resolution.run { done, total in
                bar.update(done: done, total: total)
                try stopIfAsked()
            }
            if let failure = debuginfod?.failure {
                line?.clear()
                stderr.line("\(options.toolName): debuginfod: \(failure); no more debug files were asked for")
            }
        } catch let stopped as FinishingStopped {
            line?.clear()
            // The samples are all in the file; only the names are missing, and --resymbolize adds them later.
            stderr.line("\(options.toolName): symbol resolution skipped (\(StopSignals.name(stopped.signal))); run "
                + "'tprof-report --resymbolize \(options.output)' to resolve the symbols")
            return
        }
        try keepCode(database, line: line, stopIfAsked: stopIfAsked)
    }

    /// Stores the sampled functions' code and source text for `tprof-report --annotate`.
    private func keepCode(_ database: SQLiteDatabase, line: StatusLine?, stopIfAsked: @escaping () throws -> Void) throws {
        let bar = ProgressBar(task: "keeping code", unit: "functions", line: line)
        do {
            try CodeCapture(database: database, useRunningKernel: true).run { done, total in
                bar.update(done: done, total: total)
                try stopIfAsked()
            }
        } catch let stopped as FinishingStopped {
            line?.clear()
            stderr.line("\(options.toolName): keeping code for annotation skipped (\(StopSignals.name(stopped.signal))); "
                + "run 'tprof-report --resymbolize \(options.output)' to keep it")
        }
    }
}
