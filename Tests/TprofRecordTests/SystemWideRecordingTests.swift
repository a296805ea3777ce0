import Foundation
import Glibc
import TprofStore
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
        try assertSampledAtRequestedRate(database, pid: spinner.pid)
        XCTAssertEqual(try database.scalarText("SELECT comm FROM processes WHERE pid = \(spinner.pid)"), name)
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM processes WHERE pid = 0 AND comm IS NOT 'swapper'"),
                       0, "the idle task is named swapper, as perf names it")
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
        try assertSampledAtRequestedRate(database, where: "cpu = 0")
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE cpu != 0"), 0)
        XCTAssertEqual(try database.scalarText("SELECT cpus FROM run"), "[0]")
        XCTAssertEqual(try database.ints("SELECT cpu FROM counters"), [0])
    }

    /// Processes that start while `-a` is starting up (before, during and after its scan of /proc) are all named
    /// and their samples resolved: the events are enabled before /proc is read, so no process falls between the two.
    func testProcessesStartedAroundLaunchAreNamedAndResolved() throws {
        let workspace = try RecordingWorkspace(for: self)
        let base = RecordingWorkspace.uniqueName("gap")
        let spin = try workspace.spin(named: base)
        let output = workspace.file("gap.db")
        let recorder = try ChildProcess(executable: try Tool.record.path(), arguments: ["-q", "-o", output, "-a",
                                                                                        "-d", "2"])
        var spinners: [(name: String, process: ChildProcess)] = []
        defer { for spinner in spinners { spinner.process.send(SIGKILL) } }
        for index in 0...20 {
            // The same program under 21 names: a hard link's name is the process's comm.
            let name = String((base.prefix(10) + "-" + String(index)).prefix(15))
            let path = workspace.file(name)
            XCTAssertEqual(link(spin, path), 0, "link \(path)")
            spinners.append((name, try ChildProcess(executable: path, arguments: ["30"])))
            usleep(10_000)
        }
        // Finishing names every process on the machine with the debug build's symbolizer: with a compiler running
        // beside the tests (its 200 MB binary sampled) that alone took 30 s; this test is about names, not time.
        let result = try recorder.waitForExit(timeout: 180)
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)

        let database = try Database(path: output)
        for (index, spinner) in spinners.enumerated() {
            let context = "the spinner started \(index * 10) ms after tprof-record -a (pid \(spinner.process.pid))"
            XCTAssertEqual(try database.scalarText("SELECT comm FROM processes WHERE pid = \(spinner.process.pid)"),
                           spinner.name, context)
            let samples = try database.scalarInt("SELECT COUNT(*) FROM samples WHERE pid = \(spinner.process.pid)")
            XCTAssertGreaterThan(samples, 0, context)
            let names = try database.rows("""
                SELECT DISTINCT a.name FROM symbol_counts c JOIN addresses a ON a.id = c.address_id
                WHERE c.pid = \(spinner.process.pid) AND c.mode = 2
                """).compactMap { row -> String? in
                    if case .text(let name)? = row.first { return name }
                    return nil
                }
            XCTAssertTrue(names.contains("hot_a") || names.contains("hot_b"), "\(context): \(names)")
            XCTAssertFalse(names.contains { $0.hasPrefix("[unknown]") }, "\(context): unknown addresses \(names)")
        }
    }
}
