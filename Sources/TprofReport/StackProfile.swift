import TprofCLI
import TprofDatabase

/// The filtered samples as call stacks with names, root first: what folded output, call trees, callers and
/// callees, inclusive shares and flame graphs are built from. A sample without a call chain is a one-frame stack.
public struct StackProfile {
    /// One frame: the symbol (or fallback name), whether it is in the kernel, and its library.
    public struct Frame: Hashable, Sendable {
        public var name: String
        public var kernel: Bool
        public var dso: String
    }

    /// A distinct stack of one process and the samples that ended in it.
    public struct Stack {
        public var pid: Int64
        public var comm: String
        public var tid: Int64
        public var threadComm: String
        /// Root first, leaf last.
        public var frames: [Frame]
        public var samples: Int64
    }

    public var stacks: [Stack]
    /// What `Stack.samples` counts: samples, or microseconds of time.
    public var weight: SampleWeight
    public var total: Int64 { stacks.reduce(0) { $0 + $1.samples } }

    public init(stacks: [Stack], weight: SampleWeight = .samples) {
        self.stacks = stacks
        self.weight = weight
    }

    /// Loads the stacks of the samples the filter selects.
    public static func load(database: ReportDatabase, filter: SampleFilter) throws -> StackProfile {
        let source = filter.needsSamples ? "sample_symbol_facts" : "symbol_groups"
        let (whereSQL, bindings) = filter.whereClause()
        let groups = try database.connection.prepare("""
            SELECT pid, coalesce(comm, thread_comm, '?'), coalesce(stack_id, 0), address_id, \(KernelModes.sql()),
                   \(filter.weight.isTime ? "sum(\(filter.periodSQL())) / 1000" : "sum(samples)"), tid,
                   coalesce(thread_comm, comm, '?')
            FROM \(source) \(whereSQL) GROUP BY 1, 2, 3, 4, 5, 7, 8
            """)
        try groups.bind(bindings)
        var rows: [(pid: Int64, comm: String, stack: Int64, address: Int64, kernel: Bool, samples: Int64, tid: Int64,
                    threadComm: String)] = []
        // Counts are checked here, once: every sum of them later (totals, tree nodes, shares) then fits in Int64.
        var total: Int64 = 0
        while try groups.step() {
            let samples = groups.int64(5)
            let (sum, overflow) = total.addingReportingOverflow(samples)
            guard samples >= 0, !overflow else {
                throw ToolFailure("\(database.path) is damaged: its call-chain sample counts are negative or too large")
            }
            total = sum
            rows.append((groups.int64(0), groups.text(1) ?? "?", groups.int64(2), groups.int64(3),
                         groups.int64(4) != 0, samples, groups.int64(6), groups.text(7) ?? "?"))
        }
        var names: [Int64: (name: String, dso: String)] = [:]
        let addresses = try database.connection.prepare("""
            SELECT a.id, a.name, coalesce(d.path, '[unknown]') FROM addresses a LEFT JOIN dsos d ON d.id = a.dso_id
            """)
        while try addresses.step() {
            names[addresses.int64(0)] = (addresses.text(1) ?? "?", addresses.text(2) ?? "[unknown]")
        }
        let chains = rows.contains(where: { $0.stack != 0 }) ? try StackChains(database: database.connection) : nil
        struct ChainKey: Hashable { var pid: Int64; var leaf: Int64 }
        var named: [ChainKey: [Frame]] = [:]
        var stacks: [Stack] = []
        for row in rows {
            var frames: [Frame] = []
            if let chains, row.stack != 0 {
                let key = ChainKey(pid: row.pid, leaf: row.stack)
                if let cached = named[key] {
                    frames = cached
                } else {
                    frames = chains.frames(pid: row.pid, leaf: row.stack).reversed().map { frame in
                        let name = names[frame.addressID] ?? ("?", "[unknown]")
                        return Frame(name: name.name, kernel: frame.kernel, dso: name.dso)
                    }
                    named[key] = frames
                }
            }
            if frames.isEmpty {
                let leaf = names[row.address] ?? ("?", "[unknown]")
                frames = [Frame(name: leaf.name, kernel: row.kernel, dso: leaf.dso)]
            }
            stacks.append(Stack(pid: row.pid, comm: row.comm, tid: row.tid, threadComm: row.threadComm,
                                frames: frames, samples: row.samples))
        }
        return StackProfile(stacks: stacks, weight: filter.weight)
    }

    // MARK: Self and inclusive shares

