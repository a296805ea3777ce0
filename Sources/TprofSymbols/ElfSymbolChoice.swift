import CElf
import Glibc

extension ElfSymbol {
    /// Whether this symbol names an address rather than `other`, an alias at the same address, by perf's rules
    /// (`choose_best_symbol` in tools/perf/util/symbol.c), so one execution reads the same in both tools: a sized
    /// symbol over a size-0 one, a non-weak over a weak one, a global over a local one, fewer leading underscores,
    /// the longer name. Nil when they tie on all of these: then perf keeps the one earlier in the table.
    func isPreferred(over other: ElfSymbol) -> Bool? {
        if (size > 0) != (other.size > 0) { return size > 0 }
        let weak = UInt8(STB_WEAK)
        if (binding == weak) != (other.binding == weak) { return other.binding == weak }
        let global = UInt8(STB_GLOBAL)
        if (binding == global) != (other.binding == global) { return binding == global }
        let underscores = leadingUnderscores
        let otherUnderscores = other.leadingUnderscores
        if underscores != otherUnderscores { return underscores < otherUnderscores }
        let length = strlen(namePointer)
        let otherLength = strlen(other.namePointer)
        if length != otherLength { return length > otherLength }
        return nil
    }

    private var leadingUnderscores: Int {
        var count = 0
        while namePointer[count] == CChar(UInt8(ascii: "_")) { count += 1 }
        return count
    }
}

extension Array where Element == ElfSymbol {
    /// The symbols sorted by address, one per address: of several names at one address the one perf shows
    /// (`ElfSymbol.isPreferred(over:)`; on a tie the one earlier in the symbol table, as perf keeps it).
    func sortedOnePerAddress() -> [ElfSymbol] {
        // The sort is stable, so symbols at one address stay in table order and a tie keeps the earlier entry (a
        // sort on (address, position) in the table took twice as long: swift-frontend's symbols take 0.1 s).
        let ordered = sorted { $0.address < $1.address }
        var result: [ElfSymbol] = []
        result.reserveCapacity(ordered.count)
        for symbol in ordered {
            if let last = result.last, last.address == symbol.address {
                if symbol.isPreferred(over: last) == true { result[result.count - 1] = symbol }
            } else {
                result.append(symbol)
            }
        }
        return result
    }
}
