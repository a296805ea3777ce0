import TprofCapture
import XCTest

/// PerfRecordDecoder reads every field of the records tprof asks the kernel for.
final class PerfRecordDecoderTests: XCTestCase {
    private let id = PerfRecordBytes.SampleID(pid: 4242, tid: 4243, time: 987_654_321, cpu: 3)

    func testKernelSampleCarriesEveryFieldAndTheEventIndex() {
        let bytes = PerfRecordBytes.sample(ip: 0xffff_ffff_8123_4567, pid: 4242, tid: 4243, time: 123_456_789_012,
                                           cpu: 1, period: 1_001_001, cpuMode: 1)

        XCTAssertEqual(decode(bytes, event: 3), .sample(Sample(
            time: 123_456_789_012, pid: 4242, tid: 4243, cpu: 1, event: 3, mode: .kernel,
            pc: 0xffff_ffff_8123_4567, period: 1_001_001)))
    }

    func testUserSample() {
        let bytes = PerfRecordBytes.sample(ip: 0x5555_5555_1234, pid: 7, tid: 8, time: 42, cpu: 0, period: 1,
                                           cpuMode: 2)

        XCTAssertEqual(decode(bytes), .sample(Sample(time: 42, pid: 7, tid: 8, cpu: 0, event: 0, mode: .user,
                                                     pc: 0x5555_5555_1234, period: 1)))
    }

    func testCPUModeComesFromTheLowBitsOfMisc() {
        func mode(_ misc: UInt16) -> SampleMode? {
            let bytes = PerfRecordBytes.sample(ip: 1, pid: 1, tid: 1, time: 1, cpu: 0, period: 1, cpuMode: misc)
            if case .sample(let sample) = decode(bytes) { return sample.mode }
            return nil
        }

        XCTAssertEqual(mode(3), .hypervisor)
        XCTAssertEqual(mode(4), .guestKernel)
        XCTAssertEqual(mode(5), .guestUser)
        XCTAssertEqual(mode(0), .unknown)
        XCTAssertEqual(mode(7), .unknown)
        XCTAssertEqual(mode(2 | 1 << 14), .user, "bits above the CPU mode mask must be ignored")
    }

    func testCommOnExecTakesItsTimeFromTheTrailer() {
        let bytes = PerfRecordBytes.comm(pid: 4242, tid: 4243, name: "spin", exec: true, id: id)

        XCTAssertEqual(decode(bytes), .sideband(.comm(time: 987_654_321, pid: 4242, tid: 4243, name: "spin",
                                                      exec: true, source: .kernel)))
    }

    func testCommWithAFifteenByteNameAndNoExec() {
        let bytes = PerfRecordBytes.comm(pid: 1, tid: 2, name: "worker-thread-1", exec: false, id: id)

        XCTAssertEqual(decode(bytes), .sideband(.comm(time: 987_654_321, pid: 1, tid: 2, name: "worker-thread-1",
                                                      exec: false, source: .kernel)))
    }

    func testMmap2WithDeviceAndInode() {
        let bytes = PerfRecordBytes.mmap2(
            pid: 4242, tid: 4243, start: 0x7f00_0000_0000, length: 0x21_000, pageOffset: 0x1000, major: 8,
            minor: 17, inode: 1_234_567, inodeGeneration: 99, protection: 5, flags: 2,
            filename: "/usr/lib/x86_64-linux-gnu/libc.so.6", id: id)

        XCTAssertEqual(decode(bytes), .sideband(.mmap(SidebandRecord.Mapping(
            time: 987_654_321, pid: 4242, tid: 4243, start: 0x7f00_0000_0000, length: 0x21_000, pageOffset: 0x1000,
            major: 8, minor: 17, inode: 1_234_567, inodeGeneration: 99, buildID: nil, protection: 5, flags: 2,
            filename: "/usr/lib/x86_64-linux-gnu/libc.so.6", source: .kernel))))
    }

    func testMmap2WithBuildID() {
        let buildID: [UInt8] = (0..<20).map { UInt8($0 * 13 + 1) }
        let bytes = PerfRecordBytes.mmap2(
            pid: 5, tid: 6, start: 0x40_0000, length: 0x2000, pageOffset: 0, buildID: buildID, protection: 5,
            flags: 2, filename: "/tmp/spin", id: id)

        XCTAssertEqual(decode(bytes), .sideband(.mmap(SidebandRecord.Mapping(
            time: 987_654_321, pid: 5, tid: 6, start: 0x40_0000, length: 0x2000, pageOffset: 0, major: nil,
            minor: nil, inode: nil, inodeGeneration: nil,
            buildID: "010e1b2835424f5c697683909daab7c4d1deebf8", protection: 5, flags: 2,
            filename: "/tmp/spin", source: .kernel))))
    }

    func testMmap2WithAShortBuildIDUsesOnlyItsLength() {
        let bytes = PerfRecordBytes.mmap2(
            pid: 5, tid: 6, start: 0x40_0000, length: 0x2000, pageOffset: 0, buildID: Array(repeating: 0xab, count: 16),
            protection: 5, flags: 2, filename: "a", id: id)

        guard case .sideband(.mmap(let mapping)) = decode(bytes) else {
            return XCTFail("expected a mapping, got \(decode(bytes))")
        }
        XCTAssertEqual(mapping.buildID, String(repeating: "ab", count: 16))
        XCTAssertEqual(mapping.filename, "a")
    }

    func testForkAndExitTakeTheirOwnTimeNotTheTrailers() {
        let fork = PerfRecordBytes.task(type: 7, pid: 300, ppid: 200, tid: 301, ptid: 201, time: 77, id: id)
        let exit = PerfRecordBytes.task(type: 4, pid: 300, ppid: 200, tid: 301, ptid: 201, time: 88, id: id)

        XCTAssertEqual(decode(fork), .sideband(.fork(time: 77, pid: 300, ppid: 200, tid: 301, ptid: 201)))
        XCTAssertEqual(decode(exit), .sideband(.exit(time: 88, pid: 300, ppid: 200, tid: 301, ptid: 201)))
    }

    func testLostLostSamplesThrottleAndUnthrottle() {
        XCTAssertEqual(decode(PerfRecordBytes.lost(id: 12, lost: 345, id: id)), .lost(345))
        XCTAssertEqual(decode(PerfRecordBytes.lostSamples(678, id: id)), .lostSamples(678))
        XCTAssertEqual(decode(PerfRecordBytes.throttle(type: 5, time: 1, id: id)), .throttle)
        XCTAssertEqual(decode(PerfRecordBytes.throttle(type: 6, time: 1, id: id)), .unthrottle)
    }

    func testUnknownTypesAreIgnoredAndTruncatedRecordsAreMalformed() {
        let truncatedSample = PerfRecordBytes.record(type: 9, misc: 2, body: [UInt8](repeating: 0, count: 16))
        let truncatedComm = PerfRecordBytes.record(type: 3, body: [UInt8](repeating: 0, count: 16))
        let truncatedMmap2 = PerfRecordBytes.record(type: 10, body: [UInt8](repeating: 0, count: 40))

        XCTAssertEqual(decode(PerfRecordBytes.record(type: 99, body: [1, 2, 3, 4, 5, 6, 7, 8])), .ignored(type: 99))
        XCTAssertEqual(decode(truncatedSample), .malformed(type: 9))
        XCTAssertEqual(decode(truncatedComm), .malformed(type: 3))
        XCTAssertEqual(decode(truncatedMmap2), .malformed(type: 10))
        XCTAssertEqual(decode([9, 0, 0, 0]), .malformed(type: 0))
    }
}
