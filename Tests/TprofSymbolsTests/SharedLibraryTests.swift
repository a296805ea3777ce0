import Foundation
import TprofTestSupport
import XCTest

/// A hot function in a shared library the program links: named, with the library's path, and filterable by it.
final class SharedLibraryTests: XCTestCase {
    /// Builds libhot.so and a program linked to it with -L -lhot and an rpath; returns (program, library).
    static func buildLibraryUser(in bench: SymbolWorkbench) throws -> (program: String, library: String) {
        let library = try bench.compile("gcc", source: SymbolWorkloads.library, fileName: "hot.c", output: "libhot.so",
                                        arguments: ["-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline", "-shared",
                                                    "-fPIC", "-o", "{out}", "{src}"])
        let program = try bench.compileC(SymbolWorkloads.libraryUser, name: "uselib",
                                         flags: ["-L", bench.directory.path, "-lhot",
                                                 "-Wl,-rpath," + bench.directory.path])
        return (program, library)
    }

    func testLibraryFunctionShowsWithTheLibraryPath() throws {
        let bench = try SymbolWorkbench()
        let (program, library) = try Self.buildLibraryUser(in: bench)
        let recording = try bench.recordTprof([program, "1"])
        let tprof = try recording.symbolProfile()
        let rows = tprof.rows.filter { $0.symbol == "lib_spin" }
        XCTAssertEqual(rows.count, 1, "lib_spin should be one row\n\(tprof.listing)")
        XCTAssertEqual(rows.first?.dso, library, "lib_spin's dso column is the library\n\(tprof.listing)")
        XCTAssertEqual(rows.first?.kernel, false)
        let kind = try recording.open().scalarText(
            "SELECT kind FROM dsos WHERE path = '\(library.replacingOccurrences(of: "'", with: "''"))'")
        XCTAssertEqual(kind, "library")

        let both = try bench.recordWithPerf([program, "1"])
        assertShare(.symbol("lib_spin"), tprof: try both.tprofProfile(), perf: both.perf, within: 2, expected: 99,
                    expectedTolerance: 4)
    }

    func testDsoAndSymbolFiltersSelectTheLibrary() throws {
        let bench = try SymbolWorkbench()
        let (program, library) = try Self.buildLibraryUser(in: bench)
        let recording = try bench.recordTprof([program, "0.5"])
        let everything = try recording.symbolProfile()
        for filter in ["libhot.so", library] {
            let filtered = try recording.symbolProfile(["--dso", filter])
            XCTAssertFalse(filtered.rows.isEmpty, "--dso \(filter) matched nothing\n\(everything.listing)")
            for row in filtered.rows {
                XCTAssertEqual(row.dso, library, "--dso \(filter) let through \(row.symbol) of \(row.dso ?? "?")")
            }
            // Shares are of the filtered samples: the library's own function holds them all.
            XCTAssertEqual(filtered.share(of: "lib_spin"), 100, accuracy: 0.01, filtered.listing)
            XCTAssertEqual(filtered.rows.first { $0.symbol == "lib_spin" }?.samples,
                           everything.rows.first { $0.symbol == "lib_spin" }?.samples)
        }
        let bySymbol = try recording.symbolProfile(["--symbol", "^lib_sp"])
        XCTAssertEqual(bySymbol.rows.map(\.symbol), ["lib_spin"], bySymbol.listing)
        let dsos = try recording.rows(["--by-dso"])
        XCTAssertEqual(dsos.first?["dso"] as? String, library, "the library leads --by-dso: \(dsos)")
    }
}
