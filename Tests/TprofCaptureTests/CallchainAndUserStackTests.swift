import TprofCapture
import XCTest

/// `callchain(in:)` and `userStack(in:)` read lengths written by the kernel, or by whatever wrote the ring: crafted
/// records check what they return for exact, truncated and oversize layouts.
final class CallchainAndUserStackTests: XCTestCase {
    /// PERF_CONTEXT_USER and PERF_CONTEXT_KERNEL, the markers a chain carries between its parts.
    private let userMarker: UInt64 = 0xffff_ffff_ffff_fe00
    private let kernelMarker: UInt64 = 0xffff_ffff_ffff_ff80
    private let registers = (1...17).map { UInt64($0) * 0x1111 }

    private func chain(_ bytes: [UInt8], decoder: PerfRecordDecoder = .init(event: 0, callchain: true)) -> [UInt64]? {
        bytes.withUnsafeBytes { record in
            decoder.callchain(in: record).map { entries in
                (0..<(entries.count / 8)).map { entries.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
            }
        }
    }

    private func userStack(_ bytes: [UInt8], callchain: Bool = false)
        -> (registers: [UInt64], stack: [UInt8])? {
        let decoder = PerfRecordDecoder(event: 0, callchain: callchain, userStack: true)
        return bytes.withUnsafeBytes { record in
            decoder.userStack(in: record).map { found in
                ((0..<(found.registers.count / 8)).map {
                    found.registers.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)
                }, Array(found.stack))
            }
        }
    }

    private func sample(chain ips: [UInt64], nr: UInt64? = nil, userStack: [UInt8] = []) -> [UInt8] {
        PerfRecordBytes.sample(ip: 0x40_1000, callchainCount: nr ?? UInt64(ips.count), ips: ips, userStack: userStack)
    }

    // MARK: callchain(in:)

    func testChainIsReturnedWithItsContextMarkers() {
        let ips = [kernelMarker, 0xffff_ffff_8100_0000, userMarker, 0x40_1000, 0x40_2000]
        XCTAssertEqual(chain(sample(chain: ips)), ips)
    }

    func testEmptyChainIsEmptyNotMissing() {
        XCTAssertEqual(chain(sample(chain: [])), [])
    }

    func testNoChainWithoutTheCallchainBit() {
        XCTAssertNil(chain(sample(chain: [0x40_1000]), decoder: .init(event: 0)))
    }

    func testChainClaimingMoreEntriesThanFollowIsRefused() {
        XCTAssertNil(chain(sample(chain: [0x40_1000, 0x40_2000], nr: 3)))
        XCTAssertNil(chain(sample(chain: [0x40_1000], nr: UInt64.max)), "a count that overflows when multiplied")
        XCTAssertNil(chain(sample(chain: [0x40_1000], nr: 1 << 61)), "a count whose byte size wraps to 0")
    }

    func testRecordCutBeforeTheCountHasNoChain() {
        let whole = sample(chain: [0x40_1000])
        for length in [8, 8 + 40, 8 + 40 + 7] {
            XCTAssertNil(chain(Array(whole.prefix(length))), "cut at \(length) bytes")
        }
    }

    // MARK: userStack(in:)

    func testRegistersAndTheDynamicPartOfTheStackCopy() throws {
        let stack: [UInt8] = Array(1...16)
        let part = PerfRecordBytes.userStack(registers: registers, size: 16, stack: stack, dynamicSize: 8)
        let found = try XCTUnwrap(userStack(sample(chain: [], userStack: part), callchain: true))
        XCTAssertEqual(found.registers, registers)
        XCTAssertEqual(found.stack, Array(1...8), "only the bytes the kernel says it copied")
    }

    func testUserStackAfterAChain() throws {
        let part = PerfRecordBytes.userStack(registers: registers, size: 8, stack: Array(repeating: 7, count: 8),
                                             dynamicSize: 8)
        let record = sample(chain: [userMarker, 0x40_1000, 0x40_2000], userStack: part)
        let found = try XCTUnwrap(userStack(record, callchain: true))
        XCTAssertEqual(found.registers, registers)
        XCTAssertEqual(found.stack, Array(repeating: 7, count: 8))
    }

    func testDynamicSizeAboveTheCopyIsCutToTheCopy() throws {
        let part = PerfRecordBytes.userStack(registers: registers, size: 8, stack: Array(1...8), dynamicSize: 1 << 40)
        XCTAssertEqual(try XCTUnwrap(userStack(sample(chain: [], userStack: part), callchain: true)).stack,
                       Array(1...8))
    }

    func testNoUserContextHasNoStack() {
        // A kernel thread: abi 0, no registers, a zero-sized copy.
        let part = PerfRecordBytes.userStack(abi: 0, registers: [], size: 0, stack: [], dynamicSize: 0)
        XCTAssertNil(userStack(sample(chain: [], userStack: part), callchain: true))
    }

    func testStackCopyClaimingMoreBytesThanFollowIsRefused() {
        let part = PerfRecordBytes.userStack(registers: registers, size: 64, stack: Array(1...16), dynamicSize: 16)
        XCTAssertNil(userStack(sample(chain: [], userStack: part), callchain: true))
        let huge = PerfRecordBytes.userStack(registers: registers, size: UInt64.max, stack: Array(1...16),
                                             dynamicSize: 16)
        XCTAssertNil(userStack(sample(chain: [], userStack: huge), callchain: true))
    }

    func testOversizeChainLeavesNoRoomForAUserStack() {
        let part = PerfRecordBytes.userStack(registers: registers, size: 8, stack: Array(1...8), dynamicSize: 8)
        XCTAssertNil(userStack(sample(chain: [0x40_1000], nr: UInt64.max, userStack: part), callchain: true))
    }

    func testTruncatedUserPartsAreRefused() {
        let part = PerfRecordBytes.userStack(registers: registers, size: 8, stack: Array(1...8), dynamicSize: 8)
        let whole = sample(chain: [], userStack: part)
        // Cut inside the abi, the registers, the size, the copy and the dynamic size.
        for cut in [4, 8 + 8 * 5, 8 + 17 * 8 + 4, 8 + 17 * 8 + 8 + 4, 8 + 17 * 8 + 8 + 8 + 4] {
            XCTAssertNil(userStack(Array(whole.prefix(whole.count - part.count + cut)), callchain: true),
                         "cut \(cut) bytes into the user part")
        }
    }

    func testNoUserStackWithoutItsBits() {
        let part = PerfRecordBytes.userStack(registers: registers, size: 8, stack: Array(1...8), dynamicSize: 8)
        sample(chain: [], userStack: part).withUnsafeBytes { record in
            XCTAssertNil(PerfRecordDecoder(event: 0, callchain: true).userStack(in: record))
        }
    }
}
