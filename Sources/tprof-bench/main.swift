import ArgumentParser
import Foundation
import TprofCLI
import TprofRecorder

/// `tprof-bench`: benchmarks of tprof's own pipeline. Prints markdown tables; never part of the tests.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tprof-bench",
        abstract: "Benchmark tprof's capture pipeline and reports.",
        subcommands: [Pipeline.self, MakeDatabase.self])
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
                                                    shape: .init(stackDepth: stackDepth)).run(finish: false)
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

    func run() throws {
        // Paced below the writer's ceiling so that nothing is dropped and the database holds exactly `samples`.
        let result = try SyntheticRecording(output: output, cpus: [0, 1], samplesPerCPU: samples / 2, rate: 700_000,
                                            shape: .init(processes: processes, stackDepth: stackDepth,
                                                         distinctStacks: distinctStacks),
                                            bufferLimit: 256).run()
        if result.total.dropped > 0 { throw ValidationError("\(result.total.dropped) samples were dropped") }
        print("wrote \(result.written) samples to \(output) in \(String(format: "%.2f", result.seconds)) s")
    }
}

CommandLineTool.main(Bench.self, name: "tprof-bench")
