import ArgumentParser
import CNcurses
import Glibc
import TprofCLI
import TprofExport
import TprofReport

/// `--annotate REGEX`: the hottest matching function's instructions (or, with `--source`, its source lines) with
/// their self samples, from the code the recording kept.
struct AnnotateReport: ParsableArguments, ReportKind {
    @Option(help: ArgumentHelp("Show the hottest function matching this regular expression instruction by "
                                   + "instruction, with its source lines and the samples of each (from the code the "
                                   + "recording kept: it works after the binary is rebuilt or deleted).",
                               valueName: "regex"))
    var annotate: String?
    @Flag(help: "With --annotate: the source lines only, each with its samples.") var source = false

    var name: String { "--annotate" }
    var isSelected: Bool { annotate != nil }
    var ownOptionsGiven: [String] { source ? ["--source"] : [] }
    var takes: SharedInputs { SharedInputs() }

    func validate() throws {
        if annotate == "" { throw ValidationError("empty value for --annotate") }
    }

    func run(_ session: ReportSession) throws {
        let pattern = annotate ?? ""
        // A listing is every instruction of the function: there are no rows to leave out.
        if let option = session.filters.given.first(where: { $0 == "--limit" || $0 == "--percent-limit" }) {
            throw ToolFailure("--annotate takes no \(option): it lists every instruction of the function", exitStatus: 64)
        }
        let run = try session.open(.symbols)
        guard let annotation = try Annotation.load(database: run.database, pattern: pattern,
                                                   filter: try session.filters.sampleFilter()) else {
            throw ToolFailure("no sampled function matches '\(pattern)'"
                + (session.filters.given.isEmpty ? "" : " in the samples the filters select"))
        }
        switch session.output.format {
        case .table:
            session.printHeader(of: run)
            session.write(AnnotationText(highlight: Self.highlight()).render(annotation, sourceOnly: source))
        case .csv, .json:
            let table = source ? AnnotationText.sourceTable(annotation) : AnnotationText.instructionTable(annotation)
            session.write(session.output.format.render(table))
        }
        session.printWarnings(run)
    }

    /// Red and bold on a terminal that has them, through terminfo; nil when stdout is no terminal.
    private static func highlight() -> (start: String, end: String)? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var error: Int32 = 0
        guard setupterm(nil, STDOUT_FILENO, &error) == OK, let reset = CNcurses_capability("sgr0") else { return nil }
        let bold = CNcurses_capability("bold").map { String(cString: $0) } ?? ""
        let red = CNcurses_foreground(COLOR_RED).map { String(cString: $0) } ?? ""
        guard !(bold + red).isEmpty else { return nil }
        return (bold + red, String(cString: reset))
    }
}
