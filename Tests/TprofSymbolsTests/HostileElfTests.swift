import Foundation
import Glibc
import TprofCapture
@testable import TprofSymbols
import TprofFinish
import TprofStore
import TprofTestSupport
import XCTest

/// Files a profiled program maps are its to choose: corrupted ELF files, perf maps and kallsyms text go through the
/// symbol layer in this process, so a trap kills the test. Each must give a result (perhaps unresolved names),
/// never a trap or a hang.
final class HostileElfTests: XCTestCase {
    /// Longest any one file may take: far above the milliseconds a file takes, far below a hang.
    private let secondsPerFile = 10.0

    /// Asks an image everything the resolver asks: file addresses of offsets, symbols (and their names) at those
    /// and at boundary addresses, source lines.
    private func exercise(_ image: ElfImage) -> Int {
        var answers = 0
        let offsets: [UInt64] = [0, 0x40, 0x1000, 0x1139, 0x2000] + boundaryValues
        for offset in offsets {
            guard let address = image.fileAddress(forOffset: offset) else { continue }
            answers += 1
            if let symbol = image.symbol(at: address) { answers += symbol.name.isEmpty ? 0 : 1 }
            if image.sourceLocation(at: address) != nil { answers += 1 }
        }
        for symbol in image.symbols.prefix(64) {
            _ = symbol.name
            for address in [symbol.address, symbol.address &+ symbol.size &- 1, symbol.address &+ symbol.size] {
                if image.symbol(at: address) != nil { answers += 1 }
            }
        }
        for address in boundaryValues where image.symbol(at: address) != nil { answers += 1 }
        _ = image.buildID
        return answers
    }

