import Foundation
import TprofDatabase

/// The run's metadata and loss figures: the header before every report and the footer after it.
public struct RunHeader {
    public var fields: [(name: String, value: String)] = []
    /// Loud lines for the footer: losses, an unfinished run.
    public var warnings: [String] = []
    /// Samples in the database.
    public var samples: Int64 = 0

    /// Reads `run`, `events` and `counter_totals`; parts a damaged file lacks are left out, never invented.
    public init(database: ReportDatabase) throws {
        samples = try database.connection.scalarInt("SELECT coalesce(sum(samples), 0) FROM sample_counts") ?? 0
        let run = try database.query("""
            SELECT command, command_line, target, target_pids, status, status_reason, exit_status, host,
                   kernel_release, machine, cpu_count, cpu_model, cpus, duration_ns, start_time_ns,
                   perf_event_max_sample_rate, perf_event_paranoid, user_only_fallback, backend
            FROM run WHERE id = 1
            """)
        let status: String
        if run.rows.isEmpty {
            status = "unknown"
            warnings.append("this database has no run metadata: the recording did not start properly")
        } else {
            func text(_ column: String) -> String { run.value(column, row: 0)?.text ?? "" }
            let command = decodeJSONArray(text("command"))
            switch text("target") {
            case "command": fields.append(("command", command.joined(separator: " ")))
            case "pid": fields.append(("command", "attached to pid \(numberList(text("target_pids")))"))
            default: fields.append(("command", "system-wide"))
            }
            status = text("status")
            var outcome = status
            if !text("exit_status").isEmpty { outcome += ", exit status \(text("exit_status"))" }
            if !text("status_reason").isEmpty { outcome += " (\(text("status_reason")))" }
            fields.append(("status", outcome))
            fields.append(("host", "\(text("host")), Linux \(text("kernel_release")) \(text("machine")), "
                + "\(text("cpu_count")) CPUs\(text("cpu_model").isEmpty ? "" : ", " + text("cpu_model"))"))
            if let duration = run.value("duration_ns", row: 0), case .integer(let ns) = duration {
                fields.append(("duration", String(format: "%.3f s", Double(ns) / 1e9)))
            }
            if case .integer(let start)? = run.value("start_time_ns", row: 0) {
                let date = Date(timeIntervalSince1970: Double(start) / 1e9)
                let formatter = ISO8601DateFormatter()
                fields.append(("started", formatter.string(from: date)))
            }
            if text("user_only_fallback") == "1" {
                fields.append(("note", "kernel samples were not permitted: user space only"))
            }
        }
        let events = try database.query("""
            SELECT name, base_name, requested_frequency, requested_period, achieved_rate, samples, note FROM events
            ORDER BY id
            """)
        for row in events.rows.indices {
            func text(_ column: String) -> String { events.value(column, row: row)?.text ?? "" }
            var line = text("name")
            if !text("requested_frequency").isEmpty { line += ", \(text("requested_frequency")) Hz requested" }
            if !text("requested_period").isEmpty { line += ", period \(text("requested_period"))" }
            // The off-CPU tracepoints take every switch and wake-up: a rate says nothing of them.
            switch text("base_name") {
            case SampleWeight.offCPUEvent: line += ", \(text("samples")) switch-outs"
            case SampleWeight.wakerEvent: break
            default:
                if case .real(let rate)? = events.value("achieved_rate", row: row) {
                    line += String(format: ", %.1f Hz achieved", rate)
                }
            }
            if !text("note").isEmpty { line += " (\(text("note")))" }
            fields.append(("event", line))
        }
        let totals = try database.query("SELECT * FROM counter_totals")
        var lossLine = "\(samples) samples"
        if !totals.rows.isEmpty {
            func number(_ column: String) -> Int64 {
                if case .integer(let v)? = totals.value(column, row: 0) { return v }
                return 0
            }
            let dropped = number("dropped")
            let kernelDropped = number("kernel_dropped")
            let throttle = number("throttle")
            lossLine += ", \(dropped) dropped by tprof, \(kernelDropped) lost by the kernel"
            if throttle > 0 { lossLine += ", throttled \(throttle) times" }
            if dropped > 0 || kernelDropped > 0 {
                warnings.append("\(dropped + kernelDropped) samples were lost (\(dropped) dropped by tprof's "
                    + "buffers, \(kernelDropped) lost by the kernel): shares may be skewed; see --stat")
            }
            if throttle > 0 {
                warnings.append("the kernel throttled sampling \(throttle) times (kernel.perf_event_max_sample_rate); "
                    + "the achieved rate is below the requested one")
            }
        }
        fields.append(("samples", lossLine))
        switch status {
        case "complete", "unknown": break
        case "recording":
            warnings.append("this run did not finish (status: recording): tprof-record was killed or is still "
                + "running; what was saved up to then is shown")
        default:
            warnings.append("this run did not complete (status: \(status)); what was saved is shown")
        }
    }

    /// `# name: value` lines.
    public func headerText(path: BytePath) -> String {
        var out = "# tprof report: \(path)\n"
        let width = fields.reduce(0) { max($0, $1.name.count) }
        for field in fields {
            out += "# \(field.name):" + String(repeating: " ", count: width - field.name.count + 1) + field.value + "\n"
        }
        return out
    }

    /// The header as a table (for --header with csv or json).
    public var table: ResultTable {
        ResultTable(columns: ["field", "value"], rows: fields.map { [.text($0.name), .text($0.value)] })
    }
}

/// A list of numbers of `run` as "1,2,3": a JSON array since schema 8, a comma list before.
private func numberList(_ text: String) -> String {
    guard text.hasPrefix("["), let data = text.data(using: .utf8),
          let array = try? JSONSerialization.jsonObject(with: data) as? [Int] else { return text }
    return array.map(String.init).joined(separator: ",")
}

private func decodeJSONArray(_ text: String) -> [String] {
    guard let data = text.data(using: .utf8),
          let array = try? JSONSerialization.jsonObject(with: data) as? [String] else { return [] }
    return array
}
