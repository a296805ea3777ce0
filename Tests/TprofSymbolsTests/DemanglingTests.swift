import Foundation
import TprofSymbols
import TprofTestSupport
import XCTest

/// C++, Swift and Rust names read demangled; the raw names stay in the database.
final class DemanglingTests: XCTestCase {
    func testCppTemplateMethodReadsDemangled() throws {
        let bench = try SymbolWorkbench()
        let program = try bench.compile("g++", source: SymbolWorkloads.cppTemplate, fileName: "box.cpp", output: "box",
                                        arguments: ["-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline", "-o",
                                                    "{out}", "{src}"])
        let recording = try bench.recordTprof([program, "1"])
        let tprof = try recording.symbolProfile()
        let name = "work::Box<long>::spin(long)"
        XCTAssertTrue(tprof.rows.first?.symbol.contains(name) == true,
                      "the hot symbol should read \(name)\n\(tprof.listing)")
        XCTAssertFalse(tprof.rows.contains { $0.symbol.hasPrefix("_Z") }, "a mangled name is shown\n\(tprof.listing)")
        let raw = try recording.open().scalarText(
            "SELECT raw_name FROM symbols WHERE name = '\(name)'")
        XCTAssertEqual(raw, "_ZN4work3BoxIlE4spinEl", "symbols.raw_name keeps the mangled name")

        // perf prints C++ names without their parameters.
        let both = try bench.recordWithPerf([program, "1"])
        assertShare(.symbol(name, perf: "work::Box<long>::spin"), tprof: try both.tprofProfile(), perf: both.perf,
                    within: 2, expected: 99, expectedTolerance: 4)
    }

    func testSwiftFunctionReadsDemangled() throws {
        let bench = try SymbolWorkbench()
        let program = try bench.compile("swiftc", source: SymbolWorkloads.swiftBurn, fileName: "hot.swift",
                                        output: "hotswift",
                                        arguments: ["-O", "-Xcc", "-fno-omit-frame-pointer", "-module-name", "hot",
                                                    "-o", "{out}", "{src}"])
        let recording = try bench.recordTprof([program, "1"])
        let tprof = try recording.symbolProfile()
        let hot = try XCTUnwrap(tprof.rows.first { $0.symbol.contains("burn(") },
                                "no demangled burn( symbol\n\(tprof.listing)")
        XCTAssertTrue(hot.symbol.hasPrefix("hot.burn("), "\(hot.symbol) should name the module and function")
        XCTAssertEqual(hot.dso, program)
        XCTAssertFalse(tprof.rows.contains { $0.symbol.hasPrefix("$s") }, "a mangled name is shown\n\(tprof.listing)")
        let escaped = hot.symbol.replacingOccurrences(of: "'", with: "''")
        let raw = try XCTUnwrap(try recording.open().scalarText("SELECT raw_name FROM symbols WHERE name = '\(escaped)'"))
        XCTAssertTrue(raw.hasPrefix("$s") && raw.contains("4burn"), "raw_name \(raw) should be the mangled name")

        // perf shows the Swift name mangled: compare the share under the raw name, on the same execution.
        let both = try bench.recordWithPerf([program, "1"])
        assertShare(.symbol(hot.symbol, perf: raw), tprof: try both.tprofProfile(), perf: both.perf, within: 2,
                    expected: 99, expectedTolerance: 5)
    }

    func testDemanglerReadsRustCppAndSwiftNames() {
        // Rust legacy (Itanium-like, with a hash that is dropped).
        XCTAssertEqual(Demangler.demangle("_ZN4core3fmt5write17h0123456789abcdefE"), "core::fmt::write")
        XCTAssertEqual(Demangler.demangle(
            "_ZN4core3ptr85drop_in_place$LT$std..rt..lang_start$LT$$LP$$RP$$GT$..$u7b$$u7b$closure$u7d$$u7d$$GT$"
            + "17h0123456789abcdefE"), "core::ptr::drop_in_place<std::rt::lang_start<()>::{{closure}}>")
        // Rust v0.
        XCTAssertTrue(Demangler.demangle("_RNvCs1234_7mycrate4main").contains("mycrate::main"),
                      Demangler.demangle("_RNvCs1234_7mycrate4main"))
        XCTAssertTrue(Demangler.demangle("_RNvNtCs1234_7mycrate3foo3bar").contains("mycrate::foo::bar"))
        // C++.
        XCTAssertEqual(Demangler.demangle("_ZN4work3BoxIlE4spinEl"), "work::Box<long>::spin(long)")
        XCTAssertEqual(Demangler.demangle("_Z3foov"), "foo()")
        XCTAssertEqual(Demangler.demangle("_ZN4work3BoxIlE4spinEl.cold"), "work::Box<long>::spin(long) [clone .cold]")
        // Swift.
        let swift = Demangler.demangle("$s4main4burnyS2iF")
        XCTAssertTrue(swift.contains("burn"), swift)
        XCTAssertFalse(swift.hasPrefix("$s"), swift)
        XCTAssertEqual(swift, "main.burn(Swift.Int) -> Swift.Int")
        // PLT stubs: the function demangled, "@plt" kept.
        XCTAssertEqual(Demangler.demangle("_Z3foov@plt"), "foo()@plt")
        XCTAssertEqual(Demangler.demangle("$s4main4burnyS2iF@plt"), "main.burn(Swift.Int) -> Swift.Int@plt")
        XCTAssertEqual(Demangler.demangle("memcpy@plt"), "memcpy@plt")
        XCTAssertEqual(Demangler.demangle("@plt"), "@plt")
        // Plain C names, and names that only look mangled, come back unchanged.
        for name in ["main", "hot_a", "_start", "__libc_start_main", "_Rarely_used_c_function", "_ZZZ", "", "$"] {
            XCTAssertEqual(Demangler.demangle(name), name)
        }
    }
}
