import TprofStore
import TprofSymbols

/// Keeps in the recording what `tprof-report --annotate` shows, so that it works once the binaries are rebuilt or
/// deleted: the machine code of every sampled function (from the file that ran, checked by build id, or from
/// `/proc/kcore` for the kernel), its DWARF line table, and the text of its source lines, within fixed bounds.
public struct CodeCapture {
    /// Bytes of code kept per function by default: a longer one is cut there (hot functions are far smaller).
    public static let functionCap = 64 << 10
    /// Bytes of code and source text kept in all by default; the hottest functions come first.
    public static let totalCap = 16 << 20
    /// Source lines kept before and after each line samples fell on.
    public static let contextLines = 3

    /// What a pass stored.
    public struct Outcome: Equatable {
        public var functions = 0
        public var codeBytes = 0
        public var sourceLines = 0
    }

    private let db: SQLiteDatabase
    private let useRunningKernel: Bool
    private let functionCap: Int
    private let totalCap: Int

    /// - Parameters:
    ///   - useRunningKernel: false when the recorded kernel is not the running one: no kernel code is read.
    ///   - functionCap, totalCap: the bounds (smaller in tests).
    public init(database: SQLiteDatabase, useRunningKernel: Bool, functionCap: Int = CodeCapture.functionCap,
                totalCap: Int = CodeCapture.totalCap) {
        db = database
        self.useRunningKernel = useRunningKernel
        self.functionCap = functionCap
        self.totalCap = totalCap
    }

    /// Stores the code and source text of every sampled function not stored yet, in one transaction.
    /// - Parameter progress: told (done, total) as functions are stored; an error it throws rolls everything back.
    @discardableResult
    public func run(progress: ((Int, Int) throws -> Void)? = nil) throws -> Outcome {
        try db.execute("BEGIN")
        do {
            let outcome = try store(progress: progress)
            try db.execute("COMMIT")
            return outcome
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    private func store(progress: ((Int, Int) throws -> Void)?) throws -> Outcome {
        let tables = try CodeTables(database: db)
        let source = CodeSource(useRunningKernel: useRunningKernel)
        var total = try tables.storedBytes()
        var left = CodeTables.Omissions()
        var outcome = Outcome()
        // Which functions fit is decided hottest first; they are then read file by file, so that one file's
        // symbols and DWARF are held at a time.
        var admitted: [(function: CodeTables.SampledFunction, size: UInt64)] = []
        var planned = total
        for function in try tables.sampledFunctions()
        where try !tables.hasCode(path: function.path, buildID: function.buildID, address: function.address) {
            let size = function.size ?? (Self.isKernel(function) ? source.kernelFunctionSize(at: function.address) : nil)
            if planned >= totalCap {
                left.functionsLeftOut += 1
                left.codeBytesLeftOut &+= Int64(clamping: size ?? 0)
                continue
            }
            planned += Int(min(size ?? 0, UInt64(functionCap)))
            admitted.append((function, size ?? 0))
        }
        admitted.sort { ($0.function.path, $0.function.address) < ($1.function.path, $1.function.address) }
        var currentPath: String?
        for (index, (function, size)) in admitted.enumerated() {
            try progress?(index, admitted.count)
            if function.path != currentPath {
                source.releaseImages()
                currentPath = function.path
            }
            var code = read(function, size: size, from: source)
            var note = code.unavailable
            if var bytes = code.bytes {
                if bytes.count > totalCap - total { bytes = Array(bytes.prefix(max(0, totalCap - total))) }
                if UInt64(bytes.count) < code.size {
                    left.functionsCut += 1
                    left.codeBytesLeftOut &+= Int64(clamping: code.size - UInt64(bytes.count))
                    note = "cut at \(bytes.count) of \(code.size) bytes (at most \(functionCap) per function, "
                        + "\(totalCap) in all)"
                }
                code.bytes = bytes
                total += bytes.count
                outcome.codeBytes += bytes.count
            }
            let id = try tables.insertCode(path: function.path, buildID: function.buildID, address: function.address,
                                           size: code.size, bytes: code.bytes, note: note)
            outcome.functions += 1
            var wanted: [String: Set<Int>] = [:]
            for row in code.lines {
                try tables.insertLine(code: id, offset: row.address - function.address, file: row.file, line: row.line)
                wanted[row.file, default: []].insert(row.line)
            }
            // A line number of a damaged file (--resymbolize) out of DWARF's range is not looked around.
            for (file, line) in function.sampledLines where line > 0 && line <= Int(Int32.max) {
                for around in max(1, line - Self.contextLines)...(line + Self.contextLines) {
                    wanted[file, default: []].insert(around)
                }
            }
            for (file, lines) in wanted.sorted(by: { $0.key < $1.key }) {
                for line in lines.sorted() {
                    guard let text = source.sourceLine(file, line) else { continue }
                    guard total + text.utf8.count <= totalCap else {
                        left.sourceLinesLeftOut += 1
                        continue
                    }
                    if try tables.insertSource(file: file, line: line, text: String(text)) {
                        total += text.utf8.count
                        outcome.sourceLines += 1
                    }
                }
            }
        }
        source.releaseImages()
        try tables.writeLimits(functionCap: functionCap, totalCap: totalCap, left)
        try progress?(admitted.count, admitted.count)
        return outcome
    }

    private static func isKernel(_ function: CodeTables.SampledFunction) -> Bool {
        function.kind == "kernel" || function.kind == "module"
    }

    private func read(_ function: CodeTables.SampledFunction, size: UInt64, from source: CodeSource) -> FunctionCode {
        if Self.isKernel(function) { return source.kernelCode(address: function.address, size: size, cap: functionCap) }
        if function.kind == "vdso" { return source.vdsoCode(address: function.address, size: size, cap: functionCap) }
        guard function.kind == "executable" || function.kind == "library" else {
            return FunctionCode(size: size, unavailable: "no file holds the code of a \(function.kind) function")
        }
        return source.userCode(path: function.path, buildID: function.buildID, address: function.address, size: size,
                               cap: functionCap)
    }
}
