import Foundation
import Glibc
import TprofCapture
import TprofSynthetic
import TprofStore
import TprofTestSupport
import XCTest

/// More samples than the writer can take: buffers are dropped, never silently, and memory stays bounded.
final class OverloadTests: XCTestCase {
    /// The synthetic backend floods a tiny buffer list faster than the writer commits: the counters in the
    /// database account for every sample generated, exactly, per CPU.
    func testSyntheticFloodIsAccountedForExactly() throws {
        let workspace = try FaultWorkspace(for: self)
        let configurations: [(bufferLimit: Int, bufferSamples: Int)] = [(1, 64), (2, 128), (1, 256)]
        let samplesPerCPU: UInt64 = 150_000
        for (index, configuration) in configurations.enumerated() {
            let output = workspace.file("flood-\(index).db")
            let context = "flood with --buffer-limit \(configuration.bufferLimit), "
                + "--buffer-samples \(configuration.bufferSamples)"
            let recording = SyntheticRecording(
                output: output, cpus: [0, 1], samplesPerCPU: samplesPerCPU, rate: 0,
                bufferSamples: configuration.bufferSamples, bufferLimit: configuration.bufferLimit,
                flushIntervalMs: 1)

            let result = try recording.run(finish: false)

            for stats in result.statistics {
                let c = stats.counters
                XCTAssertEqual(c.read, samplesPerCPU, "\(context): CPU \(stats.cpu) generated them all")
                XCTAssertEqual(c.read, stats.written + c.overflow + c.dropbufSample + stats.unwritten,
                               "\(context): CPU \(stats.cpu): \(stats)")
            }
            XCTAssertGreaterThan(result.total.dropbuf, 0, "\(context): the writer must really have fallen behind")
            let database = try Database(path: output)
            try assertExactAccounting(database, context)
            XCTAssertEqual(try database.scalarInt("SELECT SUM(read) FROM counters"), Int64(samplesPerCPU) * 2, context)
            XCTAssertGreaterThan(try database.scalarInt("SELECT SUM(dropbuf) FROM counters"), 0, context)
            XCTAssertEqual(try database.scalarInt("SELECT SUM(written) FROM counters"), Int64(result.written), context)
            print("synthetic flood \(index) (limit \(configuration.bufferLimit), \(configuration.bufferSamples) "
                + "samples a buffer): read \(result.total.read), written \(result.written), dropbuf "
                + "\(result.total.dropbuf) buffers / \(result.total.dropbufSample) samples, overflow \(result.total.overflow)")
        }
        print("synthetic overload: \(configurations.count) cases")
    }

