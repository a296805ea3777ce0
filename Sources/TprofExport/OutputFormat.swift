import TprofReport

/// How a report is printed: `--format table|csv|json`.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table
    case csv
    case json

    /// Renders a table in this format, ending with a newline.
    public func render(_ table: ResultTable, width: Int? = nil) -> String {
        switch self {
        case .table: return TableFormat(maximumWidth: width).render(table)
        case .csv: return CSVFormat().render(table)
        case .json: return JSONFormat().render(table)
        }
    }
}
