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
                    ("self", .integer(child.samples - child.children.values.reduce(0) { $0 + $1.samples })),
                    ("total", .integer(child.samples)),
                    ("percent", .number(child.share(of: total))),
                    ("children", .array(below ? nodes(under: child, level: level + 1) : [])),
                ])
            }
        }
        return JSONValue.array(nodes(under: root, level: 0)).text + "\n"
    }
}
