/// Parses RFC 4180 CSV: fields separated by commas, quoted fields with doubled quotes, CRLF or LF line ends.
public func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var characters = Array(text)[...]
    while let c = characters.popFirst() {
        if quoted {
            if c == "\"" {
                if characters.first == "\"" {
                    field.append("\"")
                    characters.removeFirst()
                } else {
                    quoted = false
                }
            } else {
                field.append(c)
            }
            continue
        }
        switch c {
        case "\"": quoted = true
        case ",":
            row.append(field)
            field = ""
        case "\n", "\r\n":
            row.append(field)
            rows.append(row)
            row = []
            field = ""
        default: field.append(c)
        }
    }
    if !field.isEmpty || !row.isEmpty {
        row.append(field)
        rows.append(row)
    }
    return rows
}

/// CSV as `--format csv` writes it, each row after the header as a dictionary by column name.
public func csvRecords(_ text: String) -> [[String: String]] {
    let rows = parseCSV(text)
    guard let header = rows.first else { return [] }
    return rows.dropFirst().map { Dictionary(zip(header, $0).map { ($0, $1) }, uniquingKeysWith: { first, _ in first }) }
}
