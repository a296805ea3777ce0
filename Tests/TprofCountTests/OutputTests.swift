import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// What tprof-count prints: perf stat's default set and layout, csv and json columns, intervals, per-CPU and
/// per-thread rows, and the counts so far when a stop signal ends it.
final class OutputTests: XCTestCase {
    /// Without -e, perf stat's eight events in its layout; an event this machine cannot open is `<not supported>`
    /// exactly where perf stat says so too.
    func testDefaultSetInPerfStatLayout() throws {
        let result = try Tool.count.run(["--", "true"])
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertTrue(result.stderr.contains(" Performance counter stats for 'true':"), result.summary)
        let perf = try ChildProcess.run("/usr/bin/perf", ["stat", "-x,", "--", "true"], timeout: 30)
        for event in ["task-clock", "context-switches", "cpu-migrations", "page-faults", "cycles", "instructions",
                      "branches", "branch-misses"] {
            let line = try XCTUnwrap(result.stderrLines.first { $0.contains(" \(event) ") || $0.hasSuffix(event) },
                                     "no \(event) line\n\(result.summary)")
            let perfSaysUnsupported = perf.stderr.contains("<not supported>,,\(event),")
            XCTAssertEqual(line.contains("<not supported>"), perfSaysUnsupported, "\(event): \(line)\n\(perf.stderr)")
        }
        XCTAssertTrue(result.stderr.contains("msec task-clock"), result.summary)
        XCTAssertTrue(result.stderr.contains("CPUs utilized"), result.summary)
        XCTAssertTrue(result.stderr.contains("/sec"), result.summary)
        for tail in ["seconds time elapsed", "seconds user", "seconds sys"] {
            XCTAssertTrue(result.stderr.contains(tail), "no '\(tail)'\n\(result.summary)")
        }
    }

