import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// Damaged databases given to every report mode: each run prints a report or exactly one clear line, and never
/// crashes, traps or hangs.
final class CorruptDatabaseTests: XCTestCase {
    /// The report modes, with `OUT` standing for an output file of the run.
    static let modes: [[String]] = [
        ["--by-pid"], ["--by-symbol"], ["--by-tid", "--by-cpu"], ["--stat"], ["--header"], ["--folded"], ["--tree"],
        ["--flamegraph", "OUT.svg"], ["--pprof", "OUT.pb.gz"], ["--speedscope", "OUT.json"], ["--timeline"],
        ["--sql", "SELECT count(*) FROM samples"], ["--format", "json", "--by-comm"], ["--annotate", "."],
    ]

    /// How a copy was damaged.
    enum Damage: String, CaseIterable {
        case bitFlips = "bit flips"
        case zeroedPage = "zeroed 4096-byte page"
        case truncated = "truncation"
        case randomBytes = "random bytes over a range"
        case userVersion = "user_version 99"
        case droppedTable = "dropped table"
        case garbageWAL = "garbage -wal"
        case inconsistentValues = "inconsistent values"
    }

    /// One damaged copy: its path (and -wal, if any) is written just before its runs and removed after them.
    struct Copy {
        var index: Int
        var damage: Damage
        var detail: String
        var bytes: Data
        var wal: Data?
        var allModes: Bool
    }

    /// What a report run did.
    enum Outcome: String, CaseIterable {
        case report = "exit 0 with output"
        case error = "one-line error"
        case bad = "BAD"
    }

    func testDamagedDatabasesGiveAReportOrOneClearLine() throws {
        let workspace = try FaultWorkspace(for: self)
        let base = try recordBase(workspace)
        let seed = SeededGenerator.seed()
        print("corrupt databases: seed \(seed) (set TPROF_FAULT_SEED=\(seed) to repeat)")
        var random = SeededGenerator(seed: seed)
        var copies = try makeCopies(of: base, workspace: workspace, random: &random)
        // All modes on every deliberate structural case and on about 100 of the random ones; three rotating modes
        // on the rest.
        var randomIndexes = copies.indices.filter { copies[$0].allModes == false }
        randomIndexes.shuffle(using: &random)
        for index in randomIndexes.prefix(100) { copies[index].allModes = true }

        struct Job { var copy: Int; var modes: [Int] }
        var jobs: [Job] = []
        for (position, copy) in copies.enumerated() {
            let modes = copy.allModes ? Array(Self.modes.indices)
                : (0..<3).map { (position * 3 + $0) % Self.modes.count }
            jobs.append(Job(copy: position, modes: modes))
        }
        let report = try Tool.report.path()
        let lock = NSLock()
        var counts: [Outcome: Int] = [:]
        var countsByDamage: [Damage: [Outcome: Int]] = [:]
        var failures: [String] = []
        var errorMessages: [String: Int] = [:]
        var nextJob = 0
        var runs = 0
        let began = Date()
        let workers = 3
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while true {
                lock.lock()
                guard nextJob < jobs.count else { lock.unlock(); return }
                let job = jobs[nextJob]
                nextJob += 1
                lock.unlock()
                let copy = copies[job.copy]
                let path = workspace.file("copy-\(copy.index).db")
                var results: [(Outcome, String?, String)] = []
                do {
                    try copy.bytes.write(to: URL(fileURLWithPath: path))
                    if let wal = copy.wal { try wal.write(to: URL(fileURLWithPath: path + "-wal")) }
                    for mode in job.modes {
                        let arguments = [path] + Self.modes[mode].map {
                            $0.replacingOccurrences(of: "OUT", with: workspace.file("out-\(worker)"))
                        }
                        let outcome = try Spawn.run(report, arguments, outputPrefix: workspace.file("run-\(worker)"),
                                                    timeout: 60)
                        let verdict = Self.judge(outcome, outputPrefix: workspace.file("out-\(worker)"))
                        results.append((verdict.outcome, verdict.problem.map {
                            "copy \(copy.index) (\(copy.damage.rawValue): \(copy.detail)), "
                                + "tprof-report \(Self.modes[mode].joined(separator: " ")): \($0)\n"
                                + outcome.result.summary.prefix(1500)
                        }, verdict.firstLine))
                    }
                } catch {
                    results.append((.bad, "copy \(copy.index): \(error)", ""))
                }
                for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
                lock.lock()
                for (outcome, problem, firstLine) in results {
                    runs += 1
                    counts[outcome, default: 0] += 1
                    countsByDamage[copy.damage, default: [:]][outcome, default: 0] += 1
                    if let problem { failures.append(problem) }
                    if outcome == .error { errorMessages[Self.shape(firstLine, path: path), default: 0] += 1 }
                }
                lock.unlock()
            }
        }

