import Foundation
import TprofTestSupport

/// One corrupted copy of an ELF file, named by what was changed.
struct ElfVariant {
    var name: String
    var bytes: [UInt8]
}

/// Little-endian ELF64 layout of a real file, and the corrupted copies made from it: every header field the symbol
/// layer reads, set to boundary values, plus seeded random damage. Deterministic: the same file gives the same
/// variants in every run.
struct HostileElf {
    let original: [UInt8]

    /// A real program with symbols, a build id note and a `.gnu_debuglink`, compiled once.
    static let program = SharedFixture<(directory: TemporaryDirectory, path: String)>(make: {
        let directory = try TemporaryDirectory(prefix: "tprof-hostile-elf")
        let path = try compileC(source: Workload.spinSource, name: "spin", flags: ["-Wl,--build-id"], in: directory)
        let debug = path + ".debug"
        for arguments in [["--only-keep-debug", path, debug], ["--add-gnu-debuglink=" + debug, path]] {
            let result = try ChildProcess.run("/usr/bin/objcopy", arguments, timeout: 60)
            guard result.status == 0 else { throw TestSupportError("objcopy failed\n\(result.summary)") }
        }
        return (directory, path)
    }, cleanUp: { $0.directory.remove() })

    /// Field offsets in the ELF64 structures.
    enum Field: String, CaseIterable {
        case phOffset, phVaddr, phFileSize, phMemSize
        case shName, shAddress, shOffset, shSize, shLink, shEntrySize
        case stName, stValue, stSize
        case eProgramHeaderOffset, eSectionHeaderOffset, eProgramHeaderCount, eSectionHeaderCount
        case eSectionNameIndex, eProgramHeaderSize, eSectionHeaderSize

        /// Offset in its structure and width in bytes.
        var position: (offset: Int, width: Int) {
            switch self {
            case .phOffset: return (8, 8)
            case .phVaddr: return (16, 8)
            case .phFileSize: return (32, 8)
            case .phMemSize: return (40, 8)
            case .shName: return (0, 4)
            case .shAddress: return (16, 8)
            case .shOffset: return (24, 8)
            case .shSize: return (32, 8)
            case .shLink: return (40, 4)
            case .shEntrySize: return (56, 8)
            case .stName: return (0, 4)
            case .stValue: return (8, 8)
            case .stSize: return (16, 8)
            case .eProgramHeaderOffset: return (0x20, 8)
            case .eSectionHeaderOffset: return (0x28, 8)
            case .eProgramHeaderSize: return (0x36, 2)
            case .eProgramHeaderCount: return (0x38, 2)
            case .eSectionHeaderSize: return (0x3a, 2)
            case .eSectionHeaderCount: return (0x3c, 2)
            case .eSectionNameIndex: return (0x3e, 2)
            }
        }
    }

    struct Section {
        var index: Int
        var header: Int
        var name: String
        var type: UInt32
        var offset: Int
        var size: Int
    }

    static let programHeaderSize = 56
    static let sectionHeaderSize = 64
    static let symbolSize = 24
    static let ptLoad: UInt32 = 1
    static let shtSymtab: UInt32 = 2, shtNote: UInt32 = 7, shtDynsym: UInt32 = 11

    init(path: String) throws {
        original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        guard original.count > 64, original[0..<4] == [0x7f, 0x45, 0x4c, 0x46], original[4] == 2, original[5] == 1
        else { throw TestSupportError("\(path) is not a little-endian ELF64 file") }
    }

