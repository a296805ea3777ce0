import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// A temporary directory for one fault test, with the spin workload compiled into it on demand.
final class FaultWorkspace {
    let directory: TemporaryDirectory
    private var spinPaths: [String: String] = [:]

    /// Creates the directory; it is removed when `testCase` ends.
    init(for testCase: XCTestCase, worldWritable: Bool = false) throws {
        directory = try testCase.makeTemporaryDirectory(prefix: "tprof-fault", worldWritable: worldWritable)
    }

    var path: String { directory.path }

    func file(_ name: String) -> String { directory.file(name) }

    /// The spin workload compiled as `name` (which becomes the process's comm); compiled once per name.
    func spin(named name: String) throws -> String {
        if let path = spinPaths[name] { return path }
        let path = try compileC(source: Workload.spinSource, name: name, in: directory)
        spinPaths[name] = path
        return path
    }

    /// A name no other process has: `prefix` and four random hex digits, short enough to be a whole comm.
    static func uniqueName(_ prefix: String) -> String {
        String((prefix + "-" + String(UInt16.random(in: 0x1000...0xffff), radix: 16)).prefix(15))
    }
}

/// Text a crash or a Swift runtime trap leaves on stderr (the runtime's backtracer included).
let trapMarkers = ["Fatal error", "Illegal instruction", "Swift runtime failure", "Program crashed", "Segmentation fault",
                   "Stack dump", "Current stack trace", "Assertion failed", "Precondition failed"]

/// The first trap marker in `text`, if any.
func trapMarker(in text: String) -> String? {
    trapMarkers.first { text.contains($0) }
}

/// assertNoCrash, plus the Swift runtime's own trap messages.
func assertNoTrap(_ result: ProcessResult, _ context: String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertNoCrash(result, file: file, line: line)
    if let marker = trapMarker(in: result.stderr) {
        XCTFail("\(context): stderr shows a trap ('\(marker)')\n\(result.summary)", file: file, line: line)
    }
}

/// A recorder started in the background on a spin command, with the command's pid once it runs.
struct RunningRecording {
    let recorder: ChildProcess
    let spinName: String
    let spinPID: Int32
    /// When the spin command was first seen running (the events are enabled at its exec).
    let commandSeen: Date

    /// Starts `tprof-record ARGS -- SPIN 30` and waits until the command runs.
    static func start(_ workspace: FaultWorkspace, prefix: String, arguments: [String],
                      spinSeconds: String = "30") throws -> RunningRecording {
        let name = FaultWorkspace.uniqueName(prefix)
        let spin = try workspace.spin(named: name)
        let recorder = try Tool.record.start(arguments + ["--", spin, spinSeconds])
        var pid: Int32?
        Processes.waitUntil(timeout: 20) {
            pid = Processes.alive(named: name).first
            return pid != nil || !recorder.isRunning
        }
        guard let pid else {
            recorder.send(SIGKILL)
            throw TestSupportError("the recorded spin program did not start\n"
                + (recorder.wait(timeout: 5)?.summary ?? ""))
        }
        return RunningRecording(recorder: recorder, spinName: name, spinPID: pid, commandSeen: Date())
    }

    /// Sleeps until `seconds` after the command was first seen.
    func sleep(untilRunningFor seconds: Double) {
        let remaining = seconds - Date().timeIntervalSince(commandSeen)
        if remaining > 0 { usleep(UInt32(remaining * 1e6)) }
    }
}

/// One row of `counters`.
struct CounterRow: CustomStringConvertible {
    var cpu: Int64
    var read: Int64
    var written: Int64
    var sample: Int64
    var overflow: Int64
    var dropbuf: Int64
    var dropbufSample: Int64
    var kernelLost: Int64
    var kernelLostSamples: Int64
    var unwritten: Int64

    var description: String {
        "cpu \(cpu): read \(read), written \(written), sample \(sample), overflow \(overflow), dropbuf \(dropbuf), "
            + "dropbuf_sample \(dropbufSample), kernel_lost \(kernelLost), kernel_lost_samples \(kernelLostSamples), "
            + "unwritten \(unwritten)"
    }

