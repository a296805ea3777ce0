import Foundation
import TprofTestSupport
import XCTest

/// `tprof-record --off-cpu` on the workload of issue 17: where its threads wait, for how long and why, against the
/// design, against their lifetime, and against perf's sched_switch method on the same execution.
final class OffCPUTimeTests: XCTestCase {
    /// `--call-graph dwarf`: full chains through Debian's libc, which has no frame pointers.
    static func dwarf() throws -> OffCPUWorkbench.Recording {
        try OffCPUWorkbench.recording("dwarf", options: ["--call-graph", "dwarf"])
    }

    /// `-g`, recorded through `perf record -a -e sched:sched_switch -g`, which records the same execution.
    static func framePointers() throws -> OffCPUWorkbench.Recording {
        try OffCPUWorkbench.recording("fp", options: ["-g"], underPerf: true)
    }

    func testOffCPUTimePerFunctionIsTheDesignedTime() throws {
        let stacks = try OffCPUWorkbench.offCPUStacks(try Self.dwarf().database)
        let designed: [(frames: [String], seconds: Double)] = [
            (["main", "nap"], OffCPUWorkload.napSeconds),
            (["main", "wait_pipe", "read"], OffCPUWorkload.pipeSeconds),
            // pthread_mutex_lock is named with its symbol version; the join after it takes microseconds.
            (["main", "lock_wait"], OffCPUWorkload.lockSeconds),
            // The child that writes the pipe, and the thread that holds the mutex.
            (["main", "wait_pipe", "nap"], OffCPUWorkload.pipeSeconds),
            (["start_thread", "holder", "nap"], OffCPUWorkload.lockSeconds),
        ]
        for (frames, seconds) in designed {
            let measured = stacks.milliseconds(through: frames)
            print("off-CPU \(frames.joined(separator: ";")): \(measured) ms (designed \(seconds * 1000) ms)")
            XCTAssertEqual(measured, seconds * 1000, accuracy: seconds * 1000 * 0.05, frames.joined(separator: ";"))
        }
    }

    func testSleepsAreSleepingAndTheWakersAreNamed() throws {
        let database = try Database(path: try Self.dwarf().database)
        let main = try Self.mainThread(database)
        let sleeping = try database.scalarInt(
            "SELECT sum(duration) FROM off_cpu WHERE tid = \(main) AND state = 'sleeping'")
        let designed = OffCPUWorkload.napSeconds + OffCPUWorkload.pipeSeconds + OffCPUWorkload.lockSeconds
        XCTAssertEqual(Double(sleeping) / 1e9, designed, accuracy: designed * 0.05)
        // The pipe's writer and the mutex's holder are in the recording: the kernel says who woke the main thread.
        let wakers = try database.ints("""
            SELECT waker_tid FROM off_cpu WHERE tid = \(main) AND duration > 400000000 AND waker_tid IS NOT NULL
            ORDER BY start
            """)
        let others = try database.ints("SELECT tid FROM threads WHERE comm = '\(OffCPUWorkload.name)' AND tid != \(main)")
        XCTAssertEqual(wakers.count, 2, "the pipe's and the mutex's wakers")
        XCTAssertTrue(wakers.allSatisfy(others.contains), "wakers \(wakers) are the workload's threads \(others)")
        let byState = try OffCPUWorkbench.report(try Self.dwarf().database, ["--by-state", "--tid", "\(main)"])
        XCTAssertEqual(byState.first, ["percent", "off-cpu ms", "state"])
        XCTAssertEqual(byState.dropFirst().first?.last, "sleeping")
    }

    func testComputeOnCPUIsItsCPUTime() throws {
        let rows = try OffCPUWorkbench.report(try Self.dwarf().database,
                                              ["--wall", "--by-symbol", "--symbol", "^compute$"])
        XCTAssertEqual(rows.first?[1], "wall ms")
        let milliseconds = try XCTUnwrap(rows.dropFirst().first.flatMap { Double($0[1]) })
        XCTAssertEqual(milliseconds, OffCPUWorkload.computeSeconds * 1000,
                       accuracy: OffCPUWorkload.computeSeconds * 1000 * 0.05)
    }

