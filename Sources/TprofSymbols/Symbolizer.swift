import CTprofLinux
import Foundation
import Glibc

/// What a code address was found to be: its file, its symbol and its source line, as far as they are known.
public struct ResolvedFrame: Equatable {
    public var dso: Dso?
    /// Offset in the file (a link-time address for ELF files, the address itself for the kernel and JITs).
    public var dsoOffset: UInt64?
    public var symbol: Symbol?
    public var symbolOffset: UInt64?
    /// The display name: the demangled symbol, else `file+0xOFFSET`, else `[unknown] 0x…`.
    public var name: String
    public var file: String?
    public var line: Int?
    /// The inline chain at the address, innermost first, joined by " <- ".
    public var inlined: String?

    public init(dso: Dso? = nil, dsoOffset: UInt64? = nil, symbol: Symbol? = nil, symbolOffset: UInt64? = nil,
                name: String, file: String? = nil, line: Int? = nil, inlined: String? = nil) {
        self.dso = dso
        self.dsoOffset = dsoOffset
        self.symbol = symbol
        self.symbolOffset = symbolOffset
        self.name = name
        self.file = file
        self.line = line
        self.inlined = inlined
    }
}

/// A file code runs from (an ELF file, the kernel, a module, the vdso, a JIT's map, anonymous memory).
public struct Dso: Hashable {
    public var path: String
    public var buildID: String?
    public var kind: DsoKind
    public var source: SymbolSource
    /// Where the file that was read was found; nil when no file was read.
    public var fileSource: FileSource?
    /// Where a separate debug file (symbols, source lines) came from; nil when none was read.
    public var debugSource: DebugSource?

    public init(path: String, buildID: String?, kind: DsoKind, source: SymbolSource, fileSource: FileSource? = nil,
                debugSource: DebugSource? = nil) {
        self.path = path
        self.buildID = buildID
        self.kind = kind
        self.source = source
        self.fileSource = fileSource
        self.debugSource = debugSource
    }
}

/// Where a mapped file was found; the raw values are the schema's `dsos.file_source`.
public enum FileSource: String {
    /// Its recorded path on this machine.
    case path
    /// Its process's root (`/proc/PID/root`), opened while the process ran in another mount namespace or chroot.
    case processRoot = "process-root"
}

/// Where a separate debug file came from; the raw values are the schema's `dsos.debug_source`.
public enum DebugSource: String {
    /// Beside the file or under /usr/lib/debug.
    case debugFile = "debug-file"
    /// A debuginfod server (or its cache), by build id.
    case debuginfod
}

/// What kind of file a `Dso` is; the raw values are the schema's `dsos.kind`.
public enum DsoKind: String {
    case executable, library, kernel, module, vdso, jit, anonymous, unknown
}

/// A function symbol of a `Dso`.
public struct Symbol: Hashable {
    public var rawName: String
    public var name: String
    public var address: UInt64
    public var size: UInt64?

    public init(rawName: String, name: String, address: UInt64, size: UInt64?) {
        self.rawName = rawName
        self.name = name
        self.address = address
        self.size = size
    }
}

/// Addresses in, frames out: names code addresses from ELF symbol tables and DWARF lines, kallsyms and JIT maps.
/// It knows nothing of databases. Images are opened on first use and kept until `releaseImages()`, so a caller
/// that resolves its addresses file by file holds one file's symbols at a time.
public final class Symbolizer {
    /// Read on the first kernel address: a recording without any needs no kallsyms.
    private var kernelSymbols: KernelSymbols?
    private var kernel: KernelSymbols {
        if let kernelSymbols { return kernelSymbols }
        let loaded = useRunningKernel ? KernelSymbols() : KernelSymbols(path: "/dev/null")
        kernelSymbols = loaded
        return loaded
    }
    private let useRunningKernel: Bool
    private let recordedBuildIDs: [String: String]
    private let readsSourceLines: Bool
    private let files: ImageFiles
    private let processRoots: ProcessRootFiles?
    private var perfMaps: [Int32: PerfMap?] = [:]
    private var readDumps: [Int32: (dump: JitDump, source: FileSource)?] = [:]
    /// Each process's jitdump (`jit-PID.dump`), by the mapping that marks it; its JIT code is named from it before
    /// `/tmp/perf-PID.map`.
    public var jitDumps: [Int32: MappingRecord] = [:]
    /// Per image and link-time address, until the images are released.
    private var resolved: [ResolvedKey: ResolvedFrame] = [:]
    /// Per image and symbol address: many sampled addresses share a symbol, and demangling costs more than the
    /// lookup.
    private var symbols: [ResolvedKey: Symbol] = [:]

