import Foundation
@testable import TprofSymbols
import TprofTestSupport
import XCTest

/// The registers and stack copy of a `--call-graph dwarf` sample are the profiled program's: any stack pointer, any
/// frame pointer, any size. Unwinding them in this process never traps and always gives at least the sampled pc.
final class HostileStackCopyTests: XCTestCase {
    private static let registerCount = 17
    /// perf's register order: ax bx cx dx si di bp sp ip r8-r15.
    private static let bp = 6, sp = 7, ip = 8

    func testStackOffsetsStayInsideTheCopy() {
        let session = UnwindSession(pid: 1, mappings: [])
        let copy = [UInt8](repeating: 0xab, count: 16)
        copy.withUnsafeBytes { bytes in
            session.stack = bytes
            session.stackPointer = 0
            XCTAssertEqual(session.stackOffset(of: 0), 0)
            XCTAssertEqual(session.stackOffset(of: 8), 8)
            XCTAssertNil(session.stackOffset(of: 9), "8 bytes from 9 run past the copy")
            XCTAssertNil(session.stackOffset(of: 0x8000_0000_0000_0008), "a distance beyond Int.max")
            XCTAssertNil(session.stackOffset(of: UInt64.max))
            session.stackPointer = UInt64.max - 7
            XCTAssertEqual(session.stackOffset(of: UInt64.max - 7), 0)
            XCTAssertNil(session.stackOffset(of: 0), "below the stack pointer")
            session.stack = UnsafeRawBufferPointer(rebasing: bytes[0..<7])
            XCTAssertNil(session.stackOffset(of: UInt64.max - 7), "a copy shorter than one word")
        }
    }

    func testGarbageRegistersAndStacksUnwindWithoutTrap() throws {
        let program = try HostileElf.program.value().path
        let image = try XCTUnwrap(ElfImage(path: program))
        let hot = try XCTUnwrap(image.symbols.first { $0.name == "hot_a" })
        let start: UInt64 = 0x5555_0000_0000
        let mapping = MappingRecord(time: 0, start: start, end: start + 0x10_0000, pageOffset: 0, filename: program,
                                    buildID: nil)
        let session = UnwindSession(pid: 4242, mappings: [mapping])
        var generator = SeededGenerator(seed: 0xd3a4f)
        var unwound = 0
        for round in 0..<400 {
            var registers = (0..<Self.registerCount).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) }
            registers[Self.sp] = boundaryValues.randomElement(using: &generator) ?? 0
            registers[Self.bp] = boundaryValues.randomElement(using: &generator) ?? 0
            // Mostly inside hot_a, where the CFA is computed from the frame pointer after the prologue.
            registers[Self.ip] = round % 4 == 3 ? UInt64.random(in: 0...UInt64.max, using: &generator)
                : start + hot.address + UInt64.random(in: 0..<max(1, hot.size), using: &generator)
            let stackSize = [0, 7, 8, 64, 4096][round % 5]
            let stack = (0..<stackSize).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let registerBytes = registers.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
            let truncated = round % 10 == 9 ? Array(registerBytes.prefix(100)) : registerBytes
            let (frames, _) = truncated.withUnsafeBytes { registerBuffer in
                stack.withUnsafeBytes { stackBuffer in
                    session.unwind(registers: registerBuffer, stack: stackBuffer, maxFrames: 127)
                }
            }
            XCTAssertLessThanOrEqual(frames.count, 127, "round \(round)")
            if truncated.count == registerBytes.count {
                XCTAssertEqual(frames.first, registers[Self.ip], "round \(round): the sampled pc comes first")
                unwound += 1
            }
        }
        XCTAssertGreaterThan(unwound, 300)
    }
}