    func testWallTimeOfTheMainThreadIsItsLifetime() throws {
        let recording = try Self.dwarf()
        let database = try Database(path: recording.database)
        let main = try Self.mainThread(database)
        // From exec (where the command's events start) to the thread's exit.
        let lifetime = try database.scalarInt("""
            SELECT (SELECT time FROM task_records WHERE kind = 'exit' AND tid = \(main))
                 - (SELECT time FROM comm_records WHERE tid = \(main) AND exec = 1)
            """)
        XCTAssertGreaterThan(Double(lifetime) / 1e9, recording.elapsed)
        let rows = try OffCPUWorkbench.report(recording.database, ["--wall", "--by-tid", "--tid", "\(main)"])
        let wall = try XCTUnwrap(rows.dropFirst().first.flatMap { Double($0[1]) })
        print("wall-clock of the main thread: \(wall) ms, lifetime \(Double(lifetime) / 1e6) ms")
        XCTAssertEqual(wall, Double(lifetime) / 1e6, accuracy: Double(lifetime) / 1e6 * 0.02)
    }

    /// Debian's libc has no frame pointers: a chain that starts in it skips the function that called into it (its
    /// frame pointer still holds the caller's frame). The thread's totals stay whole.
    func testFramePointersLoseTheCallerOfLibc() throws {
        let recording = try Self.framePointers()
        let stacks = try OffCPUWorkbench.offCPUStacks(recording.database)
        XCTAssertEqual(stacks.milliseconds(through: ["main", "nap"]), 0, "nap is not in -g chains through libc")
        XCTAssertGreaterThan(stacks.milliseconds(through: ["main", "clock_nanosleep@GLIBC_2.2.5"]),
                             OffCPUWorkload.napSeconds * 1000 * 0.95)
        let database = try Database(path: recording.database)
        let main = try Self.mainThread(database)
        // perf's child waits for perf before its exec: from the exec on.
        let rows = try OffCPUWorkbench.report(recording.database, ["--off-cpu", "--by-tid", "--tid", "\(main)",
                                                                   "--by-state", "--since", try Self.exec(database)])
        let sleeping = rows.dropFirst().filter { $0.last == "sleeping" }.compactMap { Double($0[1]) }.reduce(0, +)
        let designed = (OffCPUWorkload.napSeconds + OffCPUWorkload.pipeSeconds + OffCPUWorkload.lockSeconds) * 1000
        XCTAssertEqual(sleeping, designed, accuracy: designed * 0.05)
    }

    func testPerThreadTotalsAgreeWithPerfSchedSwitch() throws {
        let recording = try Self.framePointers()
        let database = try Database(path: recording.database)
        let start = try database.scalarInt("SELECT start_monotonic_ns FROM run")
        let exec = try database.scalarInt(Self.execTime)
        let threads = try database.ints("SELECT tid FROM threads WHERE comm = '\(OffCPUWorkload.name)'")
        XCTAssertEqual(threads.count, 3, "main thread, the pipe's child, the mutex's holder")
        let perf = try Self.perfOffCPU(try XCTUnwrap(recording.perfData), threads: Set(threads), from: start + exec)
        // Intervals that start after the workload's exec, in both.
        let rows = try OffCPUWorkbench.report(recording.database, ["--off-cpu", "--by-tid", "--since",
                                                                   try Self.exec(database)])
        for tid in threads {
            let ours = rows.first { $0.count > 3 && $0[3] == "\(tid)" }.flatMap { Double($0[1]) } ?? 0
            let theirs = Double(perf[tid] ?? 0) / 1e6
            print("off-CPU of thread \(tid): tprof \(ours) ms, perf sched_switch \(theirs) ms")
            XCTAssertGreaterThan(theirs, 400)
            XCTAssertEqual(ours, theirs, accuracy: max(1, theirs * 0.01), "thread \(tid)")
        }
    }

    /// `-p`: a running process's threads are followed from the attach, with the threads and children it starts.
    func testAnAttachedProcessIsFollowed() throws {
        let workbench = try OffCPUWorkbench.shared()
        let program = try ChildProcess(executable: workbench.program, arguments: [])
        // Attached while it computes (its first second): every wait comes after.
        Thread.sleep(forTimeInterval: 0.2)
        let database = workbench.directory.file("attached.db")
        let recorded = try Tool.record.run(["--off-cpu", "-g", "-q", "-o", database, "-p", "\(program.pid)"],
                                           timeout: 60)
        _ = try program.waitForExit(timeout: 30)
        XCTAssertEqual(recorded.status, 0, recorded.summary)
        let rows = try OffCPUWorkbench.report(database, ["--by-state", "--by-tid", "--tid", "\(program.pid)"])
        let sleeping = rows.dropFirst().filter { $0.last == "sleeping" }.compactMap { Double($0[1]) }.reduce(0, +)
        let designed = (OffCPUWorkload.napSeconds + OffCPUWorkload.pipeSeconds + OffCPUWorkload.lockSeconds) * 1000
        XCTAssertEqual(sleeping, designed, accuracy: designed * 0.05)
        let threads = try Database(path: database).scalarInt("SELECT count(DISTINCT tid) FROM off_cpu")
        XCTAssertEqual(threads, 3, "the main thread, the pipe's child and the mutex's holder")
    }