    /// Entries kept in each of the caches above before they start again.
    private static let cacheLimit = 16_384

    private struct ResolvedKey: Hashable {
        var path: String
        var address: UInt64
    }

    /// - Parameters:
    ///   - useRunningKernel: false when the recorded kernel is not the running one: its symbols are not read.
    ///   - recordedBuildIDs: build ids an earlier resolution recorded per path, for mappings that carry none.
    ///   - readsSourceLines: false when only names are wanted (a live view): a large binary's DWARF is not read.
    ///   - processRoots: the files of processes in other mount namespaces or chroots, kept while they ran.
    ///   - debuginfod: the server debug files are fetched from when a file lacks symbols or lines.
    public init(useRunningKernel: Bool, recordedBuildIDs: [String: String] = [:], readsSourceLines: Bool = true,
                processRoots: ProcessRootFiles? = nil, debuginfod: DebuginfodClient? = nil) {
        self.useRunningKernel = useRunningKernel
        self.processRoots = processRoots
        files = ImageFiles(debuginfod: readsSourceLines ? debuginfod : nil)
        self.recordedBuildIDs = recordedBuildIDs
        self.readsSourceLines = readsSourceLines
    }

    /// Files not read because their build id is not the one recorded for them, in the order met.
    public var skippedFiles: [SkippedFile] { files.skipped }

    /// Whether `pc` is a kernel address: sampled in kernel mode, or in the kernel's half of the address space.
    public static func isKernel(_ pc: UInt64, kernelMode: Bool) -> Bool {
        kernelMode || pc >= 0xffff_8000_0000_0000
    }

    /// The file whose symbols resolve `mapping`'s addresses, or nil when no file is read (anonymous memory, the
    /// vdso, no mapping): callers group addresses by it so each file is opened once.
    public static func imagePath(of mapping: MappingRecord?) -> String? {
        guard let mapping else { return nil }
        let path = Self.path(of: mapping)
        return isFile(path) ? path : nil
    }

    /// Closes every ELF image opened so far, lets go of the kernel's symbols and forgets what was resolved in them;
    /// the freed heap goes back to the system, so the next file's symbols do not add to the peak.
    public func releaseImages() {
        files.releaseImages()
        kernelSymbols = nil
        readDumps.removeAll(keepingCapacity: false)
        resolved.removeAll(keepingCapacity: false)
        symbols.removeAll(keepingCapacity: false)
        _ = CTprofLinux_release_free_heap()
    }

    /// Closes the ELF image of `path` and forgets what was resolved in it; the others stay open.
    public func releaseImage(_ path: String) {
        files.releaseImage(path)
        resolved = resolved.filter { $0.key.path != path }
        symbols = symbols.filter { $0.key.path != path }
    }

    /// A kernel address, by kallsyms.
    public func resolveKernel(_ pc: UInt64) -> ResolvedFrame {
        if let entry = kernel.lookup(pc) {
            let dso = Dso(path: entry.module.map { "[\($0)]" } ?? "[kernel.kallsyms]", buildID: nil,
                          kind: entry.module == nil ? .kernel : .module, source: .kallsyms)
            return ResolvedFrame(dso: dso, dsoOffset: pc,
                                 symbol: Symbol(rawName: entry.name, name: Demangler.demangle(entry.name),
                                                address: entry.address, size: nil),
                                 symbolOffset: pc - entry.address, name: entry.name)
        }
        return ResolvedFrame(dso: Dso(path: "[kernel.kallsyms]", buildID: nil, kind: .kernel, source: .none),
                             dsoOffset: pc, name: "[kernel] 0x" + String(pc, radix: 16))
    }

    /// A user address of `pid` in `mapping` (nil: no mapping known covers it).
    public func resolveUser(pid: Int32, pc: UInt64, mapping: MappingRecord?) -> ResolvedFrame {
        guard let mapping else {
            return resolveJIT(pid: pid, pc: pc) ?? ResolvedFrame(name: "[unknown] 0x" + String(pc, radix: 16))
        }
        return resolveUser(pid: pid, pc: pc, in: mappedFile(pid: pid, mapping: mapping))
    }

