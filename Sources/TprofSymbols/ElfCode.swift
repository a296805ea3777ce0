import CElf

/// A row of a DWARF line table: the code from `address` on was built from `file`:`line`.
public struct LineRow: Equatable {
    public var address: UInt64
    public var file: String
    public var line: Int
}

extension ElfImage {
    /// Up to `count` bytes of code from link-time `address`, from the executable section holding it; nil when no
    /// section of the file holds the bytes (a separate debug file's sections are empty).
    func code(at address: UInt64, count: Int) -> [UInt8]? {
        var section = elf_nextscn(elf, nil)
        while let current = section {
            defer { section = elf_nextscn(elf, current) }
            var header = GElf_Shdr()
            guard gelf_getshdr(current, &header) != nil, header.sh_type == UInt32(SHT_PROGBITS),
                  header.sh_flags & UInt64(SHF_EXECINSTR) != 0, address >= header.sh_addr,
                  address - header.sh_addr < header.sh_size else { continue }
            // The section's size is the file's claim: the bytes are those libelf could read.
            guard let data = elf_rawdata(current, nil), let bytes = data.pointee.d_buf,
                  address - header.sh_addr < UInt64(data.pointee.d_size) else { return nil }
            let start = Int(address - header.sh_addr)
            return Array(UnsafeRawBufferPointer(start: bytes + start, count: min(count, data.pointee.d_size - start)))
        }
        return nil
    }

    /// The line table rows over [`start`, `end`), by address, one per address (the last the table gives for it, as
    /// the one that holds), from the debug file when there is one.
    func lineRows(from start: UInt64, to end: UInt64) -> [LineRow] {
        if let debugImage {
            let rows = debugImage.lineRows(from: start, to: end)
            if !rows.isEmpty { return rows }
        }
        guard let dwarf = openedDwarf() else { return [] }
        var unit = Dwarf_Die()
        var lines: OpaquePointer?
        var count = 0
        guard dwarf_addrdie(dwarf, Dwarf_Addr(start), &unit) != nil, dwarf_getsrclines(&unit, &lines, &count) == 0,
              let lines else { return [] }
        func address(at index: Int) -> UInt64? {
            var address: Dwarf_Addr = 0
            guard let line = dwarf_onesrcline(lines, index), dwarf_lineaddr(line, &address) == 0 else { return nil }
            return address
        }
        // libdw sorts a unit's lines by address: the function's rows are found by bisection, not by reading a large
        // unit's whole table for each function.
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if (address(at: middle) ?? 0) < start { low = middle + 1 } else { high = middle }
        }
        var byAddress: [UInt64: LineRow] = [:]
        for index in low..<count {
            guard let line = dwarf_onesrcline(lines, index), let address = address(at: index) else { continue }
            if address >= end { break }
            var endsSequence = false
            var number: Int32 = 0
            guard address >= start, dwarf_lineendsequence(line, &endsSequence) == 0, !endsSequence,
                  dwarf_lineno(line, &number) == 0, number > 0, let file = dwarf_linesrc(line, nil, nil)
            else { continue }
            byAddress[address] = LineRow(address: address, file: String(cString: file), line: Int(number))
        }
        return byAddress.values.sorted { $0.address < $1.address }
    }
}