    /// tracefs is root's: another user is told so in one line, and nothing is created.
    func testAnotherUserIsToldTheTracepointsAreRoots() throws {
        let workspace = try TemporaryDirectory(prefix: "tprof-offcpu-user", worldWritable: true)
        defer { workspace.remove() }
        let output = workspace.file("user.db")
        // Recorded once as root first, so tracefs is mounted and the refusal is about reading it.
        _ = try OffCPUTimeTests.dwarf()
        let result = try Tool.record.run(["--off-cpu", "-q", "-o", output, "--", "/bin/true"], user: "nobody",
                                         currentDirectory: workspace.path)
        assertOneLineError(result, contains: "--off-cpu", "record as root")
        assertNoFile(output)
    }

    /// Where no tracefs is mounted (here in a mount namespace of the test's own, without tracefs and debugfs),
    /// tprof mounts one to look the tracepoints up and unmounts it: the machine is left as it was.
    func testATracefsMountedForTheRecordingIsUnmounted() throws {
        let workspace = try TemporaryDirectory(prefix: "tprof-offcpu-tracefs")
        defer { workspace.remove() }
        let database = workspace.file("tracefs.db")
        let script = """
            grep -q ' /sys/kernel/tracing ' /proc/self/mountinfo && umount /sys/kernel/tracing
            grep -q ' /sys/kernel/debug ' /proc/self/mountinfo && umount -l /sys/kernel/debug
            if grep -q tracefs /proc/self/mountinfo; then echo "tracefs still mounted"; exit 2; fi
            "$0" --off-cpu -q -o "$1" -- /bin/sleep 0.2 || exit 3
            grep tracefs /proc/self/mountinfo
            exit 0
            """
        let result = try ChildProcess.run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c",
                                                               script, try Tool.record.path(), database])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stdout, "", "no tracefs is left mounted")
        XCTAssertGreaterThan(try Database(path: database).scalarInt("SELECT count(*) FROM off_cpu"), 0)
    }

    /// When the workload was exec'd, in ns since the start, and as `--since` takes it.
    static let execTime = "SELECT min(time) FROM comm_records WHERE comm = '\(OffCPUWorkload.name)'"
    static func exec(_ database: Database) throws -> String {
        String(format: "%.9f", Double(try database.scalarInt(execTime)) / 1e9)
    }

    /// The workload's main thread: the first of its processes.
    static func mainThread(_ database: Database) throws -> Int64 {
        try database.scalarInt("SELECT min(pid) FROM processes WHERE comm = '\(OffCPUWorkload.name)'")
    }

    /// Nanoseconds off CPU per thread from perf's sched_switch records: from each switch where the thread is
    /// `prev_pid` (at or after `from`, CLOCK_MONOTONIC ns) to the next where it is `next_pid`.
    static func perfOffCPU(_ perfData: String, threads: Set<Int64>, from: Int64) throws -> [Int64: Int64] {
        let script = try ChildProcess.run("/usr/bin/perf", ["script", "-i", perfData, "--ns", "-F", "time,trace"],
                                          timeout: 120)
        guard script.status == 0 else { throw TestSupportError("perf script failed\n\(script.summary)") }
        var out: [Int64: Int64] = [:]
        var total: [Int64: Int64] = [:]
        for line in script.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let time = fields.first.flatMap({ Self.nanoseconds(String($0)) }),
                  let prev = Self.field("prev_pid=", in: fields), let next = Self.field("next_pid=", in: fields)
            else { continue }
            if threads.contains(prev), time >= from { out[prev] = time }
            if threads.contains(next), let since = out.removeValue(forKey: next) { total[next, default: 0] += time - since }
        }
        return total
    }

    /// `12345.123456789:` as nanoseconds.
    private static func nanoseconds(_ text: String) -> Int64? {
        let parts = text.trimmingCharacters(in: CharacterSet(charactersIn: ":")).split(separator: ".")
        guard parts.count == 2, let seconds = Int64(parts[0]), let fraction = Int64(parts[1]), parts[1].count == 9
        else { return nil }
        return seconds * 1_000_000_000 + fraction
    }

    private static func field(_ name: String, in fields: [Substring]) -> Int64? {
        fields.first { $0.hasPrefix(name) }.flatMap { Int64($0.dropFirst(name.count)) }
    }
}