    static func all(_ database: Database) throws -> [CounterRow] {
        try database.rows("""
            SELECT cpu, read, written, sample, overflow, dropbuf, dropbuf_sample, kernel_lost, kernel_lost_samples,
                   unwritten FROM counters ORDER BY cpu
            """).map { row in
            let v = row.map { value -> Int64 in
                if case .integer(let n) = value { return n }
                return -1
            }
            return CounterRow(cpu: v[0], read: v[1], written: v[2], sample: v[3], overflow: v[4], dropbuf: v[5],
                              dropbufSample: v[6], kernelLost: v[7], kernelLostSamples: v[8], unwritten: v[9])
        }
    }
}

/// Every committed batch is present: the counters each batch wrote in its own transaction say how many samples
/// were written per CPU up to and including it, so they must equal the samples stored, per CPU.
func assertCommittedBatchesPresent(_ database: Database, _ context: String, file: StaticString = #filePath,
                                   line: UInt = #line) throws {
    let stored = try database.scalarInt("SELECT COUNT(*) FROM samples")
    let written = try database.scalarInt("SELECT coalesce(SUM(written), 0) FROM counters")
    XCTAssertEqual(written, stored, "\(context): sum(counters.written) = COUNT(*) of samples", file: file, line: line)
    for row in try CounterRow.all(database) {
        XCTAssertEqual(try database.scalarInt("SELECT COUNT(*) FROM samples WHERE cpu = \(row.cpu)"), row.written,
                       "\(context): CPU \(row.cpu): written = its samples stored (\(row))", file: file, line: line)
    }
}

/// After a finished run every sample read is accounted for exactly, per CPU:
/// read = written + overflow + dropbuf_sample + unwritten, and written = the samples stored.
func assertExactAccounting(_ database: Database, _ context: String, file: StaticString = #filePath,
                           line: UInt = #line) throws {
    let rows = try CounterRow.all(database)
    XCTAssertFalse(rows.isEmpty, "\(context): no counters rows", file: file, line: line)
    for row in rows {
        XCTAssertEqual(row.read, row.written + row.overflow + row.dropbufSample + row.unwritten,
                       "\(context): read = written + overflow + dropbuf_sample + unwritten (\(row))",
                       file: file, line: line)
        XCTAssertEqual(row.sample, row.written + row.unwritten,
                       "\(context): every buffer put on the list was written or counted unwritten (\(row))",
                       file: file, line: line)
    }
    try assertCommittedBatchesPresent(database, context, file: file, line: line)
}

/// A small, seedable random number generator (SplitMix64), so a failing case can be reproduced from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476C_E5E4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The seed for a test: TPROF_FAULT_SEED when set, else a fresh random one (printed by the test).
    static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["TPROF_FAULT_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 1...UInt64.max)
    }
}

/// Starts processes with posix_spawn and waits for them with waitpid: quicker than Foundation's Process for the
/// thousands of short report runs of the corrupt-file tests, and safe to use from several threads at once.
enum Spawn {
    struct Outcome {
        var result: ProcessResult
        var timedOut: Bool
    }

    /// Runs `executable` with `arguments`, stdout and stderr to files under `outputPrefix`; kills it after `timeout`.
    static func run(_ executable: String, _ arguments: [String], outputPrefix: String,
                    timeout: TimeInterval) throws -> Outcome {
        let stdoutPath = outputPrefix + ".stdout"
        let stderrPath = outputPrefix + ".stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) }
        argv.append(nil)
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard rc == 0 else {
            throw TestSupportError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        let deadline = Date(timeIntervalSinceNow: timeout)
        var status: Int32 = 0
        var timedOut = false
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited < 0 && errno != EINTR { throw TestSupportError("waitpid: \(String(cString: strerror(errno)))") }
            if !timedOut && Date() >= deadline {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(2_000)
        }
        let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        let result = ProcessResult(
            status: signaled ? status & 0x7f : (status >> 8) & 0xff, signal: signaled ? status & 0x7f : nil,
            stdout: String(decoding: FileManager.default.contents(atPath: stdoutPath) ?? Data(), as: UTF8.self),
            stderr: String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self))
        unlink(stdoutPath)
        unlink(stderrPath)
        return Outcome(result: result, timedOut: timedOut)
    }
}

/// Peak resident memory (VmHWM, kB) of a running process; nil once it is gone.
func peakResidentKilobytes(of pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
    return nil
}

/// An integer kernel setting such as "kernel/perf_event_max_sample_rate".
func kernelInteger(_ name: String) throws -> Int {
    let path = "/proc/sys/" + name
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
          let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw TestSupportError("cannot read \(path)")
    }
    return value
}
