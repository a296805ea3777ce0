import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// `tprof-record -p PID` attaches to running processes for a while and leaves them running.
final class AttachToProcessTests: XCTestCase {
    func testAttachingRecordsTheRunningProcessAndLeavesItRunning() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-p")
        let spin = try workspace.spin(named: name)
        let output = workspace.file("attach.db")
        let target = try ChildProcess(executable: spin, arguments: ["20"])
        XCTAssertTrue(Processes.waitUntil(timeout: 10) { Processes.alive(named: name) == [target.pid] },
                      "the spin program did not start")

        let result = try Tool.record.run(["-o", output, "-p", "\(target.pid)", "-d", "1"])

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertTrue(Processes.isAlive(target.pid), "an attached process must outlive the recording")
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "complete")
        XCTAssertEqual(try database.scalarText("SELECT target FROM run"), "pid")
        XCTAssertEqual(try database.scalarText("SELECT target_pids FROM run"), "[\(target.pid)]")
        try assertSampledAtRequestedRate(database, pid: target.pid)
        XCTAssertEqual(try database.scalarText("SELECT comm FROM processes WHERE pid = \(target.pid)"), name,
                       "the name comes from the /proc snapshot")
        XCTAssertGreaterThan(try database.scalarInt(
            "SELECT COUNT(*) FROM mmap_records WHERE pid = \(target.pid) AND source = 'proc'"), 0,
            "existing mappings come from /proc/PID/maps")
        target.send(SIGKILL)
    }

    func testRecordingEndsWhenTheAttachedProcessExitsEvenIfNotYetReaped() throws {
        let workspace = try RecordingWorkspace(for: self)
        let name = RecordingWorkspace.uniqueName("spin-z")
        let program = try compileC(source: Self.unreapedChildSource, name: name, in: workspace.directory)
        let pidFile = workspace.file("child.pid")
        let output = workspace.file("zombie.db")
        let parent = try ChildProcess(executable: program, arguments: [pidFile])
        var childPID: Int32?
        Processes.waitUntil(timeout: 10) {
            childPID = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return childPID != nil
        }
        let child = try XCTUnwrap(childPID, "the workload did not write its child's pid")

        let began = Date()
        let result = try Tool.record.run(["-q", "-o", output, "-p", "\(child)", "-d", "10"])

        XCTAssertLessThan(Date().timeIntervalSince(began), 6,
                          "the recording must end when the process exits, not when its parent reaps it")
        XCTAssertEqual(Processes.state(of: child), "Z", "the child must still wait to be reaped")
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let database = try Database(path: output)
        try assertConsistentRecording(database, status: "complete")
        XCTAssertEqual(try database.scalarText("SELECT status_reason FROM run"), "the profiled processes exited")
        try assertSampledAtRequestedRate(database, pid: child)
        parent.send(SIGKILL)
    }

    /// `NAME PIDFILE`: forks a child that spins for 0.5 s of CPU time and exits; the parent writes the child's pid
    /// to PIDFILE and sleeps 30 s without reaping it, so the child stays a zombie.
    private static let unreapedChildSource = #"""
        #include <stdio.h>
        #include <time.h>
        #include <unistd.h>

        static volatile unsigned long sink;

        static double cpu_seconds(void) {
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            return ts.tv_sec + ts.tv_nsec / 1e9;
        }

        int main(int argc, char **argv) {
            if (argc < 2) return 2;
            pid_t child = fork();
            if (child < 0) return 1;
            if (child == 0) {
                usleep(300000);
                double start = cpu_seconds();
                while (cpu_seconds() - start < 0.5) for (int i = 0; i < 100000; i++) sink += i;
                _exit(0);
            }
            FILE *file = fopen(argv[1], "w");
            if (!file) return 1;
            fprintf(file, "%d\n", (int)child);
            fclose(file);
            sleep(30);
            return 0;
        }
        """#

    func testNonexistentProcessIsOneLineAndNoDatabase() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("nopid.db")

        let result = try Tool.record.run(["-o", output, "-p", "999999999", "-d", "1"])

        assertOneLineError(result, contains: "no such process", "999999999")
        XCTAssertEqual(result.status, 127, "a missing process exits as a missing command (README)")
        assertNoFile(output)
    }

    func testExitedProcessIsOneLineAndNoDatabase() throws {
        let workspace = try RecordingWorkspace(for: self)
        let output = workspace.file("exited.db")
        let exited = try ChildProcess(executable: "/bin/true", arguments: [])
        _ = try exited.waitForExit(timeout: 10)
        XCTAssertNil(Processes.state(of: exited.pid), "the child must be reaped")

        let result = try Tool.record.run(["-o", output, "-p", "\(exited.pid)", "-d", "1"])

        assertOneLineError(result, contains: "no such process", "\(exited.pid)")
        XCTAssertEqual(result.status, 127, "a missing process exits as a missing command (README)")
        assertNoFile(output)
    }
}
