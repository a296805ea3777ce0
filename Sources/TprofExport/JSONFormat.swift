import Foundation
import TprofReport
import TprofDatabase

/// A JSON array with one object per row, its members in the table's column order (a repeated column name stays
/// repeated, as the SQL gave it); numbers stay numbers, NULL is null.
struct JSONFormat {
    func render(_ table: ResultTable) -> String {
        let rows = table.rows.map { row in
            JSONValue.object(zip(table.columns, row).map { column, value in (column, JSONValue(value)) })
        }
        return JSONValue.array(rows).text + "\n"
    }
}

/// A JSON document whose objects keep their members in order, which `JSONSerialization` (a dictionary) cannot.
enum JSONValue {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A non-finite number, which JSON cannot write, is null.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    init(_ value: SQLiteValue) {
        switch value {
        case .integer(let v): self = .integer(v)
        case .real(let v): self = .number(v)
        case .text(let v): self = .string(v)
        case .null: self = .null
        }
    }

    /// The document, indented by two spaces per level.
    var text: String {
        var out = ""
        write(to: &out, indent: "")
        return out
    }

    private func write(to out: inout String, indent: String) {
        let inner = indent + "  "
        switch self {
        case .null: out += "null"
        case .bool(let v): out += v ? "true" : "false"
        case .integer(let v): out += String(v)
        case .number(let v): out += v.isFinite ? String(v) : "null"
        case .string(let v): Self.writeString(v, to: &out)
        case .array(let elements):
            guard !elements.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (index, element) in elements.enumerated() {
                out += inner
                element.write(to: &out, indent: inner)
                out += index == elements.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (index, member) in members.enumerated() {
                out += inner
                Self.writeString(member.key, to: &out)
                out += ": "
                member.value.write(to: &out, indent: inner)
                out += index == members.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        }
    }

    private static func writeString(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension StackProfile {
    /// The call tree (`--tree --format json`) as nested JSON: an array of the top nodes, each an object with its
    /// `name`, `dso`, `kernel`, `self` (samples ending in it: the leaf, or the root when inverted), `total` (samples
    /// through it), `percent` (of all samples) and `children`, most samples first. `depth` and `percentLimit` leave
    /// nodes out as in the text tree; `self` and `total` stay the counts of the whole tree.
    public func treeJSON(inverted: Bool, depth: Int?, percentLimit: Double) -> String {
        let root = tree(inverted: inverted)
        let total = Double(max(1, root.samples))
        func nodes(under node: TreeNode, level: Int) -> [JSONValue] {
            Self.shownChildren(of: node, total: total, percentLimit: percentLimit).map { child in
                let below = depth.map { level + 1 < $0 } ?? true
                return .object([
                    ("name", .string(child.frame?.name ?? "?")),
                    ("dso", .string(child.frame?.dso ?? "")),
                    ("kernel", .bool(child.frame?.kernel ?? false)),
                    ("self", .integer(child.samples - child.children.reduce(0) { $0 + $1.samples })),
                    ("total", .integer(child.samples)),
                    ("percent", .number(child.share(of: total))),
                    ("children", .array(below ? nodes(under: child, level: level + 1) : [])),
                ])
            }
        }
        return JSONValue.array(nodes(under: root, level: 0)).text + "\n"
    }
}
