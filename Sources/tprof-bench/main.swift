import ArgumentParser
import Foundation
import TprofCapture
import TprofCLI
import TprofSynthetic
import TprofStore

/// `tprof-bench`: benchmarks of tprof's own pipeline. Prints markdown tables; never part of the tests.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tprof-bench",
        abstract: "Benchmark tprof's capture pipeline and reports.",
        version: tprofVersion,
        subcommands: [Pipeline.self, SQLiteCeiling.self, MakeDatabase.self, Replay.self])
}

/// Pushes the synthetic backend through the per-CPU buffers, the buffer list and the writer.
struct Pipeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Synthetic samples through buffers and writer: samples/s and drops.",
        discussion: """
            Two rows per repetition: 'paced' generates --rate samples/s on each CPU, as a kernel would, and must \
            lose nothing; 'flood' generates as fast as the producers can, so the writer is the limit and drops \
            are expected: its samples/s is the writer's ceiling.
            """)

    @Option(help: "Samples per CPU in each run.") var samples: UInt64 = 3_000_000
    @Option(help: "Paced rate, samples/s per CPU.") var rate: UInt64 = 600_000
    @Option(help: "Frames per call chain (0: flat samples).") var stackDepth = 0
    @Flag(help: """
        Call chains like a busy machine's -a -g: kernel and user, 20 to 60 frames, 100,000 distinct ones in 300 \
        processes (instead of --stack-depth).
        """) var systemWideChains = false
    @Option(help: "CPUs (producer threads).") var cpus = 2
    @Option(help: "Repetitions; the median is reported.") var repeats = 3
    @Option(help: "Directory for the temporary databases.") var directory = NSTemporaryDirectory()

    func run() throws {
        print("| run | samples written | seconds | samples/s | dropped |")
        print("|---|---:|---:|---:|---:|")
        for (mode, pace) in [("paced", rate), ("flood", UInt64(0))] {
            var results: [SyntheticRecording.Result] = []
            for i in 0..<max(1, repeats) {
                let path = directory + "/tprof-bench-pipeline-\(getpid())-\(i).db"
                defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
                let result = try SyntheticRecording(output: path, cpus: Array(0..<max(1, cpus)),
                                                    samplesPerCPU: samples, rate: pace,
                                                    shape: systemWideChains ? .systemWide
                                                        : .init(stackDepth: stackDepth)).run(finish: false)
                results.append(result)
                print("| \(mode) \(i + 1) | \(result.written) | \(String(format: "%.2f", result.seconds)) | "
                    + "\(Int(result.samplesPerSecond)) | \(result.total.dropped) |")
            }
            results.sort { $0.samplesPerSecond < $1.samplesPerSecond }
            let median = results[results.count / 2]
            let label = pace > 0 ? "paced at \(pace * UInt64(cpus)) samples/s" : "flood (writer ceiling)"
            print("| **median, \(label)** | \(median.written) | \(String(format: "%.2f", median.seconds)) | "
                + "**\(Int(median.samplesPerSecond))** | \(median.total.dropped) |")
        }
    }
}

/// Writes a synthetic database of a given size, for report benchmarks and experiments.
struct MakeDatabase: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-db", abstract: "Write a finished synthetic database with N samples.")

    @Option(name: .short, help: "Output file.") var output: String
    @Option(help: "Total samples.") var samples: UInt64 = 10_000_000
    @Option(help: "Distinct processes.") var processes = 20
    @Option(help: "Frames per call chain (0: flat samples).") var stackDepth = 0
    @Option(help: "Distinct call chains.") var distinctStacks = 1000
    @Option(help: "Samples/s per CPU; halved and retried (up to 4 times) when the writer could not keep up.")
    var rate: UInt64 = 700_000

    func run() throws {
        // Paced below the writer's ceiling so that nothing is dropped and the database holds exactly `samples`.
        var pace = max(1, rate)
        for attempt in 1...5 {
            let result = try SyntheticRecording(output: output, cpus: [0, 1], samplesPerCPU: samples / 2, rate: pace,
                                                shape: .init(processes: processes, stackDepth: stackDepth,
                                                             distinctStacks: distinctStacks),
                                                bufferLimit: 256).run()
            if result.total.dropped == 0 {
                print("wrote \(result.written) samples to \(output) in \(String(format: "%.2f", result.seconds)) s")
                return
            }
            if attempt == 5 { throw ValidationError("\(result.total.dropped) samples were dropped") }
            FileHandle.standardError.write(Data(("make-db: \(result.total.dropped) samples dropped at \(pace) "
                + "samples/s per CPU; retrying at \(pace / 2)\n").utf8))
            pace = max(1, pace / 2)
        }
    }
}

