import CElf
import Foundation
import Glibc
import TprofCapture

/// A function symbol of an ELF file: file (link-time) address, size, binding (STB_*), raw name.
///
/// The name points into the ELF image's string table, which stays mapped while its `ElfImage` lives: a large
/// binary has hundreds of thousands of symbols, and only the few that samples hit become Strings.
struct ElfSymbol {
    var address: UInt64
    var size: UInt64
    /// STB_LOCAL, STB_GLOBAL, STB_WEAK...: it decides between aliases (see `sortedOnePerAddress`).
    var binding: UInt8
    var namePointer: UnsafePointer<CChar>

    var name: String { String(cString: namePointer) }
}

/// Where an ELF image's symbols came from, stored with the dso.
public enum SymbolSource: String {
    case symtab, dynsym, debugFile = "debug-file", debuginfod, kallsyms, perfMap = "perf-map", jitdump, none
}

/// An ELF file (or the vdso image in memory) opened for symbols and source lines.
final class ElfImage {
    let path: String
    private let fd: Int32
    let elf: OpaquePointer
    /// A separate debug file with the full symbol table and DWARF, when one was found.
    private(set) var debugImage: ElfImage?
    private var dwarf: OpaquePointer?
    /// Set once DWARF was looked for: a file without it is not searched again for every address (dwarf_begin_elf
    /// scans every section header of the file each time).
    private var dwarfOpened = false
    private(set) var buildID: String?
    /// A PT_LOAD segment: where it lies in the file and in memory, and whether it holds code.
    typealias LoadSegment = (offset: UInt64, vaddr: UInt64, fileSize: UInt64, memorySize: UInt64, executable: Bool)
    private(set) var loadSegments: [LoadSegment] = []
    /// The page of the first executable PT_LOAD segment's address, when that segment holds no bytes of the file:
    /// a separate debug file, whose headers say where the code was but not where it lay in its file.
    private var emptyCodeSegmentPage: UInt64?
    private(set) var symbols: [ElfSymbol] = []
    /// The `func@plt` symbols of the file's PLT stubs, kept with the names they own; they are part of `symbols`.
    private var pltSymbols: PltSymbols?
    private(set) var symbolSource: SymbolSource = .none
    /// The file name `.gnu_debuglink` names, when it names a plain file name properly.
    private(set) var debugLink: String?
    /// Whether the file has DWARF (a `.debug_info` section with contents).
    private var hasDebugInfo = false
    /// Where the separate debug file came from, when one was attached.
    private(set) var debugSource: DebugSource?