    /// Per frame: samples in which it is anywhere on the stack (counted once, however often it recurs) and
    /// samples in which it is the leaf; most inclusive first.
    public func inclusiveTable() -> ResultTable {
        var inclusive: [Frame: Int64] = [:]
        var selfCounts: [Frame: Int64] = [:]
        for stack in stacks {
            for frame in Set(stack.frames) { inclusive[frame, default: 0] += stack.samples }
            if let leaf = stack.frames.last { selfCounts[leaf, default: 0] += stack.samples }
        }
        let total = Double(max(1, self.total))
        let ordered = inclusive.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.name < $1.key.name }
        return ResultTable(
            columns: ["children", "self", weight.column, "dso", "k", "symbol"],
            rows: ordered.map { frame, count in
                let own = selfCounts[frame] ?? 0
                return [.real(100 * Double(count) / total), .real(100 * Double(own) / total), weight.cell(count),
                        .text(frame.dso), .text(frame.kernel ? "[k]" : "[.]"), .text(frame.name)]
            })
    }

    // MARK: Callers and callees

    /// Who calls `symbol` (callers) or what it calls (callees), each counted once per sample, with the share of
    /// the samples whose stack holds `symbol`. A callee of `(self)` means `symbol` was the leaf.
    public func neighbours(of symbol: String, callers: Bool) -> ResultTable {
        var counts: [String: Int64] = [:]
        var containing: Int64 = 0
        for stack in stacks {
            let positions = stack.frames.indices.filter { stack.frames[$0].name == symbol }
            guard !positions.isEmpty else { continue }
            containing += stack.samples
            var seen = Set<String>()
            for position in positions {
                let neighbour: String
                if callers {
                    neighbour = position > 0 ? stack.frames[position - 1].name : "(root)"
                } else {
                    neighbour = position + 1 < stack.frames.count ? stack.frames[position + 1].name : "(self)"
                }
                if seen.insert(neighbour).inserted { counts[neighbour, default: 0] += stack.samples }
            }
        }
        let total = Double(max(1, containing))
        return ResultTable(
            columns: ["percent", weight.column, callers ? "caller" : "callee"],
            rows: counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map {
                [.real(100 * Double($0.value) / total), weight.cell($0.value), .text($0.key)]
            })
    }

    // MARK: Call tree

    /// A merged tree of the stacks: top-down from the roots, or bottom-up from the leaves when inverted.
    public final class TreeNode {
        public let frame: Frame?
        public var samples: Int64 = 0
        /// In the order first seen. Most nodes of a large profile have one or two, so a list (with an index only
        /// for nodes with many) holds millions of them in a fraction of the memory a dictionary each took.
        public private(set) var children: [TreeNode] = []
        private var index: [Frame: Int]?
        private static let indexedFrom = 16
        init(frame: Frame?) { self.frame = frame }

        /// The node's samples as a percentage of `total`.
        public func share(of total: Double) -> Double { 100 * Double(samples) / total }

        /// The child for `frame`, if there is one.
        public func child(_ frame: Frame) -> TreeNode? {
            if let index { return index[frame].map { children[$0] } }
            return children.first { $0.frame == frame }
        }

        /// The child for `frame`, added if there is none.
        func childAdding(_ frame: Frame) -> TreeNode {
            if let existing = child(frame) { return existing }
            let node = TreeNode(frame: frame)
            children.append(node)
            if index != nil {
                index?[frame] = children.count - 1
            } else if children.count >= Self.indexedFrom {
                index = Dictionary(uniqueKeysWithValues: children.enumerated().compactMap { offset, child in
                    child.frame.map { ($0, offset) }
                })
            }
            return node
        }

        /// Children, most samples first; ties in a fixed order (name, library, user before kernel), since the
        /// order they were first seen in differs with the order of the rows.
        public var sortedChildren: [TreeNode] {
            children.sorted { a, b in
                if a.samples != b.samples { return a.samples > b.samples }
                let first = (a.frame?.name ?? "", a.frame?.dso ?? "", a.frame?.kernel == true ? 1 : 0)
                let second = (b.frame?.name ?? "", b.frame?.dso ?? "", b.frame?.kernel == true ? 1 : 0)
                return first < second
            }
        }
    }

    /// The merged tree, rooted at an unnamed node holding the total. With `byProcess` the first level is the
    /// process (as in folded output).
    public func tree(inverted: Bool, byProcess: Bool = false) -> TreeNode {
        let root = TreeNode(frame: nil)
        for stack in stacks {
            root.samples += stack.samples
            var node = root
            if byProcess {
                node = node.childAdding(Frame(name: stack.comm, kernel: false, dso: ""))
                node.samples += stack.samples
            }
            for frame in inverted ? stack.frames.reversed() : stack.frames {
                node = node.childAdding(frame)
                node.samples += stack.samples
            }
        }
        return root
    }

    /// The children a printed tree shows: most samples first, none below `percentLimit` percent of all samples.
    public static func shownChildren(of node: TreeNode, total: Double, percentLimit: Double) -> [TreeNode] {
        node.sortedChildren.filter { $0.share(of: total) >= percentLimit }
    }
}