    /// What naming the addresses of one mapping of one process needs of its file: worked out once for all of them
    /// (the path's checks, the build id, the file kept from the process's root, the image) rather than once an
    /// address. Valid until the images are released.
    public struct MappedFile {
        fileprivate enum Content {
            case vdso(ElfImage?)
            /// Anonymous memory and the like: a JIT's perf map or jitdump may name it.
            case notAFile
            case file(ElfImage?)
        }
        fileprivate let mapping: MappingRecord
        fileprivate let content: Content
        fileprivate let dso: Dso
    }

    public func mappedFile(pid: Int32, mapping: MappingRecord) -> MappedFile {
        let path = Self.path(of: mapping)
        if path == "[vdso]" {
            return MappedFile(mapping: mapping, content: .vdso(files.vdso()),
                              dso: Dso(path: path, buildID: nil, kind: .vdso, source: .none))
        }
        guard Self.isFile(path) else {
            return MappedFile(mapping: mapping, content: .notAFile,
                              dso: Dso(path: path.isEmpty ? "//anon" : path, buildID: nil, kind: .anonymous,
                                       source: .none))
        }
        let expected = mapping.buildID ?? recordedBuildIDs[path]
        let kind: DsoKind = Self.isLibrary(path) ? .library : .executable
        let (image, fileSource) = file(pid: pid, mapping: mapping, path: path, buildID: expected)
        return MappedFile(mapping: mapping, content: .file(image),
                          dso: Dso(path: path, buildID: expected ?? image?.buildID, kind: kind,
                                   source: image?.symbolSource ?? .none, fileSource: fileSource,
                                   debugSource: image?.debugSource))
    }

    /// A user address of `pid` in the mapping `file` was made for.
    public func resolveUser(pid: Int32, pc: UInt64, in file: MappedFile) -> ResolvedFrame {
        let offset = pc &- file.mapping.start &+ file.mapping.pageOffset
        switch file.content {
        case .vdso(let image):
            return resolve(in: image, dso: file.dso, offset: offset)
        case .notAFile:
            return resolveJIT(pid: pid, pc: pc)
                ?? ResolvedFrame(dso: file.dso, dsoOffset: offset, name: "[unknown] 0x" + String(pc, radix: 16))
        case .file(let image):
            return resolve(in: image, dso: file.dso, offset: offset, mappingOffset: file.mapping.pageOffset)
        }
    }

    /// The file a mapping's symbols are read from: the one kept from its process's root, else the file at its path
    /// when that is the file that ran (by build id; for a process under another root, by device and inode), else
    /// its debug file; and where the file was found (nil when a debug file stands in for it).
    private func file(pid: Int32, mapping: MappingRecord, path: String, buildID: String?)
        -> (ElfImage?, FileSource?) {
        var readPath = path
        var source = FileSource.path
        if let kept = processRoots?.file(pid: pid, mapping: mapping) {
            readPath = kept
            source = .processRoot
        } else if buildID == nil, processRoots?.isForeign(pid) == true {
            var info = stat()
            guard let identity = mapping.identity, stat(path, &info) == 0,
                  MappedFileIdentity(info) == identity else { return (nil, nil) }
        }
        let image = files.verified(readPath, buildID: buildID)
        return (image, image?.path == readPath ? source : nil)
    }

    /// Whether `path` names a shared library: ".so" anywhere in it (libfoo.so.6). A byte search: Foundation's
    /// `contains` bridged every path to an NSString, a twentieth of the time spent naming a large recording.
    private static func isLibrary(_ path: String) -> Bool {
        var matched = 0
        for byte in path.utf8 {
            switch (matched, byte) {
            case (_, UInt8(ascii: ".")): matched = 1
            case (1, UInt8(ascii: "s")): matched = 2
            case (2, UInt8(ascii: "o")): return true
            default: matched = 0
            }
        }
        return false
    }

    private static func path(of mapping: MappingRecord) -> String {
        let path = mapping.filename
        return path.hasSuffix(" (deleted)") ? String(path.dropLast(" (deleted)".count)) : path
    }

    /// Anonymous memory is named "//anon" by the kernel (and the /proc snapshot), MAP_HUGETLB memory
    /// "/anon_hugepage"; memfd and device mappings are no files to read symbols from either.
    private static func isFile(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.hasPrefix("//") && !path.hasPrefix("/anon_hugepage")
            && !path.hasPrefix("/memfd:") && !path.hasPrefix("/dev/")
    }

