import Foundation
import TprofTestSupport
import XCTest

/// Names are resolved into the database when recording ends: the profiled files are not needed afterwards, and
/// resolving again with the files still there gives the same names.
final class PortableDatabaseTests: XCTestCase {
    private let reports = [["--by-symbol"], ["--by-line"], ["--by-dso"], ["--by-address"]]

    func testReportsAreUnchangedAfterDeletingTheProgramAndCopyingTheDatabase() throws {
        let bench = try SymbolWorkbench()
        let (program, library) = try SharedLibraryTests.buildLibraryUser(in: bench)
        let recording = try bench.recordTprof([program, "0.5"])
        let before = try reports.map { try recording.report($0) }
        XCTAssertTrue(before[0].contains("lib_spin"), before[0])
        // Tables name a library by its file name.
        XCTAssertTrue(before[0].contains((library as NSString).lastPathComponent), before[0])

        for file in [program, library, bench.path("uselib.c"), bench.path("hot.c")] {
            try FileManager.default.removeItem(atPath: file)
        }
        let afterDeletion = try reports.map { try recording.report($0) }
        for (index, arguments) in reports.enumerated() {
            XCTAssertEqual(afterDeletion[index], before[index],
                           "tprof-report \(arguments[0]) changed when the program and library were deleted")
        }

        let elsewhere = try TemporaryDirectory(prefix: "tprof-symbols-copy")
        let copy = elsewhere.file("copied.db")
        try FileManager.default.copyItem(atPath: recording.database, toPath: copy)
        let copied = TprofRecording(database: copy, result: recording.result)
        for (index, arguments) in reports.enumerated() {
            // Only the first header line, which names the file, may differ.
            XCTAssertEqual(withoutFileName(try copied.report(arguments)), withoutFileName(before[index]),
                           "tprof-report \(arguments[0]) differs for a copy of the database in another directory")
        }
    }

    func testResymbolizeKeepsTheNames() throws {
        let bench = try SymbolWorkbench()
        let (program, _) = try SharedLibraryTests.buildLibraryUser(in: bench)
        let recording = try bench.recordTprof([program, "0.5"])
        let addressesSQL = "SELECT pid, pc, name, coalesce(file, ''), coalesce(line, 0) FROM addresses ORDER BY pid, pc"
        let addressesBefore = try recording.open().rows(addressesSQL)
        let before = try reports.map { try recording.report($0) }
        let statsSQL = "SELECT resolved, addresses, samples FROM symbol_stats ORDER BY resolved"
        let statsBefore = try recording.open().rows(statsSQL)
        // Nearly every sample of this program resolves to a symbol (lib_spin, main, libc, the kernel).
        let database = try recording.open()
        let total = try database.scalarInt("SELECT sum(samples) FROM sample_counts")
        let resolved = try database.scalarInt("SELECT samples FROM symbol_stats WHERE resolved = 'symbol'")
        XCTAssertEqual(try database.scalarInt("SELECT sum(samples) FROM symbol_stats"), total)
        XCTAssertEqual(try database.scalarInt("SELECT sum(addresses) FROM symbol_stats"),
                       Int64(addressesBefore.count))
        XCTAssertGreaterThanOrEqual(Double(resolved), 0.95 * Double(total), "symbol_stats: \(statsBefore)")

        let output = try recording.report(["--resymbolize"])
        XCTAssertTrue(output.hasPrefix("resolved \(addressesBefore.count) addresses"), output)

        XCTAssertEqual(try recording.open().rows(addressesSQL), addressesBefore,
                       "--resymbolize resolved the addresses differently")
        XCTAssertEqual(try recording.open().rows(statsSQL), statsBefore, "symbol_stats changed after --resymbolize")
        for (index, arguments) in reports.enumerated() {
            XCTAssertEqual(try recording.report(arguments), before[index],
                           "tprof-report \(arguments[0]) changed after --resymbolize")
        }
    }

    private func withoutFileName(_ report: String) -> String {
        report.components(separatedBy: "\n").filter { !$0.hasPrefix("# tprof report:") }.joined(separator: "\n")
    }
}
