import TprofExport
import TprofReport
import TprofStore

/// One kind of report `tprof-report` makes (a grouped table, a call tree, a flame graph, ...).
///
/// A kind is an option group of the command: the flag that selects it and its own options are its properties.
/// What it takes of the options all kinds share it declares in `takes`; `ReportSelection` refuses everything else,
/// so the command line's exclusions follow from these declarations rather than from a list of rules.
protocol ReportKind {
    /// The kind as messages name it: its flag, such as "--tree".
    var name: String { get }
    /// True when the command line asks for this kind.
    var isSelected: Bool { get }
    /// The kind's own options, other than the one selecting it, that were given, by their flags.
    var ownOptionsGiven: [String] { get }
    /// What the kind takes of the shared options.
    var takes: SharedInputs { get }
    /// The option naming the file this kind writes, as help shows it; nil for kinds that print.
    var outputOption: String? { get }
    /// The file the report writes, when it writes one.
    var outputFile: BytePath? { get }
    /// The message refusing several databases, where the general one would mislead.
    var severalDatabasesRefusal: String? { get }

    /// Makes the report.
    func run(_ session: ReportSession) throws
}

extension ReportKind {
    var ownOptionsGiven: [String] { [] }
    var outputOption: String? { nil }
    var outputFile: BytePath? { nil }
    var severalDatabasesRefusal: String? { nil }
}

/// What a report kind takes of the options every kind shares; anything else given with it is refused.
struct SharedInputs {
    /// The filters, --limit and --percent-limit.
    var filters = true
    /// The groupings it takes, and how many of them at once.
    var groupings: [Grouping] = []
    var maximumGroupings = Int.max
    /// More than one database.
    var severalDatabases = false
    /// A base run (`--diff`) to compare with.
    var base = false
    /// The `--format` values it prints in; a kind that writes a file or prints one fixed format takes only the
    /// default.
    var formats: [OutputFormat] = OutputFormat.allCases

    /// What a kind that writes one file (or prints one format) takes.
    static let filtersOnly = SharedInputs(formats: [.table])
    /// What a kind that reads the run rather than its samples takes.
    static let noFilters = SharedInputs(filters: false)
}
