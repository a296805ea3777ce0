import TprofCapture

/// A function's machine code and line table as read for annotation, or why they could not be read.
public struct FunctionCode {
    /// The code from the function's start: at most the cap asked for; nil when it could not be read.
    public var bytes: [UInt8]?
    /// The function's size in bytes (for the kernel, up to the next symbol).
    public var size: UInt64
    /// Why the bytes are missing, when they are.
    public var unavailable: String?
    /// The line table rows over the function (empty without DWARF).
    public var lines: [LineRow] = []

    public init(bytes: [UInt8]? = nil, size: UInt64, unavailable: String? = nil, lines: [LineRow] = []) {
        self.bytes = bytes
        self.size = size
        self.unavailable = unavailable
        self.lines = lines
    }
}

/// Reads the code of sampled functions from the files that ran (checked by build id) and from the running kernel
/// (`/proc/kcore`), and the text of their source files. A pure layer, as the symbolizer: addresses in, bytes and
/// text out. Files are kept open until `releaseImages()`.
public final class CodeSource {
    private let useRunningKernel: Bool
    private let files = ImageFiles(readsSymbols: false)
    private lazy var kernelSymbols = KernelSymbols()
    private lazy var core = KernelCore()
    private var sources: [String: [Substring]?] = [:]

    /// Largest source file read.
    public static let maximumSourceBytes = 16 << 20
    /// Source files kept in memory at once.
    private static let sourceCacheLimit = 32

    /// - Parameter useRunningKernel: false when the recorded kernel is not the running one: its code is not read.
    public init(useRunningKernel: Bool) {
        self.useRunningKernel = useRunningKernel
    }

    /// The code of the function at link-time `address` of the ELF file at `path`, when that file is the one that
    /// ran (`buildID`, when one was recorded).
    public func userCode(path: String, buildID: String?, address: UInt64, size: UInt64, cap: Int) -> FunctionCode {
        guard let image = files.verified(path, buildID: buildID) else {
            let reason = files.skipped.contains { $0.path == path } ? "\(path) is not the file that ran (build id)"
                : "\(path) cannot be read"
            return FunctionCode(size: size, unavailable: reason)
        }
        let end = address.addingReportingOverflow(size)
        let lines = end.overflow ? [] : image.lineRows(from: address, to: end.partialValue)
        guard let bytes = image.code(at: address, count: Int(min(size, UInt64(cap)))) else {
            return FunctionCode(size: size, unavailable: "\(path) holds no code at 0x\(String(address, radix: 16))",
                                lines: lines)
        }
        return FunctionCode(bytes: bytes, size: size, lines: lines)
    }

    /// The code of the kernel function starting at `address` and `size` bytes long (0: unknown), from
    /// `/proc/kcore`.
    public func kernelCode(address: UInt64, size: UInt64, cap: Int) -> FunctionCode {
        if let failure = kernelCodeFailure { return FunctionCode(size: size, unavailable: failure) }
        guard size > 0 else { return FunctionCode(size: size, unavailable: "the kernel function's size is unknown") }
        guard let bytes = core.code(at: address, count: Int(min(size, UInt64(cap)))) else {
            return FunctionCode(size: size, unavailable: "/proc/kcore has no memory at 0x\(String(address, radix: 16))")
        }
        return FunctionCode(bytes: bytes, size: size)
    }

    /// The code of a vdso function: this process's vdso, which is the recorded one when the kernel is.
    public func vdsoCode(address: UInt64, size: UInt64, cap: Int) -> FunctionCode {
        guard useRunningKernel else {
            return FunctionCode(size: size, unavailable: "the recorded kernel (and its vdso) is not the running one")
        }
        guard let bytes = files.vdso()?.code(at: address, count: Int(min(size, UInt64(cap)))) else {
            return FunctionCode(size: size, unavailable: "the vdso holds no code at 0x\(String(address, radix: 16))")
        }
        return FunctionCode(bytes: bytes, size: size)
    }

    /// Why the kernel's code cannot be read, nil when it can.
    public var kernelCodeFailure: String? {
        useRunningKernel ? core.failure : "the recorded kernel is not the running one"
    }

    /// A kernel function's size: up to the next kallsyms symbol; nil when unknown or its code cannot be read (the
    /// symbols are not read for nothing).
    public func kernelFunctionSize(at address: UInt64) -> UInt64? {
        kernelCodeFailure == nil ? kernelSymbols.extent(ofSymbolAt: address) : nil
    }

    /// Line `line` (from 1) of the source file at `path`, without its line end; nil when the file or the line is
    /// not there.
    public func sourceLine(_ path: String, _ line: Int) -> Substring? {
        let text: [Substring]?
        if let cached = sources[path] {
            text = cached
        } else {
            if sources.count >= Self.sourceCacheLimit { sources.removeAll() }
            text = readRegularFile(path, limit: Self.maximumSourceBytes)
                .map { $0.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) }
            sources[path] = text
        }
        guard let text, line >= 1, line <= text.count else { return nil }
        return text[line - 1]
    }

    /// Closes the files read so far.
    public func releaseImages() {
        files.releaseImages()
        sources.removeAll()
    }
}
