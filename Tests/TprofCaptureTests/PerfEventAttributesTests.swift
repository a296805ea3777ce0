import CTprofLinux
@testable import TprofCapture
import XCTest

/// The `perf_event_attr` fields each recording option sets, read back from the one builder.
final class PerfEventAttributesTests: XCTestCase {
    private func configuration(_ target: PerfTarget, rate: SamplingRate = .frequency(999), maxStack: Int? = nil,
                               userStackSize: Int? = nil) -> PerfEventBackend.Configuration {
        .init(events: [], rate: rate, target: target, cpus: [0], ringPages: 8, flushInterval: 1,
              maxStack: maxStack, userStackSize: userStackSize)
    }

    private func sampling(_ configuration: PerfEventBackend.Configuration, event: String = "cycles",
                          sideband: Bool = true) throws -> perf_event_attr {
        PerfEventAttributes.sampling(try EventSpec.parse(event), configuration: configuration, sideband: sideband,
                                     dataSize: 32_768)
    }

    func testEventIsCreatedDisabledWithItsModesAndNeverTheHypervisor() throws {
        let attr = PerfEventAttributes.event(try EventSpec.parse("page-faults:k"))
        XCTAssertEqual(attr.size, UInt32(MemoryLayout<perf_event_attr>.size))
        XCTAssertEqual([attr.type, UInt32(attr.config)], [1, 2])
        XCTAssertEqual([attr.disabled, attr.exclude_user, attr.exclude_kernel, attr.exclude_hv], [1, 1, 0, 1])
    }

    func testCommandEventsFollowChildrenFromExecOn() throws {
        let attr = try sampling(configuration(.command(pid: 42)))
        XCTAssertEqual([attr.inherit, attr.enable_on_exec], [1, 1])
    }

    func testAttachedEventsFollowChildrenButAreEnabledByTheRecorder() throws {
        let attr = try sampling(configuration(.threads([42, 43])))
        XCTAssertEqual([attr.inherit, attr.enable_on_exec], [1, 0])
    }

    func testSystemWideEventsNeitherInheritNorWaitForExec() throws {
        let attr = try sampling(configuration(.systemWide))
        XCTAssertEqual([attr.inherit, attr.enable_on_exec], [0, 0])
    }

    func testFrequencyOrPeriod() throws {
        let byFrequency = try sampling(configuration(.systemWide, rate: .frequency(4000)))
        XCTAssertEqual(byFrequency.freq, 1)
        XCTAssertEqual(byFrequency.sample_freq, 4000)
        let byPeriod = try sampling(configuration(.systemWide, rate: .period(100_000)))
        XCTAssertEqual(byPeriod.freq, 0)
        XCTAssertEqual(byPeriod.sample_period, 100_000)
    }

    func testSamplesAreStampedWithTheMonotonicClockTheDecoderExpects() throws {
        let attr = try sampling(configuration(.systemWide))
        XCTAssertEqual(attr.sample_type, PerfRecordDecoder.sampleType)
        XCTAssertEqual([attr.use_clockid, attr.sample_id_all], [1, 1])
        XCTAssertEqual(attr.clockid, CLOCK_MONOTONIC)
        XCTAssertEqual(attr.wakeup_watermark, 8192, "a quarter of the ring")
    }

    func testCallChainsAndStackCopiesAskForTheirParts() throws {
        let chains = try sampling(configuration(.systemWide, maxStack: 300))
        XCTAssertEqual(chains.sample_type, PerfRecordDecoder.sampleType | PerfRecordDecoder.callchainBit)
        XCTAssertEqual(chains.sample_max_stack, 300)
        XCTAssertEqual(chains.exclude_callchain_user, 0)

        let dwarf = try sampling(configuration(.systemWide, maxStack: 127, userStackSize: 8192))
        XCTAssertEqual(dwarf.sample_type, PerfRecordDecoder.sampleType | PerfRecordDecoder.callchainBit
            | PerfRecordDecoder.userRegistersBit | PerfRecordDecoder.userStackBit)
        XCTAssertEqual(dwarf.sample_regs_user, PerfRecordDecoder.userRegisterMask)
        XCTAssertEqual(dwarf.sample_stack_user, 8192)
        XCTAssertEqual(dwarf.exclude_callchain_user, 1, "the user part comes from unwinding the copy")
    }

    func testOnlyTheSidebandEventReportsMappingsNamesAndTasks() throws {
        let first = try sampling(configuration(.systemWide), sideband: true)
        XCTAssertEqual([first.mmap, first.mmap2, first.comm, first.comm_exec, first.task], [1, 1, 1, 1, 1])
        XCTAssertEqual(first.build_id, 0, "the kernel's shared MMAP2 flag would crash a concurrent perf")
        let other = try sampling(configuration(.systemWide), sideband: false)
        XCTAssertEqual([other.mmap, other.mmap2, other.comm, other.comm_exec, other.task], [0, 0, 0, 0, 0])
    }

    func testProbeOpensAnEventEveryMachineHas() {
        XCTAssertNoThrow(try PerfEventBackend.probe(try EventSpec.parse("cpu-clock")))
    }
}