    private func resolve(in image: ElfImage?, dso: Dso, offset: UInt64, mappingOffset: UInt64 = 0) -> ResolvedFrame {
        // Built only for an address without a symbol: most have one.
        func fallback() -> String {
            let basename = dso.path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init)
                ?? dso.path
            return "\(basename)+0x\(String(offset, radix: 16))"
        }
        guard let image, let address = image.fileAddress(forOffset: offset, inMappingFrom: mappingOffset) else {
            return ResolvedFrame(dso: dso, dsoOffset: offset, name: fallback())
        }
        // By the file read, not the path recorded: two mount namespaces can hold two files at one path.
        let key = ResolvedKey(path: image.path, address: address)
        if let cached = resolved[key], cached.dso == dso { return cached }
        var result = ResolvedFrame(dso: dso, dsoOffset: address, name: "")
        if let found = image.symbol(at: address) {
            let symbolKey = ResolvedKey(path: image.path, address: found.address)
            let symbol = symbols[symbolKey].flatMap { $0.size == found.size ? $0 : nil } ?? {
                let raw = found.name
                return Symbol(rawName: raw, name: Demangler.demangle(raw), address: found.address, size: found.size)
            }()
            if symbols.count >= Self.cacheLimit { symbols.removeAll(keepingCapacity: true) }
            symbols[symbolKey] = symbol
            result.symbol = symbol
            result.symbolOffset = address - found.address
            result.name = symbol.name
        } else {
            result.name = fallback()
        }
        if readsSourceLines, let location = image.sourceLocation(at: address) {
            result.file = location.file
            result.line = location.line
            if !location.inlined.isEmpty { result.inlined = location.inlined.joined(separator: " <- ") }
        }
        // A bounded cache: a large binary has hundreds of thousands of sampled addresses, each frame a few hundred
        // bytes of strings; the hits that matter (one file's addresses in several processes) come close together.
        if resolved.count >= Self.cacheLimit { resolved.removeAll(keepingCapacity: true) }
        resolved[key] = result
        return result
    }

    /// Whether `path` is a jitdump by its name, `jit-PID.dump`: a JIT marks its dump by mapping it.
    public static func isJitDump(_ path: String) -> Bool {
        guard let name = path.split(separator: "/").last, name.hasPrefix("jit-"), name.hasSuffix(".dump") else {
            return false
        }
        return Int32(name.dropFirst(4).dropLast(5)) != nil
    }

    private func resolveJIT(pid: Int32, pc: UInt64) -> ResolvedFrame? {
        if let mapping = jitDumps[pid] {
            let path = mapping.filename
            if readDumps[pid] == nil {
                // A JIT in a container writes its dump where only its own mount namespace sees it.
                let kept = processRoots?.file(pid: pid, mapping: mapping)
                readDumps[pid] = JitDump(path: kept ?? path).map { ($0, kept == nil ? .path : .processRoot) }
            }
            if let (dump, source) = readDumps[pid] ?? nil, let code = dump.lookup(pc) {
                let name = Demangler.demangle(code.name)
                let location = readsSourceLines ? dump.sourceLocation(of: pc, in: code) : nil
                return ResolvedFrame(dso: Dso(path: path, buildID: nil, kind: .jit, source: .jitdump,
                                              fileSource: source),
                                     dsoOffset: pc,
                                     symbol: Symbol(rawName: code.name, name: name, address: code.start,
                                                    size: code.size),
                                     symbolOffset: pc - code.start, name: name, file: location?.file,
                                     line: location?.line)
            }
        }
        if perfMaps[pid] == nil { perfMaps[pid] = PerfMap(pid: pid) }
        guard let map = perfMaps[pid] ?? nil, let entry = map.lookup(pc) else { return nil }
        let name = Demangler.demangle(entry.name)
        return ResolvedFrame(dso: Dso(path: "/tmp/perf-\(pid).map", buildID: nil, kind: .jit, source: .perfMap),
                             dsoOffset: pc,
                             symbol: Symbol(rawName: entry.name, name: name, address: entry.start, size: entry.size),
                             symbolOffset: pc - entry.start, name: name)
    }
}

/// A file at a recorded path that is not the file that ran.
public struct SkippedFile: Equatable {
    public var path: String
    public var recordedBuildID: String
    /// Nil when the file has no build id.
    public var foundBuildID: String?
}
