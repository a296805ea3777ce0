import CElf
import Glibc

/// Symbols for the stubs of an x86 procedure linkage table, named `func@plt` as perf names them
/// (`dso__synthesize_plt_symbols` in tools/perf/util/symbol-elf.c): no symbol table covers them, and a program that
/// calls a library function through its PLT spends samples there.
///
/// Each relocation of `.rela.plt` (or `.rel.plt`), in the order of the GOT slots it fills, owns one stub: in
/// `.plt.sec` when the file has one (IBT), otherwise in `.plt` after its header (the lazy-binding entry; a `.plt`
/// exactly as long as its stubs has none). The function is the relocation's symbol in the table its section links.
final class PltSymbols {
    let symbols: [ElfSymbol]
    /// The `func@plt` names, NUL-terminated one after another; the symbols point into it.
    private let names: UnsafeMutablePointer<CChar>

    /// A name longer than this (a hostile string table) gives its stub no name.
    static let maximumNameBytes = 4096
    /// All names together stop at this size: the count of relocations and stubs is the file's claim.
    static let maximumTotalBytes = 16 << 20

    private init(symbols: [ElfSymbol], names: UnsafeMutablePointer<CChar>) {
        self.symbols = symbols
        self.names = names
    }

    deinit { names.deallocate() }

    /// The stubs' symbols of an ELF file, or nil when it has no x86 PLT or its relocations cannot be read.
    static func read(elf: OpaquePointer) -> PltSymbols? {
        var fileHeader = GElf_Ehdr()
        guard gelf_getehdr(elf, &fileHeader) != nil,
              fileHeader.e_machine == UInt16(EM_X86_64) || fileHeader.e_machine == UInt16(EM_386) else { return nil }
        let sections = namedSections(elf: elf, names: [".plt", ".plt.sec", ".rela.plt", ".rel.plt"])
        guard let plt = sections[".plt"], plt.header.sh_type == UInt32(SHT_PROGBITS),
              let relocations = sections[".rela.plt"] ?? sections[".rel.plt"],
              let targets = readRelocations(elf: elf, section: relocations.section, header: relocations.header),
              let table = symbolTable(elf: elf, index: relocations.header.sh_link) else { return nil }

        // Where the first stub is, how long each is, and how many the section holds.
        var start = plt.header.sh_addr
        var entry = plt.header.sh_entsize
        var room = plt.header.sh_size
        if let secondary = sections[".plt.sec"], secondary.header.sh_type == UInt32(SHT_PROGBITS) {
            start = secondary.header.sh_addr
            entry = secondary.header.sh_entsize
            room = secondary.header.sh_size
            guard entry > 0 else { return nil }
        } else {
            guard entry > 0 else { return nil }
            // As perf: a .plt exactly as long as its stubs has no lazy-binding header; otherwise the header is one
            // entry long (x86).
            let (stubBytes, overflow) = UInt64(targets.count).multipliedReportingOverflow(by: entry)
            if overflow || stubBytes != room {
                let (afterHeader, beyond) = start.addingReportingOverflow(entry)
                guard room >= entry, !beyond else { return nil }
                start = afterHeader
                room -= entry
            }
        }
        let stubCount = min(UInt64(targets.count), room / entry)

        var bytes: [CChar] = []
        var named: [(address: UInt64, offset: Int)] = []
        for index in 0..<Int(stubCount) {
            let (distance, overflow) = UInt64(index).multipliedReportingOverflow(by: entry)
            let (address, beyond) = start.addingReportingOverflow(distance)
            guard !overflow, !beyond else { break }
            var symbol = GElf_Sym()
            guard gelf_getsym(table.data, Int32(clamping: targets[index]), &symbol) != nil,
                  let name = elf_strptr(elf, table.strings, Int(symbol.st_name)), name.pointee != 0 else { continue }
            let length = strnlen(name, maximumNameBytes + 1)
            guard length <= maximumNameBytes else { continue }
            guard bytes.count + length + 5 <= maximumTotalBytes else { break }
            named.append((address, bytes.count))
            bytes.append(contentsOf: UnsafeBufferPointer(start: name, count: length))
            bytes.append(contentsOf: "@plt".utf8.map { CChar(bitPattern: $0) } + [0])
        }
        guard !named.isEmpty else { return nil }
        let names = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        names.initialize(from: bytes, count: bytes.count)
        let symbols = named.map {
            ElfSymbol(address: $0.address, size: entry, binding: UInt8(STB_GLOBAL),
                      namePointer: UnsafePointer(names + $0.offset))
        }
        return PltSymbols(symbols: symbols, names: names)
    }

    private static func namedSections(elf: OpaquePointer, names: Set<String>)
        -> [String: (section: OpaquePointer, header: GElf_Shdr)] {
        var stringIndex = 0
        guard elf_getshdrstrndx(elf, &stringIndex) == 0 else { return [:] }
        var found: [String: (section: OpaquePointer, header: GElf_Shdr)] = [:]
        var section = elf_nextscn(elf, nil)
        while let current = section {
            defer { section = elf_nextscn(elf, current) }
            var header = GElf_Shdr()
            guard gelf_getshdr(current, &header) != nil,
                  let name = elf_strptr(elf, stringIndex, Int(header.sh_name)) else { continue }
            let text = String(cString: name)
            if names.contains(text) && found[text] == nil { found[text] = (current, header) }
        }
        return found
    }

    /// The symbol index of each relocation, in the order of the GOT slots they fill (x86 puts IFUNC relocations
    /// out of the stubs' order).
    private static func readRelocations(elf: OpaquePointer, section: OpaquePointer, header: GElf_Shdr) -> [UInt64]? {
        let isRela = header.sh_type == UInt32(SHT_RELA)
        guard isRela || header.sh_type == UInt32(SHT_REL) else { return nil }
        let size = gelf_fsize(elf, isRela ? ELF_T_RELA : ELF_T_REL, 1, UInt32(EV_CURRENT))
        // A debug file's relocations are NOBITS: no bytes to read.
        guard size > 0, let data = elf_getdata(section, nil), data.pointee.d_buf != nil else { return nil }
        var entries: [(slot: UInt64, symbol: UInt64)] = []
        for index in 0..<min(data.pointee.d_size / size, Int(Int32.max)) {
            if isRela {
                var relocation = GElf_Rela()
                guard gelf_getrela(data, Int32(index), &relocation) != nil else { break }
                entries.append((relocation.r_offset, relocation.r_info >> 32))
            } else {
                var relocation = GElf_Rel()
                guard gelf_getrel(data, Int32(index), &relocation) != nil else { break }
                entries.append((relocation.r_offset, relocation.r_info >> 32))
            }
        }
        return entries.enumerated().sorted { ($0.element.slot, $0.offset) < ($1.element.slot, $1.offset) }
            .map(\.element.symbol)
    }

    /// The symbol table a relocation section links to, with the index of its string table.
    private static func symbolTable(elf: OpaquePointer, index: UInt32) -> (data: UnsafeMutablePointer<Elf_Data>,
                                                                          strings: Int)? {
        var header = GElf_Shdr()
        guard let section = elf_getscn(elf, Int(index)), gelf_getshdr(section, &header) != nil,
              header.sh_type == UInt32(SHT_DYNSYM) || header.sh_type == UInt32(SHT_SYMTAB),
              let data = elf_getdata(section, nil), data.pointee.d_buf != nil else { return nil }
        return (data, Int(header.sh_link))
    }
}
