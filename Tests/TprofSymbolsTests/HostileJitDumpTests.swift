import Foundation
@testable import TprofSymbols
import TprofTestSupport
import XCTest

/// A jitdump is the JIT's file, in a directory anyone may write: one built here by the format is read as written
/// (names, moves, line tables, code bytes), and its truncations and seeded corruptions are read in this process
/// without a trap.
final class HostileJitDumpTests: XCTestCase {
    /// Little-endian fields of a dump, appended in order.
    private struct DumpBytes {
        var bytes: [UInt8] = []

        mutating func u32(_ value: UInt32) { bytes += (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        mutating func u64(_ value: UInt64) { bytes += (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        mutating func string(_ text: String) { bytes += Array(text.utf8) + [0] }

        /// A record: its prefix (kind, total size, timestamp) around what `body` appends.
        mutating func record(_ kind: UInt32, _ body: (inout DumpBytes) -> Void) {
            var inner = DumpBytes()
            body(&inner)
            u32(kind)
            u32(UInt32(16 + inner.bytes.count))
            u64(1)
            bytes += inner.bytes
        }
    }

    /// A header; `first` (0x1000, 0x40 bytes of code, two lines whose second file is `secondFile`, or the first's
    /// repeated) and `second` (0x2000, moved to 0x3000).
    private func sampleDump(secondFile: [UInt8] = [0xff]) -> [UInt8] {
        var dump = DumpBytes()
        dump.u32(JitDump.magic)
        dump.u32(1)
        dump.u32(40)
        dump.u32(62)
        dump.u32(0)
        dump.u32(42)
        dump.u64(0)
        dump.u64(0)
        dump.record(2) { info in
            info.u64(0x1000)
            info.u64(2)
            info.u64(0x1000)
            info.u32(10)
            info.u32(0)
            info.string("first.js")
            info.u64(0x1020)
            info.u32(12)
            info.u32(0)
            info.bytes += secondFile + [0]
        }
        for (address, name) in [(UInt64(0x1000), "first"), (0x2000, "second")] {
            dump.record(0) { load in
                load.u32(42)
                load.u32(42)
                load.u64(address)
                load.u64(address)
                load.u64(0x40)
                load.u64(address >> 12)
                load.string(name)
                load.bytes += [UInt8](repeating: 0x90, count: 0x40)
            }
        }
        dump.record(1) { move in
            move.u32(42)
            move.u32(42)
            move.u64(0x3000)
            move.u64(0x2000)
            move.u64(0x3000)
            move.u64(0x40)
            move.u64(2)
        }
        return dump.bytes
    }

    private func read(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> JitDump? {
        let path = directory.file("jit-42.dump")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return JitDump(path: path)
    }

    /// Everything the symbolizer asks of a dump, at and around each function it holds.
    private func exercise(_ dump: JitDump) {
        for code in dump.code {
            for address in [code.start, code.start &+ code.size &- 1, code.start &+ code.size, 0, UInt64.max] {
                if let found = dump.lookup(address) {
                    _ = dump.sourceLocation(of: address, in: found)
                    _ = dump.bytes(of: found)?.count
                }
            }
        }
    }

    func testADumpIsReadAsTheFormatSays() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-jitdump")
        let dump = try XCTUnwrap(try read(sampleDump(), in: directory))

        XCTAssertEqual(dump.lookup(0x1010)?.name, "first")
        XCTAssertEqual(dump.lookup(0x3010)?.name, "second", "moved code keeps its name")
        XCTAssertNil(dump.lookup(0x1040))
        let first = try XCTUnwrap(dump.lookup(0x1000))
        XCTAssertEqual(dump.sourceLocation(of: 0x1008, in: first)?.line, 10)
        XCTAssertEqual(dump.sourceLocation(of: 0x1030, in: first)?.file, "first.js", "\\xff repeats the file")
        XCTAssertEqual(dump.sourceLocation(of: 0x1030, in: first)?.line, 12)
        XCTAssertEqual(dump.bytes(of: first).map(Array.init), [UInt8](repeating: 0x90, count: 0x40))
        XCTAssertTrue(Symbolizer.isJitDump("/tmp/x/jit-42.dump"))
        XCTAssertFalse(Symbolizer.isJitDump("/tmp/x/jit-x.dump"))
    }

    func testALineTableWithANameNoSourceFileHasIsLeftOut() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-jitdump")
        // Names Node 20's V8 wrote from freed memory: control characters, bytes that are not UTF-8, nothing.
        for name in [Array("RC\u{3}".utf8), [0x7f], [0x20, 0x95, 0x01], [0xc3], []] as [[UInt8]] {
            let dump = try XCTUnwrap(try read(sampleDump(secondFile: name), in: directory))
            let first = try XCTUnwrap(dump.lookup(0x1000), "the code is named all the same")

            XCTAssertNil(dump.sourceLocation(of: 0x1008, in: first), "no line from a table named \(name)")
        }
        let dump = try XCTUnwrap(try read(sampleDump(secondFile: Array("node:internal/util".utf8)), in: directory))
        XCTAssertEqual(dump.sourceLocation(of: 0x1030, in: try XCTUnwrap(dump.lookup(0x1000)))?.file,
                       "node:internal/util")
    }

    func testTruncatedAndCorruptedDumpsAreReadWithoutATrap() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-jitdump")
        let original = sampleDump()
        for length in stride(from: 0, through: original.count, by: 3) {
            if let dump = try read(Array(original.prefix(length)), in: directory) { exercise(dump) }
        }
        var generator = SeededGenerator(seed: 19)
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let position = Int.random(in: 4..<bytes.count, using: &generator)
                bytes[position] = [0, 0xff, 0x7f, 0x80, UInt8.random(in: 0...255, using: &generator)]
                    .randomElement(using: &generator)!
            }
            if let dump = try read(bytes, in: directory) { exercise(dump) }
        }
    }
}
