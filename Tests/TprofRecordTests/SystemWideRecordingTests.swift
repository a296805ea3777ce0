import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// `tprof-record -a` samples every task on the chosen CPUs.
final class SystemWideRecordingTests: XCTestCase {
    func testSystemWideRecordingIncludesARunningSpinner() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-a")
        let spin = try workspace.spin(named: name)
        let output = workspace.file("system.db")
        let spinner = try ChildProcess(executable: spin, arguments: ["20"])
        XCTAssertTrue(Processes.waitUntil(timeout: 10) { Processes.alive(named: name) == [spinner.pid] })

        let result = try Tool.record.run(["-o", output, "-a", "-d", "1"])
        spinner.send(SIGKILL)

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "complete")
        XCTAssertEqual(try database.scalarText("SELECT target FROM run"), "system")
        XCTAssertGreaterThanOrEqual(
            try database.scalarInt("SELECT COUNT(*) FROM samples WHERE pid = \(spinner.pid)"), 200)
        XCTAssertEqual(try database.scalarText("SELECT comm FROM processes WHERE pid = \(spinner.pid)"), name)
        let onlineCPUs = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM counters"), Int64(onlineCPUs),
                       "one counters row per online CPU")
    }

    func testDurationCountsFromWhenTheEventsAreEnabled() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("duration.db")

        // -a first snapshots every process, which can take a good part of a second on a loaded machine: -d must
        // not count that time.
        let result = try Tool.record.run(["-q", "-o", output, "-e", "cpu-clock", "-a", "-C", "0", "-d", "0.5"])

        XCTAssertEqual(result.status, 0, result.summary)
        let enabled = try Database(path: output).scalarInt("SELECT time_enabled_ns FROM events")
        XCTAssertGreaterThanOrEqual(enabled, 500_000_000, "the event on CPU 0 was enabled for all of -d 0.5")
    }

    func testCPUListLimitsSamplesToThoseCPUs() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-c")
        let spin = try workspace.spin(named: name)
        let output = workspace.file("cpu0.db")
        // One spinner per CPU keeps CPU 0 busy wherever the scheduler puts them.
        let spinners = try (0..<2).map { _ in try ChildProcess(executable: spin, arguments: ["20"]) }
        XCTAssertTrue(Processes.waitUntil(timeout: 10) { Processes.alive(named: name).count == 2 })

        let result = try Tool.record.run(["-o", output, "-C", "0", "-a", "-d", "1"])
        for spinner in spinners { spinner.send(SIGKILL) }

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "complete")
        XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE cpu = 0"), 100)
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE cpu != 0"), 0)
        XCTAssertEqual(try database.scalarText("SELECT cpus FROM run"), "0")
        XCTAssertEqual(try database.ints("SELECT cpu FROM counters"), [0])
    }
}