    static let initialized: Bool = elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE)

    /// False for an image opened for its code and lines only: a large binary's symbols take longer to sort than its
    /// code takes to read.
    private let readsSymbols: Bool

    /// Opens a file on disk; nil when it is missing, not a regular file, or not ELF.
    /// - Parameters:
    ///   - readsSymbols: false when only code and lines are read from the file.
    ///   - debuginfod: asked for a debug file by build id when none is installed and the file lacks a symbol table
    ///     or DWARF.
    init?(path: String, searchDebugFiles: Bool = true, readsSymbols: Bool = true,
          debuginfod: DebuginfodClient? = nil) {
        guard ElfImage.initialized, let fd = openRegularFile(path) else { return nil }
        guard let elf = elf_begin(fd, ELF_C_READ_MMAP, nil), elf_kind(elf) == ELF_K_ELF else {
            close(fd)
            return nil
        }
        self.path = path
        self.fd = fd
        self.elf = elf
        self.readsSymbols = readsSymbols
        load()
        if searchDebugFiles { attachDebugFile(debuginfod: debuginfod) }
    }

    /// Opens an ELF image held in memory (the vdso); the memory must outlive the image.
    init?(memory: UnsafeMutableRawPointer, size: Int, name: String) {
        guard ElfImage.initialized,
              let elf = elf_memory(memory.assumingMemoryBound(to: CChar.self), size), elf_kind(elf) == ELF_K_ELF
        else { return nil }
        self.path = name
        self.fd = -1
        self.elf = elf
        readsSymbols = true
        load()
    }

    deinit {
        if let dwarf { dwarf_end(dwarf) }
        elf_end(elf)
        if fd >= 0 { close(fd) }
    }

    /// The PT_LOAD segments of `elf` (an executable, a library, or /proc/kcore's core file).
    static func loadSegments(of elf: OpaquePointer) -> [LoadSegment] {
        var segments: [LoadSegment] = []
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return [] }
        // The count is the file's claim; libelf refuses an index past the headers it could read, and so does every
        // later index.
        for index in 0..<min(count, Int(Int32.max)) {
            var header = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(index), &header) != nil else { break }
            if header.p_type == UInt32(PT_LOAD) {
                segments.append((header.p_offset, header.p_vaddr, header.p_filesz, header.p_memsz,
                                 header.p_flags & UInt32(PF_X) != 0))
            }
        }
        return segments
    }

    private func load() {
        loadSegments = Self.loadSegments(of: elf)
        // A --only-keep-debug file's code segment holds no bytes: addresses are placed from where it begins.
        if let empty = loadSegments.first(where: { $0.executable && $0.fileSize == 0 && $0.memorySize > 0 }) {
            emptyCodeSegmentPage = empty.vaddr & ~UInt64(Self.pageSize - 1)
        }
        var stringIndex = 0
        elf_getshdrstrndx(elf, &stringIndex)
        var dynamic: [ElfSymbol] = []
        var full: [ElfSymbol] = []
        var section: OpaquePointer? = elf_nextscn(elf, nil)
        while let current = section {
            defer { section = elf_nextscn(elf, current) }
            var header = GElf_Shdr()
            guard gelf_getshdr(current, &header) != nil else { continue }
            switch header.sh_type {
            case UInt32(SHT_SYMTAB) where readsSymbols:
                full = readSymbols(section: current, header: header)
            case UInt32(SHT_DYNSYM) where readsSymbols:
                dynamic = readSymbols(section: current, header: header)
            case UInt32(SHT_NOTE):
                if buildID == nil { buildID = readBuildID(section: current) }
            case UInt32(SHT_PROGBITS):
                if let name = elf_strptr(elf, stringIndex, Int(header.sh_name)) {
                    if strcmp(name, ".gnu_debuglink") == 0 { debugLink = readDebugLink(section: current) }
                    if strcmp(name, ".debug_info") == 0 && header.sh_size > 0 { hasDebugInfo = true }
                }
            default:
                break
            }
        }
        if !full.isEmpty {
            symbols = full
            symbolSource = .symtab
        } else if !dynamic.isEmpty {
            symbols = dynamic
            symbolSource = .dynsym
        }
        guard readsSymbols else { return }
        pltSymbols = PltSymbols.read(elf: elf)
        symbols = (symbols + (pltSymbols?.symbols ?? [])).sortedOnePerAddress()
    }

    private func readSymbols(section: OpaquePointer, header: GElf_Shdr) -> [ElfSymbol] {
        // The count comes from the bytes libelf read, in the class's own symbol size: sh_size and sh_entsize are
        // the file's claims.
        let symbolSize = gelf_fsize(elf, ELF_T_SYM, 1, UInt32(EV_CURRENT))
        guard let data = elf_getdata(section, nil), symbolSize > 0 else { return [] }
        let count = min(data.pointee.d_size / symbolSize, Int(Int32.max))
        var result: [ElfSymbol] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            var symbol = GElf_Sym()
            guard gelf_getsym(data, Int32(index), &symbol) != nil else { break }
            let type = symbol.st_info & 0xf
            // An unnamed symbol names nothing: its addresses keep their file+offset name.
            guard type == UInt8(STT_FUNC) || type == UInt8(STT_GNU_IFUNC),
                  symbol.st_shndx != UInt16(SHN_UNDEF), symbol.st_value != 0,
                  let name = elf_strptr(elf, Int(header.sh_link), Int(symbol.st_name)), name.pointee != 0
            else { continue }
            result.append(ElfSymbol(address: symbol.st_value, size: symbol.st_size, binding: symbol.st_info >> 4,
                                    namePointer: UnsafePointer(name)))
        }
        return result
    }

    /// Longest build id taken from a note: GNU ld writes 20 bytes (sha1), at most 64 with --build-id=0x...
    static let maximumBuildIDBytes = 64

    private func readBuildID(section: OpaquePointer) -> String? {
        guard let data = elf_getdata(section, nil), let bytes = data.pointee.d_buf else { return nil }
        let section = UnsafeRawBufferPointer(start: bytes, count: data.pointee.d_size)
        var offset = 0
        while offset < section.count {
            var note = GElf_Nhdr()
            var nameOffset = 0
            var descOffset = 0
            let next = gelf_getnote(data, offset, &note, &nameOffset, &descOffset)
            guard next > offset else { break }
            let length = Int(note.n_descsz)
            if note.n_type == UInt32(NT_GNU_BUILD_ID) && note.n_namesz == 4 && length > 0
                && length <= Self.maximumBuildIDBytes && descOffset <= section.count
                && length <= section.count - descOffset {
                return section[descOffset..<(descOffset + length)].map { String(format: "%02x", $0) }.joined()
            }
            offset = next
        }
        return nil
    }

    /// The file name in a `.gnu_debuglink` section: NUL-terminated within the section, a plain name (no
    /// directory), at most NAME_MAX bytes; nil for anything else.
    private func readDebugLink(section: OpaquePointer) -> String? {
        guard let data = elf_getdata(section, nil), let bytes = data.pointee.d_buf else { return nil }
        let section = UnsafeRawBufferPointer(start: bytes, count: data.pointee.d_size)
        guard let end = section.prefix(Int(NAME_MAX) + 1).firstIndex(of: 0), end > 0 else { return nil }
        let name = section[..<end]
        guard !name.contains(UInt8(ascii: "/")), name.elementsEqual(".".utf8) == false,
              name.elementsEqual("..".utf8) == false else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    /// Looks for the separate debug file Debian installs: by build id, then by .gnu_debuglink; then, for a file
    /// without a symbol table or DWARF, asks debuginfod.
    private func attachDebugFile(debuginfod: DebuginfodClient?) {
        attachInstalledDebugFile()
        guard debugImage == nil, symbolSource != .symtab || !hasDebugInfo, let debuginfod,
              let buildID, let fetched = debuginfod.debugFile(buildID: buildID, for: path),
              let image = ElfImage(path: fetched, searchDebugFiles: false), image.buildID == buildID else { return }
        attach(image, from: .debuginfod)
    }

    /// Says that this image is a debug file, installed or fetched, read in place of a file that is gone.
    func markStandIn(from source: DebugSource) {
        if symbolSource == .symtab { symbolSource = source == .debuginfod ? .debuginfod : .debugFile }
        debugSource = source
    }

    private func attach(_ image: ElfImage, from source: DebugSource) {
        debugImage = image
        debugSource = source
        if symbolSource != .symtab && image.symbolSource == .symtab {
            // The debug file's PLT sections are empty (NOBITS): the stubs' names come from this file.
            symbols = (image.symbols + (pltSymbols?.symbols ?? [])).sortedOnePerAddress()
            symbolSource = source == .debuginfod ? .debuginfod : .debugFile
        }
    }

    private func attachInstalledDebugFile() {
        var candidates: [String] = []
        if let buildID, buildID.count > 2 {
            candidates.append("/usr/lib/debug/.build-id/\(buildID.prefix(2))/\(buildID.dropFirst(2)).debug")
        }
        if let debugLink {
            let directory = (path as NSString).deletingLastPathComponent
            candidates += [directory + "/" + debugLink, directory + "/.debug/" + debugLink,
                           "/usr/lib/debug" + directory + "/" + debugLink]
        }
        for candidate in candidates where candidate != path {
            if let image = ElfImage(path: candidate, searchDebugFiles: false, readsSymbols: readsSymbols),
               !image.symbols.isEmpty || !readsSymbols {
                attach(image, from: .debugFile)
                return
            }
        }
    }

    static let pageSize = max(4096, sysconf(Int32(_SC_PAGESIZE)))

    /// The link-time address of a file offset in the executable mapping that maps the file from `mappingOffset`:
    /// through the PT_LOAD segment that holds it, or, for a debug file read in place of its file, from where its
    /// code segment begins (the loader maps that segment's first page at the mapping's start).
    func fileAddress(forOffset offset: UInt64, inMappingFrom mappingOffset: UInt64) -> UInt64? {
        if let address = fileAddress(forOffset: offset) { return address }
        guard let page = emptyCodeSegmentPage, offset >= mappingOffset else { return nil }
        return page &+ (offset - mappingOffset)
    }

    /// The link-time address of a file offset, through the PT_LOAD segment that holds it.
    func fileAddress(forOffset offset: UInt64) -> UInt64? {
        // Subtracted, not added: a segment's offset and size are the file's claims and may sum past UInt64.max.
        for segment in loadSegments where offset >= segment.offset && offset - segment.offset < max(segment.fileSize, 1) {
            return segment.vaddr &+ (offset &- segment.offset)
        }
        return nil
    }

    /// The symbol containing a link-time address: within its size, or (size 0) up to the next symbol. There is one
    /// symbol per address, the one perf names it by.
    func symbol(at address: UInt64) -> ElfSymbol? {
        guard let index = symbols.lastIndex(atOrBelow: address, key: \.address) else { return nil }
        let candidate = symbols[index]
        if candidate.size > 0 { return address - candidate.address < candidate.size ? candidate : nil }
        let next = index + 1 < symbols.count ? symbols[index + 1].address : UInt64.max
        return address < next ? candidate : nil
    }

    /// The image's own DWARF (not its debug file's), opened on first use; nil when it has none.
    func openedDwarf() -> OpaquePointer? {
        if !dwarfOpened {
            dwarf = dwarf_begin_elf(elf, DWARF_C_READ, nil)
            dwarfOpened = true
        }
        return dwarf
    }

    /// Source file, line and inline chain (innermost first) from DWARF, when the image or its debug file has it.
    func sourceLocation(at address: UInt64) -> (file: String, line: Int, inlined: [String])? {
        if let debugImage, let location = debugImage.sourceLocation(at: address) { return location }
        guard let dwarf = openedDwarf() else { return nil }
        var unit = Dwarf_Die()
        guard dwarf_addrdie(dwarf, Dwarf_Addr(address), &unit) != nil,
              let line = dwarf_getsrc_die(&unit, Dwarf_Addr(address)) else { return nil }
        var number: Int32 = 0
        dwarf_lineno(line, &number)
        guard let file = dwarf_linesrc(line, nil, nil) else { return nil }
        var inlined: [String] = []
        var scopes: UnsafeMutablePointer<Dwarf_Die>?
        let count = dwarf_getscopes(&unit, Dwarf_Addr(address), &scopes)
        if count > 0, let scopes {
            for index in 0..<Int(count) where dwarf_tag(&scopes[index]) == Int32(DW_TAG_inlined_subroutine) {
                var attribute = Dwarf_Attribute()
                if dwarf_attr_integrate(&scopes[index], UInt32(DW_AT_name), &attribute) != nil,
                   let name = dwarf_formstring(&attribute) {
                    inlined.append(String(cString: name))
                }
            }
            free(scopes)
        }
        return (String(cString: file), Int(number), inlined)
    }
}