    func testCSVAndJSONHaveNamedColumns() throws {
        let columns = ["interval", "cpu", "tid", "comm", "event", "value", "unit", "status", "time_enabled",
                       "time_running", "percent_running", "metric", "metric_unit"]
        let csv = try Tool.count.run(["-e", "task-clock,page-faults,cycles", "--format", "csv", "--", "true"])
        XCTAssertEqual(parseCSV(csv.stderr).first, columns, csv.summary)
        let rows = CountWorkbench.csvByEvent(csv)
        XCTAssertEqual(rows["task-clock"]?["metric_unit"], "CPUs utilized")
        XCTAssertEqual(rows["page-faults"]?["status"], "counted")
        XCTAssertNotNil(rows["page-faults"]?["value"].flatMap(Int.init))
        XCTAssertEqual(rows["page-faults"]?["percent_running"].flatMap(Double.init), 100)
        XCTAssertNotNil(rows["cycles"]?["status"])

        let json = try Tool.count.run(["-e", "task-clock,page-faults", "--format", "json", "--", "true"])
        let objects = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [[String: Any]],
                                    json.summary)
        XCTAssertEqual(objects.map { $0["event"] as? String }, ["task-clock", "page-faults"])
        for object in objects { XCTAssertEqual(Set(object.keys), Set(columns)) }
        XCTAssertNotNil(objects[1]["value"] as? Int)
    }

    /// -I: one row per event and interval, with the interval's end in seconds, the last interval cut at the end.
    func testIntervalsHaveATimeColumn() throws {
        let burn = try CountWorkbench.burn()
        let csv = try Tool.count.run(["-I", "100", "-e", "task-clock", "--format", "csv", "--", burn, "0.5"])
        let times = csvRecords(csv.stderr).compactMap { $0["interval"].flatMap(Double.init) }
        XCTAssertGreaterThanOrEqual(times.count, 4, csv.summary)
        XCTAssertEqual(times, times.sorted(), csv.summary)
        XCTAssertEqual(times.first ?? 0, 0.1, accuracy: 0.05, csv.summary)

        let table = try Tool.count.run(["-I", "100", "-e", "task-clock", "--", burn, "0.3"])
        XCTAssertTrue(table.stderr.hasPrefix("#           time "), table.summary)
        XCTAssertGreaterThanOrEqual(table.stderrLines.filter { $0.contains("msec task-clock") }.count, 3)
    }

    /// --per-cpu with -a: one row per online CPU, each busy for the whole count (task-clock counts idle time too).
    func testPerCPURowsWithSystemWide() throws {
        let online = try String(contentsOfFile: "/sys/devices/system/cpu/online", encoding: .utf8)
        let result = try Tool.count.run(["-a", "--per-cpu", "-e", "task-clock", "--format", "csv", "--", "sleep",
                                         "0.3"])
        let rows = csvRecords(result.stderr)
        XCTAssertEqual(rows.compactMap { $0["cpu"].flatMap(Int.init) }.count, rows.count, result.summary)
        XCTAssertEqual(rows.count, ProcessInfo.processInfo.activeProcessorCount, "online: \(online)\n\(result.summary)")
        for row in rows { XCTAssertGreaterThan(row["value"].flatMap(Double.init) ?? 0, 200, result.summary) }

        // The table is NetBSD tprof count's: a column per event under its name, a row per CPU.
        let table = try Tool.count.run(["-a", "-A", "-e", "task-clock,context-switches", "--", "sleep", "0.1"])
        let lines = table.stderrLines
        guard let header = lines.firstIndex(where: { $0.hasSuffix(" task-clock context-switches") }) else {
            return XCTFail("no column header\n\(table.summary)")
        }
        for cpu in 0..<ProcessInfo.processInfo.activeProcessorCount {
            let row = lines[header + 1 + cpu].split(separator: " ")
            XCTAssertEqual(row.first.map(String.init), "CPU\(cpu)", table.summary)
            XCTAssertEqual(row.count, 3, table.summary)
            XCTAssertGreaterThan(row.dropFirst().first.flatMap { Double($0) } ?? 0, 50, table.summary)
        }
        let one = try Tool.count.run(["-C", "0", "--per-cpu", "-e", "task-clock", "--format", "csv", "--", "sleep",
                                      "0.1"])
        XCTAssertEqual(csvRecords(one.stderr).map { $0["cpu"] }, ["0"], one.summary)
    }

    /// --per-thread with -p: one row for each thread of a four-thread program, named as it names itself.
    func testPerThreadRowsWithPid() throws {
        let program = try ChildProcess(executable: try CountWorkbench.threads(), arguments: ["1.5"])
        guard Processes.waitUntil(timeout: 5, { (try? FileManager.default.contentsOfDirectory(
            atPath: "/proc/\(program.pid)/task"))?.count == 4 }) else {
            program.send(SIGKILL)
            throw TestSupportError("the four threads did not start")
        }
        let result = try Tool.count.run(["-p", String(program.pid), "--per-thread", "-e", "task-clock",
                                         "--format", "csv"])
        XCTAssertEqual(result.status, 0, result.summary)
        let rows = csvRecords(result.stderr)
        XCTAssertEqual(Set(rows.compactMap { $0["tid"] }).count, 4, result.summary)
        XCTAssertTrue(rows.contains { $0["tid"] == String(program.pid) }, result.summary)
        XCTAssertEqual(Set(rows.compactMap { $0["comm"] }), ["threads"], result.summary)
        for row in rows { XCTAssertGreaterThan(row["value"].flatMap(Double.init) ?? 0, 0, result.summary) }
        _ = try program.waitForExit(timeout: 10)
    }

    /// Ctrl-C stops the count cleanly and still prints the counts so far; the command gets the signal too.
    func testStopSignalPrintsTheCountsSoFar() throws {
        let burn = try CountWorkbench.burn()
        let counter = try Tool.count.start(["-e", "task-clock", "--format", "csv", "--", burn, "30"])
        usleep(1_000_000)
        counter.send(SIGINT)
        let result = try counter.waitForExit(timeout: 10)
        assertNoCrash(result)
        XCTAssertEqual(result.status, 128 + SIGINT, "the command's own status\n\(result.summary)")
        let value = CountWorkbench.csvByEvent(result)["task-clock"]?["value"].flatMap(Double.init) ?? 0
        XCTAssertGreaterThan(value, 300, result.summary)

        let systemWide = try Tool.count.start(["-a", "-e", "task-clock"])
        usleep(500_000)
        systemWide.send(SIGINT)
        let whole = try systemWide.waitForExit(timeout: 10)
        XCTAssertEqual(whole.status, 0, whole.summary)
        XCTAssertTrue(whole.stderr.contains("Performance counter stats for 'system wide'"), whole.summary)
    }
}
