import Foundation
import TprofTestSupport
import XCTest
@testable import TprofSymbols

/// Swift names read as `swift-demangle` prints them: with type sugar (`T?`, `[T]`, `[K : V]`), not
/// `Swift.Optional<T>`.
final class SwiftNameTests: XCTestCase {
    /// Hot functions whose signatures hold optionals, arrays, dictionaries and closures.
    static let sugaredSignatures = SymbolWorkloads.swiftClock + #"""
        @inline(never)
        func optionals(_ a: Int?, _ b: [Int]?) -> Int? {
            var x = a ?? 1
            for _ in 0..<2000 { x = x &* 6364136223846793005 &+ (b?.count ?? 7) }
            return x
        }

        @inline(never)
        func table(_ d: [String: [Int?]], _ k: String) -> [Int] {
            var x = d[k]?.count ?? 3
            for _ in 0..<2000 { x = x &* 6364136223846793005 &+ 1442695040888963407 }
            return [x]
        }

        @inline(never)
        func apply(_ f: (Int) -> Int?, _ n: Int) -> Int {
            var x = n
            for _ in 0..<500 { x = f(x) ?? x }
            return x
        }

        let d: [String: [Int?]] = ["a": [1, nil]]
        var sink = 0
        var n = 0
        while cpuSeconds() < seconds {
            for _ in 0..<256 {
                sink &+= optionals(n, [n]) ?? 0
                sink &+= table(d, "a")[0]
                sink &+= apply({ $0 &* 31 &+ 7 }, n)
                n += 1
            }
        }
        if sink == 42 { print(sink) }
        """#

    /// `swift-demangle --compact` of `names`, one line each, in order (in batches that fit a command line).
    static func swiftDemangle(_ names: [String]) throws -> [String] {
        let tool = try SymbolWorkbench.which("swift-demangle")
        var lines: [String] = []
        for start in stride(from: 0, to: names.count, by: 500) {
            let batch = Array(names[start..<min(start + 500, names.count)])
            let result = try ChildProcess.run(tool, ["--compact"] + batch, timeout: 120)
            guard result.status == 0 else { throw TestSupportError("swift-demangle failed\n\(result.summary)") }
            lines += result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        return lines
    }

    /// Asserts that tprof's name of every Swift function symbol of `path` is swift-demangle's; returns how many
    /// names were compared.
    @discardableResult
    static func assertSwiftNamesOf(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let image = try XCTUnwrap(ElfImage(path: path), file: file, line: line)
        // PLT stubs (`name@plt`, made by tprof, not in the file) are not names swift-demangle reads: PltStubTests.
        let raw = image.symbols.map(\.name).filter { $0.hasPrefix("$s") && !$0.hasSuffix("@plt") }
        let expected = try swiftDemangle(raw)
        XCTAssertEqual(expected.count, raw.count, "swift-demangle printed a line per name", file: file, line: line)
        var differing = 0
        for (name, theirs) in zip(raw, expected) where Demangler.demangle(name) != theirs {
            differing += 1
            if differing <= 10 {
                XCTFail("\(name): tprof \(Demangler.demangle(name)), swift-demangle \(theirs)", file: file, line: line)
            }
        }
        let sugared = expected.filter { $0.contains("?") || $0.contains("[") }.count
        print("swift names of \(path): \(raw.count) symbols, \(sugared) with sugar, \(differing) differ")
        XCTAssertEqual(differing, 0, "names that differ from swift-demangle's", file: file, line: line)
        return raw.count
    }

    func compileProgram(in bench: SymbolWorkbench) throws -> String {
        try bench.compile("swiftc", source: Self.sugaredSignatures, fileName: "sugar.swift", output: "sugar",
                          arguments: ["-O", "-Xcc", "-fno-omit-frame-pointer", "-module-name", "sugar", "-o",
                                      "{out}", "{src}"])
    }

    func testEverySwiftSymbolReadsAsSwiftDemangleDoes() throws {
        let bench = try SymbolWorkbench()
        let program = try compileProgram(in: bench)
        XCTAssertGreaterThan(try Self.assertSwiftNamesOf(program), 5, "the program's own Swift functions")
        // The runtime library: thousands of names with every kind of sugar, generic and closure.
        let toolchain = URL(fileURLWithPath: try SymbolWorkbench.which("swift-demangle")).deletingLastPathComponent()
            .deletingLastPathComponent()
        XCTAssertGreaterThan(try Self.assertSwiftNamesOf(toolchain.path + "/lib/swift/linux/libswiftCore.so"), 1000)
    }

    func testRecordedSwiftNamesEqualSwiftDemangle() throws {
        let bench = try SymbolWorkbench()
        let recording = try bench.recordTprof([try compileProgram(in: bench), "1"])
        let database = try recording.open()
        let rows = try database.rows("SELECT raw_name, name FROM symbols WHERE raw_name LIKE '$s%'")
        let pairs: [(raw: String, name: String)] = rows.compactMap { row in
            guard case .text(let raw) = row[0], case .text(let name) = row[1] else { return nil }
            return (raw, name)
        }
        XCTAssertEqual(pairs.count, rows.count, "every Swift symbol has a raw name and a name")
        XCTAssertGreaterThan(pairs.count, 2, "the hot Swift functions should be resolved")
        let raw = pairs.map(\.raw)
        let names = pairs.map(\.name)
        // A PLT stub is named for the function it jumps to, plus "@plt" as perf writes it: swift-demangle reads the
        // function's name (it leaves a name with the suffix as it is).
        let stems = raw.map { $0.hasSuffix("@plt") ? String($0.dropLast(4)) : $0 }
        let expected = zip(raw, try Self.swiftDemangle(stems)).map { $0.hasSuffix("@plt") ? $1 + "@plt" : $1 }
        XCTAssertEqual(names, expected, "symbols.name should be swift-demangle's reading of symbols.raw_name")
        let tprof = try recording.symbolProfile()
        for hot in ["sugar.optionals(Swift.Int?, [Swift.Int]?) -> Swift.Int?",
                    "sugar.table([Swift.String : [Swift.Int?]], Swift.String) -> [Swift.Int]"] {
            XCTAssertTrue(tprof.rows.contains { $0.symbol == hot }, "\(hot) is not in the profile\n\(tprof.listing)")
        }
    }
}