/// The raw SQLite insert rate of the rows the pipeline writes, with nothing around it: the pipeline's ceiling.
struct SQLiteCeiling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sqlite-ceiling",
        abstract: "Insert rows shaped like the pipeline's straight into SQLite: rows/s, the pipeline's ceiling.",
        discussion: """
            A fresh database with tprof's schema and pragmas (RecordingDatabase), the same 64-row multi-row INSERT \
            into samples (time, cpu, pid, tid, event, mode, pc, period, stack_id) as the writer, --transaction-rows \
            rows per transaction, rows generated as the synthetic backend does. No buffers, no writer thread, no \
            sample_counts rollup and no stack interning: what SQLite alone takes. With --stack-depth N > 0 the \
            rows carry stack ids drawn from --distinct-stacks leaves, as the synthetic backend's call chains do.
            """)

    @Option(help: "Total rows in each run (the pipeline's --samples times --cpus).") var rows: UInt64 = 6_000_000
    @Option(help: "Frames per call chain (0: flat rows, stack_id NULL).") var stackDepth = 0
    @Option(help: "Distinct call chains the stack ids are drawn from.") var distinctStacks = 1000
    @Option(help: "Rows per transaction (default: the writer's largest batch, 64 buffers of 16,384 samples).")
    var transactionRows = 1_048_576
    @Option(help: "CPUs the rows are spread over.") var cpus = 2
    @Option(help: "Repetitions; the median is reported.") var repeats = 3
    @Option(help: "Directory for the temporary databases.") var directory = NSTemporaryDirectory()

    func run() throws {
        print("| run | rows written | seconds | rows/s |")
        print("|---|---:|---:|---:|")
        var rates: [(rate: Double, seconds: Double)] = []
        for i in 0..<max(1, repeats) {
            let path = directory + "/tprof-bench-ceiling-\(getpid())-\(i).db"
            defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
            let seconds = try insert(into: path)
            rates.append((Double(rows) / seconds, seconds))
            print("| ceiling \(i + 1) | \(rows) | \(String(format: "%.2f", seconds)) | \(Int(Double(rows) / seconds)) |")
        }
        rates.sort { $0.rate < $1.rate }
        let median = rates[rates.count / 2]
        print("| **median, SQLite insert ceiling** | \(rows) | \(String(format: "%.2f", median.seconds)) | "
            + "**\(Int(median.rate))** |")
    }

    /// Inserts `rows` rows; returns the seconds from the first BEGIN to the last COMMIT.
    private func insert(into path: String) throws -> Double {
        let database = try RecordingDatabase(creating: path, force: true)
        let db = database.connection
        let columns = "time, cpu, pid, tid, event, mode, pc, period, stack_id"
        let placeholders = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
        let perInsert = 64
        let insertMany = try db.prepare("INSERT INTO samples (\(columns)) VALUES "
            + Array(repeating: placeholders, count: perInsert).joined(separator: ", "))
        let insertOne = try db.prepare("INSERT INTO samples (\(columns)) VALUES \(placeholders)")
        // The synthetic backend's default shape, as `tprof-bench pipeline` uses it.
        let shape = SyntheticBackend.Shape()
        let threadCount = shape.processes * shape.threadsPerProcess
        let cpuCount = UInt64(max(1, cpus))
        let perTransaction = UInt64(max(perInsert, transactionRows))
        let began = monotonicNanoseconds()
        var done: UInt64 = 0
        while done < rows {
            try db.execute("BEGIN")
            let end = min(rows, done + perTransaction)
            while done < end {
                let count = end - done >= UInt64(perInsert) ? perInsert : 1
                let statement = count == perInsert ? insertMany : insertOne
                var parameter: Int32 = 1
                for row in 0..<UInt64(count) {
                    let n = done + row
                    let cpu = n % cpuCount
                    let produced = n / cpuCount
                    let i = Int(truncatingIfNeeded: produced &+ cpu &* 7919)
                    let thread = i % threadCount
                    let pid = Int64(shape.pidBase) + Int64(thread % shape.processes)
                    let tid = pid + Int64(100_000 * (thread / shape.processes))
                    var kernel = shape.kernelEvery > 0 && i % shape.kernelEvery == 0
                    let pcIndex = UInt64((i &* 2_654_435_761) % shape.distinctPCs)
                    var pc = kernel ? 0xffff_ffff_8100_0000 &+ pcIndex &* 16 : 0x40_1000 &+ pcIndex &* 16
                    var stack: Int64 = 0
                    if stackDepth > 0 {
                        // A leaf of a prefix tree of --distinct-stacks chains of --stack-depth frames.
                        let k = i % max(1, distinctStacks)
                        kernel = false
                        pc = 0x40_1000 &+ UInt64((k &* 31) % 4096) &* 16
                        stack = Int64(k * stackDepth + stackDepth)
                    }
                    statement.bind(parameter, Int64(bitPattern: 1_000_000 &+ produced))
                    statement.bind(parameter + 1, Int64(cpu))
                    statement.bind(parameter + 2, pid)
                    statement.bind(parameter + 3, tid)
                    statement.bind(parameter + 4, 0)
                    statement.bind(parameter + 5, kernel ? 1 : 2)
                    statement.bind(parameter + 6, Int64(bitPattern: pc))
                    statement.bind(parameter + 7, 1_000_000)
                    if stack == 0 { statement.bind(parameter + 8, .null) } else { statement.bind(parameter + 8, stack) }
                    parameter += 9
                }
                try statement.runBound()
                done += UInt64(count)
            }
            try db.execute("COMMIT")
        }
        return Double(monotonicNanoseconds() - began) / 1e9
    }
}

CommandLineTool.main(Bench.self, name: "tprof-bench")
