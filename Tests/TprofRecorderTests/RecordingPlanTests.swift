import TprofCapture
import TprofRecorder
import XCTest

/// The plan a recording starts from, checked without opening any perf event: the probe is a stand-in.
final class RecordingPlanTests: XCTestCase {
    private func options(events: [String] = [], frequency: UInt64? = nil, period: UInt64? = nil,
                         cpus: [Int]? = nil, duration: Double? = nil) -> RecordOptions {
        RecordOptions(output: "plan.db", force: false, events: events, frequency: frequency, period: period,
                      target: .systemWide, cpus: cpus, duration: duration, flushIntervalMs: 125, bufferSamples: nil,
                      bufferLimit: nil, ringPages: 128, quiet: true, commandLine: ["tprof-record"])
    }

    private func machine(cycles: Bool = true, maxSampleRate: Int? = 100_000) -> RecordingPlan.Machine {
        RecordingPlan.Machine(onlineCPUs: [0, 1, 2, 3], maxSampleRate: maxSampleRate) { (event: EventSpec) throws(SystemError) in
            if !cycles && event.baseName == "cycles" { throw SystemError("perf_event_open", errno: ENOENT) }
        }
    }

    private func refusal(_ options: RecordOptions, on machine: RecordingPlan.Machine? = nil) -> String? {
        do {
            _ = try RecordingPlan(options, on: machine ?? self.machine())
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testDefaultEventIsCyclesWhereTheMachineHasIt() throws {
        let plan = try RecordingPlan(options(), on: machine())
        XCTAssertEqual(plan.events.map(\.name), ["cycles"])
        XCTAssertNil(plan.eventNote)
        XCTAssertEqual(plan.cpus, [0, 1, 2, 3])
        XCTAssertEqual(plan.ringPages, 128)
        XCTAssertEqual(plan.flushInterval, 125_000_000)
    }

    func testDefaultEventFallsBackToCPUClockAndSaysWhy() throws {
        let plan = try RecordingPlan(options(), on: machine(cycles: false))
        XCTAssertEqual(plan.events.map(\.name), ["cpu-clock"])
        XCTAssertEqual(plan.eventNote, "cycles is not available on this machine (No such file or directory); "
            + "using cpu-clock")
    }

    func testGivenEventsAreNotProbed() throws {
        let plan = try RecordingPlan(options(events: ["cycles:u", "page-faults"]), on: machine(cycles: false))
        XCTAssertEqual(plan.events.map(\.name), ["cycles:u", "page-faults"])
        XCTAssertNil(plan.eventNote)
    }

    func testRefusals() {
        XCTAssertEqual(refusal(options(events: ["nonsense"])),
                       "unknown event 'nonsense' (run 'tprof-record --list-events' for the events this machine has)")
        XCTAssertEqual(refusal(options(period: 0)), "bad period 0 for -c: it must be at least 1")
        XCTAssertEqual(refusal(options(frequency: 0)), "bad frequency 0 for -F: it must be at least 1")
        XCTAssertEqual(refusal(options(frequency: 200_000)),
                       "-F 200000 is above kernel.perf_event_max_sample_rate (100000); use -F 100000 or less, or "
                       + "raise it with 'sysctl kernel.perf_event_max_sample_rate=200000'")
        XCTAssertNil(refusal(options(frequency: 200_000), on: machine(maxSampleRate: nil)),
                     "an unreadable maximum is not a refusal")
        XCTAssertEqual(refusal(options(cpus: [1, 7])), "CPU 7 is not online (online: 0,1,2,3)")
        XCTAssertEqual(refusal(options(duration: 0)),
                       "bad duration 0.0 for -d: it must be a positive number of seconds")
        XCTAssertEqual(refusal(options(duration: 2e9)),
                       "bad duration 2000000000.0 for -d: it must be a positive number of seconds")
    }

    func testGivenCPUsAreSampledAndSizeTheBuffers() throws {
        let plan = try RecordingPlan(options(cpus: [2]), on: machine())
        XCTAssertEqual(plan.cpus, [2])
        XCTAssertEqual(plan.buffers, try BufferPlan(.init(
            bufferSamples: nil, bufferLimit: nil, frequency: RecordOptions.defaultFrequency, flushIntervalMs: 125,
            callChains: false, userStackSize: nil, cpuCount: 1)))
    }

    func testStackCopiesGetLargerRingsUnlessMIsGiven() throws {
        var dwarf = options()
        dwarf.userStackSize = 8192
        dwarf.ringPagesGiven = false
        XCTAssertEqual(try RecordingPlan(dwarf, on: machine()).ringPages, 512)
        dwarf.ringPagesGiven = true
        XCTAssertEqual(try RecordingPlan(dwarf, on: machine()).ringPages, 128)
    }
}