    func testTheUncorruptedProgramResolvesItsFunctions() throws {
        let image = try XCTUnwrap(ElfImage(path: try HostileElf.program.value().path))

        let names = Set(image.symbols.map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["hot_a", "hot_b", "main", "clock_gettime@plt"]),
                      "symbols: \(names.sorted())")
        XCTAssertNotNil(image.buildID, "gcc was asked for a build id")
        XCTAssertGreaterThan(exercise(image), 0)
    }

    func testCorruptedElfFilesGiveAResultWithoutTrapOrHang() throws {
        let program = try HostileElf.program.value()
        let elf = try HostileElf(path: program.path)
        let variants = elf.variants()
        XCTAssertGreaterThan(variants.count, 300)
        // No debug file beside the variants: source lines come from each variant's own (corrupted) DWARF.
        let directory = try makeTemporaryDirectory(prefix: "tprof-hostile-variants")
        var opened = 0
        for (index, variant) in variants.enumerated() {
            let path = directory.file("variant-\(index)")
            try Data(variant.bytes).write(to: URL(fileURLWithPath: path))
            let began = monotonicSeconds()
            if let image = ElfImage(path: path) {
                opened += 1
                _ = exercise(image)
            }
            XCTAssertLessThan(monotonicSeconds() - began, secondsPerFile, "\(variant.name) took too long")
            unlink(path)
        }
        XCTAssertGreaterThan(opened, variants.count / 2, "most variants are still ELF files the layer reads")
    }

    /// The debug link is read within its section, as a plain file name: never past the section's end, never a path.
    func testDebugLinkIsANameWithinItsSection() throws {
        let program = try HostileElf.program.value()
        XCTAssertEqual(ElfImage(path: program.path)?.debugLink, "spin.debug")
        let directory = try makeTemporaryDirectory(prefix: "tprof-hostile-debuglink")
        let variants = try HostileElf(path: program.path).variants().filter { $0.name.hasPrefix(".gnu_debuglink") }
        XCTAssertEqual(variants.count, 4)
        for (index, variant) in variants.enumerated() {
            let path = directory.file("variant-\(index)")
            try Data(variant.bytes).write(to: URL(fileURLWithPath: path))
            let image = try XCTUnwrap(ElfImage(path: path), variant.name)
            XCTAssertNil(image.debugLink, variant.name)
        }
    }

    /// The resolver's entry point over a recording whose samples fall in every corrupted file (one process each):
    /// every sampled address gets a row and a name.
    func testResolverNamesEverySampleInCorruptedFiles() throws {
        let program = try HostileElf.program.value()
        let original = try XCTUnwrap(ElfImage(path: program.path))
        let hot = try XCTUnwrap(original.symbols.first { $0.name == "hot_a" })
        let segment = try XCTUnwrap(original.loadSegments.first { hot.address >= $0.vaddr
            && hot.address - $0.vaddr < $0.fileSize })
        let hotOffset = hot.address - segment.vaddr + segment.offset
        let variants = try HostileElf(path: program.path).variants()
        let directory = try makeTemporaryDirectory(prefix: "tprof-hostile-resolver")
        let database = try RecordingDatabase(creating: directory.file("run.db"), force: false)
        let db = database.connection
        let start: UInt64 = 0x5555_0000_0000
        let pcs = [start + hotOffset, start, start + 0xfff_ffff, UInt64.max - 1]
        try db.execute("BEGIN")
        let mmap = try db.prepare("""
            INSERT INTO mmap_records (time, pid, tid, start, length, pgoff, prot, flags, filename, source)
            VALUES (0, ?, ?, ?, ?, 0, 5, 2, ?, 'proc')
            """)
        let counts = try db.prepare("""
            INSERT INTO sample_counts (pid, tid, cpu, event, mode, pc, stack_id, samples, period)
            VALUES (?, ?, 0, 0, 2, ?, 0, 1, 1)
            """)
        for (index, variant) in variants.enumerated() {
            let path = directory.file("variant-\(index)")
            try Data(variant.bytes).write(to: URL(fileURLWithPath: path))
            let pid = Int64(1000 + index)
            try mmap.run([.integer(pid), .integer(pid), .integer(Int64(start)), .integer(0x1000_0000), .text(path)])
            for pc in pcs { try counts.run([.integer(pid), .integer(pid), .integer(Int64(bitPattern: pc))]) }
        }
        try db.execute("COMMIT")

        let outcome = try SymbolResolution(database: db, useRunningKernel: false).run()

        XCTAssertEqual(outcome.addresses, variants.count * pcs.count)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM addresses WHERE name IS NULL OR name = ''"), 0)
        XCTAssertEqual(try db.scalarInt("SELECT count(DISTINCT pid) FROM symbol_counts"), Int64(variants.count))
        XCTAssertGreaterThan(outcome.withSymbol, 0, "corruption that spares the symbols still resolves them")
    }

    /// A mapped file replaced by a FIFO or a directory is skipped, not opened: opening a FIFO blocks for ever.
    func testAFifoOrDirectoryInPlaceOfAFileIsNotOpened() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-hostile-fifo")
        let fifo = directory.file("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)

        XCTAssertNil(ElfImage(path: fifo))
        XCTAssertNil(ElfImage(path: directory.path))
        XCTAssertNil(PerfMap(path: fifo))
        XCTAssertNil(openRegularFile(fifo))
    }

    /// Writes `lines` to a file of their own and returns its path.
    private func writeLines(_ lines: [String]) throws -> String {
        let path = try makeTemporaryDirectory(prefix: "tprof-hostile-text").file("lines")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testHostilePerfMapLinesGiveNamesOrNothing() throws {
        let path = try writeLines([
            "ffffffffffffff00 ffffffffffffffff wraps_past_the_end",
            "0x1000 0x100 jitted_function",
            "1000 0 empty",
            "zz 10 not_hex",
            "2000",
            "3000 10",
            "ffffffffffffffffffff 10 too_long",
            "-1 10 negative",
            "4000 10 " + String(repeating: "n", count: 100_000),
        ])
        let map = try XCTUnwrap(PerfMap(path: path))

        XCTAssertEqual(map.lookup(0x1080)?.name, "jitted_function")
        XCTAssertEqual(map.lookup(UInt64.max)?.name, "wraps_past_the_end")
        XCTAssertEqual(map.lookup(0x4005)?.name.count, 100_000)
        XCTAssertNil(map.lookup(0x1100))
        XCTAssertNil(map.lookup(0))
        XCTAssertNil(map.lookup(0x3000), "a line without a name is not an entry")
    }

    func testHostileKallsymsTextGivesSymbolsOrNothing() throws {
        let path = try writeLines([
            "ffffffff81000000 T _stext",
            "ffffffffffffffff T last_address",
            "123456789abcdef0123 T too_many_digits",
            "ffffffff81000100 T",
            "ffffffff81000200 t module_symbol\t[mod",
            "ffffffff81000300 t bracketed\t]mod[",
            "ffffffff81000400",
            "ffffffff81000500 T " + String(repeating: "k", count: 100_000),
            "",
            "0 T zero",
            "\u{0}\u{ff}\u{fe} T binary",
        ])

        let kernel = KernelSymbols(path: path)

        XCTAssertEqual(kernel.lookup(0xffff_ffff_8100_0010)?.name, "_stext")
        XCTAssertEqual(kernel.lookup(UInt64.max)?.name, "last_address")
        XCTAssertNil(kernel.lookup(0x1000))
        for address in boundaryValues { _ = kernel.lookup(address) }
    }

    private func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
