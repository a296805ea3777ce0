extension String {
    /// The text with XML's special characters escaped, for SVG text and attributes. Characters XML 1.0 does not
    /// allow at all (control characters other than tab, line feed and carriage return; U+FFFE and U+FFFF) are
    /// left out: no escape can carry them, and one in a symbol name would make the whole document invalid.
    var xmlEscaped: String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(unicodeScalars.count)
        for scalar in unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: continue
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