    func read(_ offset: Int, width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(original[offset + $1]) << (8 * UInt64($1)) }
    }

    var programHeaders: [(offset: Int, type: UInt32)] {
        let table = Int(read(0x20, width: 8))
        return (0..<Int(read(0x38, width: 2))).map { index in
            let offset = table + index * Self.programHeaderSize
            return (offset, UInt32(read(offset, width: 4)))
        }
    }

    var sections: [Section] {
        let table = Int(read(0x28, width: 8))
        let count = Int(read(0x3c, width: 2))
        let names = Int(read(table + Int(read(0x3e, width: 2)) * Self.sectionHeaderSize + 24, width: 8))
        return (0..<count).map { index in
            let header = table + index * Self.sectionHeaderSize
            var end = names + Int(read(header, width: 4))
            let start = end
            while original[end] != 0 { end += 1 }
            return Section(index: index, header: header, name: String(decoding: original[start..<end], as: UTF8.self),
                           type: UInt32(read(header + 4, width: 4)), offset: Int(read(header + 24, width: 8)),
                           size: Int(read(header + 32, width: 8)))
        }
    }

    /// `original` with `value` written over `field` of the structure at `base`.
    func setting(_ field: Field, at base: Int, to value: UInt64, in bytes: [UInt8]? = nil) -> [UInt8] {
        var copy = bytes ?? original
        let (offset, width) = field.position
        for byte in 0..<width { copy[base + offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }
        return copy
    }

    /// Every variant: a few hundred, a fixed list for a given file.
    func variants() -> [ElfVariant] {
        var result: [ElfVariant] = []
        let fileSize = UInt64(original.count)
        let values = boundaryValues + [fileSize, fileSize + 1, fileSize - 1]
        // Fewer values for the many section and symbol fields, to keep the run short.
        let fewer: [UInt64] = [0, 0xffff_ffff, 0x7fff_ffff_ffff_ffff, UInt64.max - 1, UInt64.max, fileSize + 1]
        for field in [Field.eProgramHeaderOffset, .eSectionHeaderOffset, .eProgramHeaderCount, .eSectionHeaderCount,
                      .eSectionNameIndex, .eProgramHeaderSize, .eSectionHeaderSize] {
            for value in values {
                result.append(ElfVariant(name: "ELF header \(field) = \(value)", bytes: setting(field, at: 0, to: value)))
            }
        }
        let loads = programHeaders.filter { $0.type == Self.ptLoad }
        for (number, header) in loads.enumerated() {
            for field in [Field.phOffset, .phVaddr, .phFileSize, .phMemSize] {
                for value in values {
                    result.append(ElfVariant(name: "PT_LOAD \(number) \(field) = \(value)",
                                             bytes: setting(field, at: header.offset, to: value)))
                }
            }
        }
        // Overlapping segments: every PT_LOAD claims the whole file, or everything from the first byte on.
        for size in [fileSize, UInt64.max] {
            var bytes = original
            for header in loads {
                bytes = setting(.phOffset, at: header.offset, to: 0, in: bytes)
                bytes = setting(.phFileSize, at: header.offset, to: size, in: bytes)
            }
            result.append(ElfVariant(name: "every PT_LOAD overlapping, size \(size)", bytes: bytes))
        }
        let interesting = sections.filter {
            [Self.shtSymtab, Self.shtDynsym, Self.shtNote].contains($0.type)
                || [".strtab", ".dynstr", ".gnu_debuglink", ".text", ".debug_info", ".eh_frame"].contains($0.name)
        }
        // The PLT stubs' symbols are computed from these sections' addresses and sizes.
        let plt = sections.filter { [".plt", ".plt.sec", ".rela.plt"].contains($0.name) }
        for section in plt {
            for value in fewer {
                result.append(ElfVariant(name: "section \(section.name) sh_addr = \(value)",
                                         bytes: setting(.shAddress, at: section.header, to: value)))
            }
        }
        for section in interesting + plt {
            for field in [Field.shName, .shOffset, .shSize, .shLink, .shEntrySize] {
                for value in fewer {
                    result.append(ElfVariant(name: "section \(section.name) \(field) = \(value)",
                                             bytes: setting(field, at: section.header, to: value)))
                }
            }
        }
        result += symbolVariants(values: fewer)
        result += debugLinkVariants()
        result += noteVariants(values: fewer)
        result += randomDamage()
        return result
    }

    /// st_name, st_value and st_size of the first function symbols of each symbol table, and of hot_a, where the
    /// tests' samples fall.
    private func symbolVariants(values: [UInt64]) -> [ElfVariant] {
        var result: [ElfVariant] = []
        let all = sections
        for table in all where table.type == Self.shtSymtab || table.type == Self.shtDynsym {
            let names = all[Int(read(table.header + 40, width: 4))].offset
            let symbols = stride(from: table.offset, to: table.offset + table.size, by: Self.symbolSize)
                .filter { original[$0 + 4] & 0xf == 2 }
            let hot = symbols.filter { symbol in
                let name = names + Int(read(symbol, width: 4))
                return original[name..<(name + 6)].elementsEqual("hot_a\0".utf8)
            }
            let functions = Array(symbols.prefix(3)) + hot
            for symbol in functions {
                for field in [Field.stName, .stValue, .stSize] {
                    for value in values {
                        result.append(ElfVariant(name: "\(table.name) symbol at \(symbol) \(field) = \(value)",
                                                 bytes: setting(field, at: symbol, to: value)))
                    }
                }
            }
        }
        return result
    }

    /// A debug link without its NUL, one that climbs out of the directory, and one pointing at a 64 KiB name
    /// appended to the file.
    private func debugLinkVariants() -> [ElfVariant] {
        guard let link = sections.first(where: { $0.name == ".gnu_debuglink" }) else { return [] }
        var result: [ElfVariant] = []
        var unterminated = original
        for offset in link.offset..<(link.offset + link.size) { unterminated[offset] = UInt8(ascii: "A") }
        result.append(ElfVariant(name: ".gnu_debuglink without a NUL", bytes: unterminated))
        var climbing = original
        for (index, byte) in "../..\0".utf8.enumerated() where index < link.size { climbing[link.offset + index] = byte }
        result.append(ElfVariant(name: ".gnu_debuglink ../..", bytes: climbing))
        for terminated in [false, true] {
            var name = [UInt8](repeating: UInt8(ascii: "B"), count: 65536)
            if terminated { name[5000] = 0 }
            var bytes = setting(.shOffset, at: link.header, to: UInt64(original.count))
            bytes = setting(.shSize, at: link.header, to: UInt64(name.count), in: bytes)
            result.append(ElfVariant(name: ".gnu_debuglink 64 KiB long, NUL at 5000: \(terminated)",
                                     bytes: bytes + name))
        }
        return result
    }

    /// n_namesz and n_descsz of the first note of each note section.
    private func noteVariants(values: [UInt64]) -> [ElfVariant] {
        var result: [ElfVariant] = []
        for note in sections where note.type == Self.shtNote && note.size >= 12 {
            for (field, offset) in [("n_namesz", 0), ("n_descsz", 4)] {
                for value in values {
                    var bytes = original
                    for byte in 0..<4 {
                        bytes[note.offset + offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))
                    }
                    result.append(ElfVariant(name: "\(note.name) \(field) = \(value)", bytes: bytes))
                }
            }
        }
        return result
    }

    /// Seeded damage: bytes overwritten in the headers and the section header table, and truncations.
    private func randomDamage() -> [ElfVariant] {
        var generator = SeededGenerator(seed: 0x7470_726f_6612)
        var result: [ElfVariant] = []
        let table = Int(read(0x28, width: 8))
        let regions = [0..<min(original.count, 4096), table..<original.count]
        for round in 0..<60 {
            var bytes = original
            let region = regions[round % regions.count]
            for _ in 0..<16 {
                bytes[Int.random(in: region, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            result.append(ElfVariant(name: "random damage \(round)", bytes: bytes))
        }
        for round in 0..<20 {
            let length = Int.random(in: 0..<original.count, using: &generator)
            result.append(ElfVariant(name: "truncated to \(length) bytes (\(round))", bytes: Array(original[..<length])))
        }
        return result
    }
}
