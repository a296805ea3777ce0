import TprofReport

extension StackProfile {
    /// Brendan Gregg's folded format (flamegraph.pl, speedscope, Pyroscope): `comm;root;...;leaf count`, kernel
    /// frames marked `_[k]`, sorted.
    public func folded() -> String {
        var counts: [String: Int64] = [:]
        // Each distinct frame is escaped once: a large profile repeats a few thousand names millions of times.
        var escaped: [Frame: String] = [:]
        var line = ""
        for stack in stacks {
            line = Self.foldedName(stack.comm)
            for frame in stack.frames {
                if let known = escaped[frame] {
                    line += ";" + known
                } else {
                    let name = Self.foldedName(frame.name) + (frame.kernel ? "_[k]" : "")
                    escaped[frame] = name
                    line += ";" + name
                }
            }
            counts[line, default: 0] += stack.samples
        }
        return counts.keys.sorted().map { "\($0) \(counts[$0] ?? 0)\n" }.joined()
    }

    private static func foldedName(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "\n") }) else { return name }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: name.unicodeScalars.map { $0 == ";" ? ":" : $0 == "\n" ? " " : $0 })
        return String(scalars)
    }
}

extension ReportDiff {
    /// The two-count folded format of flamegraph.pl's difffolded: `stack base_count new_count`.
    public static func folded(base: StackProfile, new: StackProfile) -> String {
        func counts(_ profile: StackProfile) -> [String: Int64] {
            var result: [String: Int64] = [:]
            for line in profile.folded().split(separator: "\n") {
                guard let space = line.lastIndex(of: " "), let count = Int64(line[line.index(after: space)...]) else {
                    continue
                }
                result[String(line[..<space]), default: 0] += count
            }
            return result
        }
        let b = counts(base)
        let n = counts(new)
        return Set(b.keys).union(n.keys).sorted().map { "\($0) \(b[$0] ?? 0) \(n[$0] ?? 0)\n" }.joined()
    }
}
