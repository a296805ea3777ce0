import TprofReport
import TprofDatabase

/// RFC 4180 CSV: a header line, fields quoted when they hold a comma, quote or line break.
struct CSVFormat {
    func render(_ table: ResultTable) -> String {
        var out = table.columns.map(field).joined(separator: ",") + "\n"
        for row in table.rows {
            out += row.map { value in
                if case .real(let v) = value { return String(v) }
                return field(value.text)
            }.joined(separator: ",") + "\n"
        }
        return out
    }

    private func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