        let seconds = Date().timeIntervalSince(began)
        let allModeCopies = copies.filter(\.allModes).count
        print("corrupt databases: \(copies.count) damaged copies (\(allModeCopies) given all \(Self.modes.count) "
            + "modes, the rest 3 rotating modes), \(runs) report runs in \(String(format: "%.1f", seconds)) s")
        for outcome in Outcome.allCases { print("  \(outcome.rawValue): \(counts[outcome] ?? 0)") }
        for damage in Damage.allCases {
            let byOutcome = countsByDamage[damage] ?? [:]
            let copiesOfKind = copies.filter { $0.damage == damage }.count
            print("  \(damage.rawValue): \(copiesOfKind) copies; "
                + Outcome.allCases.map { "\($0.rawValue) \(byOutcome[$0] ?? 0)" }.joined(separator: ", "))
        }
        print("  most frequent error lines:")
        for (message, count) in errorMessages.sorted(by: { $0.value > $1.value }).prefix(12) {
            print("    \(count)x \(message)")
        }
        print("corrupt databases: \(copies.count) cases")
        XCTAssertGreaterThanOrEqual(copies.count, 500)
        XCTAssertEqual(counts[.bad] ?? 0, 0, "\(failures.count) runs crashed, trapped, hung or failed unclearly")
        for failure in failures.prefix(15) { XCTFail(failure) }
    }

    /// The verdict on one run: a report (exit 0 with output), one clear error line, or a problem.
    static func judge(_ outcome: Spawn.Outcome, outputPrefix: String)
        -> (outcome: Outcome, problem: String?, firstLine: String) {
        let result = outcome.result
        let firstLine = result.stderrLines.first ?? ""
        if outcome.timedOut { return (.bad, "hung (killed after 60 s)", firstLine) }
        if let signal = result.signal { return (.bad, "killed by signal \(signal)", firstLine) }
        if let marker = trapMarker(in: result.stderr) { return (.bad, "stderr shows a trap ('\(marker)')", firstLine) }
        if result.status == 0 {
            var wroteFile = false
            for suffix in [".svg", ".pb.gz", ".json"] {
                let path = outputPrefix + suffix
                if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                   (attributes[.size] as? Int ?? 0) > 0 { wroteFile = true }
                unlink(path)
            }
            if result.stdout.isEmpty && !wroteFile { return (.bad, "exit 0 without any output", firstLine) }
            return (.report, nil, firstLine)
        }
        for suffix in [".svg", ".pb.gz", ".json"] { unlink(outputPrefix + suffix) }
        if result.stderrLines.count != 1 {
            return (.bad, "exit \(result.status) with \(result.stderrLines.count) lines on stderr", firstLine)
        }
        if !firstLine.hasPrefix("tprof-report: ") || firstLine.count < "tprof-report: ".count + 5 {
            return (.bad, "the error line says nothing: '\(firstLine)'", firstLine)
        }
        return (.error, nil, firstLine)
    }

    /// An error line with the copy's path and numbers taken out, to count the kinds of messages.
    private static func shape(_ line: String, path: String) -> String {
        let text = line.replacingOccurrences(of: path, with: "DB")
        return String(String(text.map { $0.isNumber ? "#" : $0 }).prefix(110))
    }

    /// A finished recording with call chains, which the copies are made from.
    private func recordBase(_ workspace: FaultWorkspace) throws -> Data {
        let output = workspace.file("base.db")
        let spin = try workspace.spin(named: FaultWorkspace.uniqueName("corrupt"))
        let result = try Tool.record.run(["-q", "-o", output, "-g", "-F", "1999", "--", spin, "0.5"])
        XCTAssertEqual(result.status, 0, result.summary)
        let database = try Database(path: output)
        XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "complete")
        XCTAssertGreaterThan(try database.scalarInt("SELECT COUNT(*) FROM stacks"), 0, "the base has call chains")
        for mode in Self.modes {
            let arguments = [output] + mode.map { $0.replacingOccurrences(of: "OUT", with: workspace.file("base-out")) }
            let run = try Tool.report.run(arguments)
            XCTAssertEqual(run.status, 0, "the undamaged base must report in every mode: \(mode)\n\(run.summary)")
        }
        guard let data = FileManager.default.contents(atPath: output) else {
            throw TestSupportError("cannot read \(output)")
        }
        return data
    }

    /// Applies `sql` to a copy of `base` with SQLite and returns the resulting file (checkpointed, no -wal).
    private func edited(_ base: Data, workspace: FaultWorkspace, name: String, sql: String) throws -> Data {
        let path = workspace.file("edit-\(name).db")
        try base.write(to: URL(fileURLWithPath: path))
        do {
            let database = try SQLiteDatabase(path: path, mode: .readWrite)
            try database.execute(sql)
            try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestSupportError("cannot read \(path)")
        }
        return data
    }

    private func makeCopies(of base: Data, workspace: FaultWorkspace, random: inout SeededGenerator) throws -> [Copy] {
        var copies: [Copy] = []
        func add(_ damage: Damage, _ detail: String, _ bytes: Data, wal: Data? = nil, allModes: Bool = false) {
            copies.append(Copy(index: copies.count, damage: damage, detail: detail, bytes: bytes, wal: wal,
                               allModes: allModes))
        }
        let size = base.count
        let pages = size / 4096
        for _ in 0..<170 {
            var bytes = base
            var offsets: [Int] = []
            for _ in 0..<Int.random(in: 1...16, using: &random) {
                let offset = Int.random(in: 0..<size, using: &random)
                bytes[offset] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
                offsets.append(offset)
            }
            add(.bitFlips, "at \(offsets.map(String.init).joined(separator: ","))", bytes)
        }
        for page in 0..<pages {
            var bytes = base
            bytes.replaceSubrange(page * 4096..<(page + 1) * 4096, with: Data(count: 4096))
            add(.zeroedPage, "page \(page + 1) of \(pages)", bytes)
        }
        for _ in 0..<(100 - pages) {
            var bytes = base
            let page = Int.random(in: 0..<pages, using: &random)
            bytes.replaceSubrange(page * 4096..<(page + 1) * 4096, with: Data(count: 4096))
            add(.zeroedPage, "page \(page + 1) of \(pages)", bytes)
        }
        var truncations = [0, 1, 15, 16, 99, 100, 101, 512, 4095, 4096, 4097, 8192, size - 4096, size - 1]
        while truncations.count < 120 { truncations.append(Int.random(in: 0..<size, using: &random)) }
        for length in truncations { add(.truncated, "to \(length) of \(size) bytes", base.prefix(length)) }
        for _ in 0..<110 {
            var bytes = base
            let length = Int.random(in: 1...4096, using: &random)
            let offset = Int.random(in: 0..<(size - 1), using: &random)
            let end = min(size, offset + length)
            bytes.replaceSubrange(offset..<end, with: Data((offset..<end).map { _ in UInt8.random(in: 0...255, using: &random) }))
            add(.randomBytes, "\(end - offset) bytes at \(offset)", bytes)
        }
        add(.userVersion, "PRAGMA user_version = 99",
            try edited(base, workspace: workspace, name: "version", sql: "PRAGMA user_version = 99"), allModes: true)
        for table in ["samples", "run", "events", "counters", "sample_counts", "addresses", "stacks", "processes"] {
            add(.droppedTable, "DROP TABLE \(table)",
                try edited(base, workspace: workspace, name: "drop-\(table)", sql: "DROP TABLE \(table)"),
                allModes: true)
        }
        // A -wal of random bytes; one with a WAL header's magic and random frames; one of zeros.
        var randomWAL = Data((0..<40_000).map { _ in UInt8.random(in: 0...255, using: &random) })
        add(.garbageWAL, "40000 random bytes", base, wal: randomWAL, allModes: true)
        randomWAL.replaceSubrange(0..<8, with: [0x37, 0x7f, 0x06, 0x82, 0x00, 0x2d, 0xe2, 0x18])
        add(.garbageWAL, "WAL magic then random bytes", base, wal: randomWAL, allModes: true)
        add(.garbageWAL, "8192 zero bytes", base, wal: Data(count: 8192), allModes: true)
        // Values no recorder writes but a damaged file can hold: call-chain cycles, counts that overflow on summing,
        // negative counts, times and periods at the ends of the integer range.
        let values: [(String, String)] = [
            ("call-chain cycles", "UPDATE stacks SET parent_id = id"),
            ("call-chain loops of two", "UPDATE stacks SET parent_id = (SELECT max(id) FROM stacks) WHERE parent_id = 0"),
            ("huge call-chain counts", "UPDATE symbol_counts SET samples = 4611686018427387904"),
            ("negative call-chain counts", "UPDATE symbol_counts SET samples = -5"),
            ("huge sample counts", "UPDATE sample_counts SET samples = 4611686018427387904"),
            ("extreme times and periods", "UPDATE samples SET time = 9223372036854775807, period = -1 WHERE rowid % 2 = 0"),
            ("negative times", "UPDATE samples SET time = -9223372036854775807"),
            ("text in integer columns",
             "UPDATE symbol_counts SET pid = 'x', cpu = 'y'; UPDATE sample_counts SET samples = 'many'; "
                + "UPDATE counters SET read = 'z'; UPDATE stacks SET parent_id = 'p' WHERE id % 2 = 0"),
            ("no run row", "DELETE FROM run"),
            ("call-chain counts of no address", "UPDATE symbol_counts SET address_id = address_id + 1000000"),
            ("symbols never resolved", "DELETE FROM symbol_counts; DELETE FROM addresses"),
            ("huge counters", "UPDATE counters SET read = 9223372036854775807, written = 9223372036854775807"),
        ]
        for (index, (detail, sql)) in values.enumerated() {
            add(.inconsistentValues, detail, try edited(base, workspace: workspace, name: "values-\(index)", sql: sql),
                allModes: true)
        }
        return copies
    }
}
