import Foundation
import TprofReport

extension StackProfile {
    /// The call tree as indented text: percent of all samples, samples, name.
    public func treeText(inverted: Bool, depth: Int?, percentLimit: Double) -> String {
        let root = tree(inverted: inverted)
        let total = Double(max(1, root.samples))
        var out = ""
        func walk(_ node: TreeNode, level: Int) {
            for child in Self.shownChildren(of: node, total: total, percentLimit: percentLimit) {
                let name = (child.frame?.name ?? "?") + ((child.frame?.kernel ?? false) ? " [k]" : "")
                out += String(format: "%7.2f%% %9lld  ", child.share(of: total), child.samples)
                    + String(repeating: "  ", count: level) + name + "\n"
                if depth.map({ level + 1 < $0 }) ?? true { walk(child, level: level + 1) }
            }
        }
        walk(root, level: 0)
        return out
    }
}
