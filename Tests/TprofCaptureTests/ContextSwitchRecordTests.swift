import TprofCapture
import XCTest

/// The ring records of `tprof-record --off-cpu`, decoded from bytes laid out as the kernel writes them: the
/// `sched_switch` sample (call chain, then the tracepoint's raw fields), the `sched_waking` sample and the kernel's
/// switch records.
final class ContextSwitchRecordTests: XCTestCase {
    private typealias Bytes = PerfRecordBytes
    /// `prev_state`'s offset in sched_switch's fields on 6.18, `pid`'s in sched_waking's.
    private let switchOut = PerfRecordDecoder(event: 1, callchain: true, offCPU: .switchOut(stateOffset: 32))
    private let waking = PerfRecordDecoder(event: 2, offCPU: .waking(pidOffset: 24))

    /// PERF_SAMPLE_RAW: `u32 size` and `size` bytes, 4 + size a multiple of 8.
    private func raw(_ fields: [UInt8]) -> [UInt8] {
        var data = fields
        while (4 + data.count) % 8 != 0 { data.append(0) }
        return Bytes.le(UInt32(data.count)) + data
    }

    /// sched_switch's fields with `prev_state` at 32 (the rest zero).
    private func switchFields(prevState: UInt64) -> [UInt8] {
        [UInt8](repeating: 0, count: 32) + Bytes.le(prevState) + [UInt8](repeating: 0, count: 24)
    }

    private func switchSample(prevState: UInt64, userStack: [UInt8] = []) -> [UInt8] {
        Bytes.record(type: 9, misc: 1, body: Bytes.le(UInt64(0xffff_ffff_8100_0000)) + Bytes.le(Int32(100))
            + Bytes.le(Int32(101)) + Bytes.le(UInt64(7_000)) + Bytes.le(UInt32(1)) + Bytes.le(UInt32(0))
            + Bytes.le(UInt64(1)) + Bytes.le(UInt64(2)) + Bytes.le(UInt64(0xffff_ffff_8100_0000))
            + Bytes.le(UInt64(0x40_1000)) + raw(switchFields(prevState: prevState)) + userStack)
    }

    private func state(prevState: UInt64) -> OffCPUState? {
        let record = switchSample(prevState: prevState)
        return record.withUnsafeBytes { bytes -> OffCPUState? in
            guard case .sample(let sample) = switchOut.decode(bytes),
                  case .contextSwitch(let change)? = switchOut.switchOut(sample, in: bytes) else { return nil }
            XCTAssertEqual(change.tid, 101)
            XCTAssertEqual(change.time, 7_000)
            return change.state
        }
    }

    func testTheStateAThreadLeftInIsRead() {
        XCTAssertEqual(state(prevState: 0x1), .sleeping)
        XCTAssertEqual(state(prevState: 0x80), .sleeping, "an idle kernel thread (I)")
        XCTAssertEqual(state(prevState: 0x2), .uninterruptible)
        XCTAssertEqual(state(prevState: 0), .preempted)
        XCTAssertEqual(state(prevState: 0x100), .preempted, "TASK_REPORT_MAX: preempted while running")
        XCTAssertEqual(state(prevState: 0x4), .other, "stopped")
    }

    func testTheUserStackFollowsTheRawFields() throws {
        let decoder = PerfRecordDecoder(event: 1, callchain: true, userStack: true,
                                        offCPU: .switchOut(stateOffset: 32))
        let stack: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let record = switchSample(prevState: 1, userStack: Bytes.userStack(
            registers: Array(repeating: 7, count: PerfRecordDecoder.userRegisterCount), size: 8, stack: stack,
            dynamicSize: 8))
        let copied = record.withUnsafeBytes { decoder.userStack(in: $0).map { Array($0.stack) } }
        XCTAssertEqual(copied, stack)
    }

    func testAWakingNamesTheWakerAndTheWoken() {
        let fields = [UInt8](repeating: 0, count: 24) + Bytes.le(Int32(4242)) + [UInt8](repeating: 0, count: 8)
        let record = Bytes.record(type: 9, misc: 1, body: Bytes.le(UInt64(0xffff_ffff_8100_0000)) + Bytes.le(Int32(7))
            + Bytes.le(Int32(8)) + Bytes.le(UInt64(9_000)) + Bytes.le(UInt32(0)) + Bytes.le(UInt32(0))
            + Bytes.le(UInt64(1)) + raw(fields))
        let decoded = record.withUnsafeBytes { waking.decode($0) }
        XCTAssertEqual(decoded, .sideband(.waking(.init(time: 9_000, cpu: 0, wakerPID: 7, wakerTID: 8, tid: 4242))))
        // Raw fields too short for the pid: counted as malformed, never read past.
        let short = Bytes.record(type: 9, misc: 1, body: Array(record[8..<48]) + raw([1, 2, 3, 4]))
        XCTAssertEqual(short.withUnsafeBytes { waking.decode($0) }, .malformed(type: 9))
    }

    func testSwitchInsAreKeptAndSwitchOutsIgnored() {
        let id = Bytes.SampleID(pid: 5, tid: 6, time: 11_000, cpu: 1)
        let switchIn = Bytes.record(type: 14, body: Bytes.trailer(id))
        let switchOutRecord = Bytes.record(type: 14, misc: 1 << 13, body: Bytes.trailer(id))
        let cpuWideIn = Bytes.record(type: 15, body: Bytes.le(Int32(99)) + Bytes.le(Int32(98)) + Bytes.trailer(id))
        let expected = PerfRecord.sideband(.contextSwitch(.init(time: 11_000, cpu: 1, pid: 5, tid: 6, state: nil)))
        XCTAssertEqual(switchIn.withUnsafeBytes { switchOut.decode($0) }, expected)
        XCTAssertEqual(cpuWideIn.withUnsafeBytes { switchOut.decode($0) }, expected)
        XCTAssertEqual(switchOutRecord.withUnsafeBytes { switchOut.decode($0) }, .ignored(type: 14))
        // A ring of another event never asked for them.
        XCTAssertEqual(switchIn.withUnsafeBytes { PerfRecordDecoder(event: 0).decode($0) }, .ignored(type: 14))
        let truncated = Bytes.record(type: 15, body: Bytes.trailer(id))
        XCTAssertEqual(truncated.withUnsafeBytes { switchOut.decode($0) }, .malformed(type: 15))
    }
}
