import TprofStore
import TprofSymbols

/// Names sampled addresses whose mapping changed during the run (an exec, memory unmapped and mapped again): each
/// sample is resolved against the mapping of its time, one `addresses` row per (address, mapping) with the span of
/// time it held.
struct TimeDependentNames {
    let tables: SymbolTables
    let spaces: AddressSpaces
    let symbolizer: Symbolizer

    private struct CountKey: Hashable {
        var pid: Int32
        var tid: Int64
        var cpu: Int64
        var event: Int64
        var mode: Int64
        var stack: Int64
        var pc: UInt64
        var mapping: Int
    }

    private struct SpanKey: Hashable {
        var pid: Int32
        var pc: UInt64
        var mapping: Int
    }

    private struct PairKey: Hashable {
        var pid: Int32
        var pc: UInt64
    }

    /// Per address: its candidate mappings, the times its mapping can change, and the mapping found for each
    /// interval between them, so each of possibly millions of samples costs a binary search.
    private final class Pair {
        let candidates: [MappingRecord]
        let changes: [Int64]
        var mappingOfInterval: [Int: Int] = [:]

        init(candidates: [MappingRecord], changes: [Int64]) {
            self.candidates = candidates
            self.changes = changes
        }
    }

    func resolve(_ addresses: [Int32: Set<UInt64>], writer: inout AddressWriter,
                 outcome: inout SymbolOutcome) throws {
        var pairs: [PairKey: Pair] = [:]
        var counts: [CountKey: (sample: SampleRow, samples: Int64, period: Int64)] = [:]
        var spans: [SpanKey: (from: Int64, to: Int64, mapping: MappingRecord?)] = [:]
        try tables.forEachSample(ofProcesses: addresses.keys.sorted()) { sample in
            let (pid, pc, time) = (sample.pid, sample.pc, sample.time)
            guard addresses[pid]?.contains(pc) == true else { return }
            let pairKey = PairKey(pid: pid, pc: pc)
            let pair = pairs[pairKey] ?? Pair(candidates: spaces.candidates(pid: pid, address: pc),
                                              changes: spaces.changeTimes(pid: pid, address: pc))
            pairs[pairKey] = pair
            var low = 0
            var high = pair.changes.count
            while low < high {
                let middle = (low + high) / 2
                if pair.changes[middle] <= time { low = middle + 1 } else { high = middle }
            }
            let index: Int
            if let known = pair.mappingOfInterval[low] {
                index = known
            } else {
                let mapping = spaces.mapping(pid: pid, address: pc, time: time)
                index = mapping.flatMap { m in pair.candidates.firstIndex { $0.sameMapping(as: m) } } ?? -1
                pair.mappingOfInterval[low] = index
            }
            let spanKey = SpanKey(pid: pid, pc: pc, mapping: index)
            let after = max(time, time &+ 1) // a time of Int64.max (a damaged file) ends its span there
            var span = spans[spanKey] ?? (time, after, index >= 0 ? pair.candidates[index] : nil)
            span.from = min(span.from, time)
            span.to = max(span.to, after)
            spans[spanKey] = span
            let key = CountKey(pid: pid, tid: sample.tid, cpu: sample.cpu, event: sample.event, mode: sample.mode,
                               stack: sample.stackID, pc: pc, mapping: index)
            var sums = counts[key] ?? (sample, 0, 0)
            sums.samples += 1
            sums.period &+= sample.period
            counts[key] = sums
        }
        var addressIDs: [SpanKey: Int64] = [:]
        for (key, span) in spans {
            let frame = symbolizer.resolveUser(pid: key.pid, pc: key.pc, mapping: span.mapping)
            addressIDs[key] = try writer.write(frame, pid: key.pid, pc: key.pc, valid: (span.from, span.to),
                                               outcome: &outcome)
            outcome.timeDependent += 1
        }
        for (key, sums) in counts {
            guard let id = addressIDs[SpanKey(pid: key.pid, pc: key.pc, mapping: key.mapping)] else { continue }
            try tables.insertSymbolCount(sums.sample, addressID: id, samples: sums.samples, period: sums.period)
        }
    }
}
