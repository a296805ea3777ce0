import ArgumentParser
import TprofExport
import TprofReport

extension Report {
    /// Refuses contradictory or meaningless combinations of options before anything is opened.
    func validate() throws {
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
        if force && [flamegraph, pprof, speedscope, timelineSvg].allSatisfy({ $0 == nil }) {
            throw ValidationError("--force goes with an output file: --flamegraph, --pprof, --speedscope, --timeline")
        }
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
        // '--timeline NAME' without .svg leaves NAME among the databases (it is not rewritten to --timeline-svg).
        if isTimeline && databases.count > 1 {
            throw ValidationError("--timeline takes a file name ending in .svg to draw the chart; without one it "
                + "prints the table (of one database)")
        }
        if tree && format == OutputFormat.csv.rawValue {
            throw ValidationError("--tree prints a text tree or, with --format json, a nested JSON tree; not csv")
        }
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
}