    /// The real backend at the kernel's maximum rate, system-wide, with both CPUs busy and a one-buffer list:
    /// tprof drops buffers, the kernel loses samples in its one-page rings, and every sample is still accounted for.
    func testMaximumRateSystemWideWithATinyListAccountsForEverySample() throws {
        let workspace = try FaultWorkspace(for: self)
        let name = FaultWorkspace.uniqueName("ovl-spin")
        let spin = try workspace.spin(named: name)
        let spinners = try (0..<2).map { _ in try ChildProcess(executable: spin, arguments: ["30"]) }
        defer { spinners.forEach { $0.send(SIGKILL) } }
        XCTAssertTrue(Processes.waitUntil(timeout: 10) { Processes.alive(named: name).count == 2 })
        let output = workspace.file("max-rate.db")

        var rate = try kernelInteger("kernel/perf_event_max_sample_rate")
        var result = try Tool.record.run(["-o", output, "-a", "-d", "2", "-F", "\(rate)", "--buffer-limit", "1",
                                          "--buffer-samples", "64", "-m", "1"], timeout: 120)
        if result.status != 0 && result.stderr.contains("perf_event_max_sample_rate") {
            // The kernel lowers its maximum by itself when sampling interrupts take too long: use the new one.
            rate = try kernelInteger("kernel/perf_event_max_sample_rate")
            result = try Tool.record.run(["-o", output, "--force", "-a", "-d", "2", "-F", "\(rate)", "--buffer-limit",
                                          "1", "--buffer-samples", "64", "-m", "1"], timeout: 120)
        }

        assertNoTrap(result, "max rate")
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertTrue(result.stderr.contains("WARNING: samples were lost"), "the summary warns loudly\n\(result.summary)")
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "complete")
        try assertExactAccounting(database, "max rate \(rate) Hz")
        let rows = try CounterRow.all(database)
        XCTAssertEqual(rows.map(\.cpu), [0, 1])
        let total = (read: rows.reduce(0) { $0 + $1.read }, written: rows.reduce(0) { $0 + $1.written },
                     dropbuf: rows.reduce(0) { $0 + $1.dropbuf }, dropped: rows.reduce(0) { $0 + $1.dropbufSample },
                     kernelLost: rows.reduce(0) { $0 + $1.kernelLost },
                     kernelLostSamples: rows.reduce(0) { $0 + $1.kernelLostSamples })
        XCTAssertGreaterThan(total.dropbuf, 0, "a one-buffer list at the maximum rate must drop buffers")
        XCTAssertGreaterThan(total.kernelLost + total.kernelLostSamples, 0,
                             "one-page rings at the maximum rate must overflow, and the kernel's losses be counted")
        let stat = try Tool.report.run([output, "--stat"])
        assertNoTrap(stat, "--stat")
        XCTAssertEqual(stat.status, 0, stat.summary)
        XCTAssertTrue(stat.stdout.contains("kernel_lost \(total.kernelLost)"), stat.summary)
        print("max rate \(rate) Hz, -a -d 2, --buffer-limit 1 --buffer-samples 64 -m 1: read \(total.read), "
            + "written \(total.written), dropbuf \(total.dropbuf) buffers / \(total.dropped) samples, "
            + "kernel_lost \(total.kernelLost), kernel_lost_samples \(total.kernelLostSamples)")
        print("real-backend overload: 1 case")
    }

    /// Peak resident memory of tprof-record at a high rate with call chains stays under a fixed bound, and a run
    /// twice as long does not need materially more: the buffer budget bounds it, not the run's length.
    func testPeakMemoryIsBoundedAndDoesNotGrowWithTheRunsLength() throws {
        let workspace = try FaultWorkspace(for: self)
        let rate = try kernelInteger("kernel/perf_event_max_sample_rate")
        let boundKB = 100 * 1024
        var peaks: [Int: Int] = [:]
        for seconds in [3, 6] {
            let output = workspace.file("rss-\(seconds).db")
            let name = FaultWorkspace.uniqueName("rss-\(seconds)")
            let spin = try workspace.spin(named: name)
            let recorder = try Tool.record.start(["-q", "-o", output, "-g", "-F", "\(rate)", "-d", "\(seconds)",
                                                  "--", spin, "30"])
            var spinPID: Int32?
            var peak = 0
            // The peak while samples are captured (until -d ends the command), before the database is finished.
            var capturePeak: Int?
            while recorder.isRunning {
                if let kilobytes = peakResidentKilobytes(of: recorder.pid) { peak = max(peak, kilobytes) }
                if spinPID == nil { spinPID = Processes.alive(named: name).first }
                if capturePeak == nil, let spinPID, !Processes.isAlive(spinPID) { capturePeak = peak }
                usleep(20_000)
            }
            let result = try recorder.waitForExit(timeout: 60)
            assertNoTrap(result, "rss \(seconds) s")
            XCTAssertEqual(result.status, 128 + SIGTERM, "the command is ended by SIGTERM after -d\n\(result.summary)")
            let database = try Database(path: output)
            try assertExactAccounting(database, "rss \(seconds) s")
            let samples = try database.scalarInt("SELECT COUNT(*) FROM samples")
            let dropped = try database.scalarInt("SELECT SUM(dropbuf_sample + overflow) FROM counters")
            peaks[seconds] = peak
            print("peak RSS (VmHWM) of tprof-record -g -F \(rate) -d \(seconds): \(peak / 1024) MB in all, "
                + "\(capturePeak.map { "\($0 / 1024) MB" } ?? "?") while capturing "
                + "(\(samples) samples written, \(dropped) dropped)")
            XCTAssertGreaterThan(peak, 0, "VmHWM was read")
            XCTAssertLessThan(peak, boundKB, "peak RSS \(peak) kB for \(seconds) s is above the \(boundKB / 1024) MB bound")
        }
        let short = peaks[3] ?? 0
        let long = peaks[6] ?? 0
        XCTAssertLessThanOrEqual(long, short * 12 / 10 + 8 * 1024,
                                 "a run twice as long needs \(long) kB against \(short) kB: memory grows with time")
        print("memory: 2 cases")
    }

    /// A buffer that fills by its call chains stays within the storage reserved for it: the last chain appended
    /// never makes the frame array grow (and double), which would break the memory budget.
    func testFullBuffersStayWithinTheirReservedStorage() throws {
        var cases = 0
        for chainLength in [3, 17, 40, 127, 300, 1024, 1024 + 8] {
            let frameCapacity = 64 * 16
            let buffer = SampleBuffer(cpu: 0, capacity: 64, frameCapacity: frameCapacity)
            let reserved = buffer.frameStorageCapacity
            let chain = [UInt64](repeating: 0x4000, count: chainLength)
            let sample = Sample(time: 1, pid: 1, tid: 1, cpu: 0, event: 0, mode: .user, pc: 0x4000, period: 1)
            while !buffer.isFull {
                chain.withUnsafeBytes { buffer.append(sample, callchain: $0) }
            }
            XCTAssertEqual(buffer.frameStorageCapacity, reserved,
                           "a chain of \(chainLength) frames grew the frame storage from \(reserved) to "
                               + "\(buffer.frameStorageCapacity) frames")
            cases += 1
        }
        print("full-buffer storage: \(cases) cases")
    }
}
