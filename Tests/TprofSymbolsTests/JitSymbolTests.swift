import Foundation
import TprofTestSupport
import XCTest

/// JavaScript functions compiled by Node.js's JIT are named from its `/tmp/perf-PID.map` (`--perf-basic-prof`)
/// with the shares perf gives them in the same execution, and from its jitdump (`--perf-prof`, read without
/// `perf inject`) with the same names as the map, with their source lines.
final class JitSymbolTests: XCTestCase {
    /// Two hot functions, for about `argv[2]` milliseconds.
    private static let script = """
        function hotA(n) { let s = 0; for (let i = 0; i < n; i++) s += (i * i) % 7; return s; }
        function hotB(n) { let s = 0; for (let i = 0; i < n; i++) s += (i * i + 3) % 5; return s; }
        const end = Date.now() + Number(process.argv[2] || 1000);
        let total = 0;
        while (Date.now() < end) { total += hotA(100000); total += hotB(50000); }
        console.log(total > 0 ? "done" : "none");
        """

    /// V8 names a function by its tier then its script: `JS:*hotA`, `JS:~hotA` or `JS:^hotA` in Node 20,
    /// `LazyCompile:*hotA` in Debian's Node 18: any of them.
    private static func isFunction(_ name: String, _ symbol: String) -> Bool {
        guard let colon = symbol.firstIndex(of: ":") else { return false }
        let rest = symbol[symbol.index(after: colon)...].drop { "*~^".contains($0) }
        return rest.hasPrefix(name + " ")
    }

    private func writeScript(_ bench: SymbolWorkbench) throws -> String {
        let path = bench.path("hot.js")
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Removes the perf map node leaves in /tmp.
    private func removeMap(of pid: Int64) {
        unlink("/tmp/perf-\(pid).map")
    }

    func testPerfMapSharesMatchPerfOnTheSameExecution() throws {
        let bench = try SymbolWorkbench()
        let script = try writeScript(bench)

        // Node writes a V8 log where it runs.
        let same = try bench.recordWithPerf(["/usr/bin/node", "--perf-basic-prof", script, "700"], inWorkbench: true)
        defer { removeMap(of: same.pid) }

        let tprof = try same.tprofProfile()
        for function in ["hotA", "hotB"] {
            let mine = tprof.share { Self.isFunction(function, $0.symbol) }
            let theirs = same.perf.share { Self.isFunction(function, $0.symbol) }
            print("\(function): tprof \(mine)%, perf \(theirs)%")
            XCTAssertGreaterThan(theirs, 10, "perf names \(function)\n\(same.perf.listing)")
            XCTAssertEqual(mine, theirs, accuracy: 2,
                           "\(function)\ntprof:\n\(tprof.listing)\nperf:\n\(same.perf.listing)")
        }
    }

    /// Node 20's V8 sometimes writes its line tables with freed memory for names (2 runs in 12 here), which tprof
    /// then leaves out: a run without source lines is tried again, twice at most.
    func testJitdumpNamesAsTheMapDoesWithSourceLines() throws {
        for attempt in 1...3 {
            let withLines = try recordJitdumpAndCompareWithTheMap(attempt: attempt)
            if withLines.samples > Int64(Double(withLines.total) * 0.6) { return }
            print("attempt \(attempt): \(withLines.samples) of \(withLines.total) JIT samples have source lines")
        }
        XCTFail("source lines from the jitdump's line tables in none of 3 runs")
    }

    /// Records the script with both a jitdump and a perf map and checks that they name the JIT code alike; returns
    /// how many of the JIT code's samples have a source line of the script.
    private func recordJitdumpAndCompareWithTheMap(attempt: Int) throws -> (samples: Int64, total: Int) {
        let bench = try SymbolWorkbench()
        let script = try writeScript(bench)
        let database = bench.path("jitdump-\(attempt).db")

        let result = try Tool.record.run(SymbolWorkbench.recordOptions + ["-q", "-o", database, "--", "/usr/bin/node",
                                          "--perf-prof", "--perf-basic-prof", script, "500"],
                                         currentDirectory: bench.directory.path, timeout: 60)
        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let db = try Database(path: database)
        let pid = try db.scalarInt("SELECT pid FROM processes WHERE comm = 'node' ORDER BY pid LIMIT 1")
        defer { removeMap(of: pid) }
        let dump = bench.path("jit-\(pid).dump")
        XCTAssertEqual(try db.scalarText("SELECT symbol_source FROM dsos WHERE path = '\(dump)'"), "jitdump")

        let map = try PerfMapFile(path: "/tmp/perf-\(pid).map")
        var agreeing = 0
        var total = 0
        var hot = 0
        for row in try db.rows("""
            SELECT a.pc, a.name, sum(c.samples) FROM addresses a JOIN dsos d ON d.id = a.dso_id
            JOIN symbol_counts c ON c.address_id = a.id WHERE a.pid = \(pid) AND d.path = '\(dump)' GROUP BY a.id
            """) {
            guard case .integer(let pc) = row[0], case .text(let name) = row[1], case .integer(let count) = row[2]
            else { continue }
            let samples = Int(count)
            total += samples
            if map.name(at: UInt64(bitPattern: pc)) == name { agreeing += samples }
            if Self.isFunction("hotA", name) || Self.isFunction("hotB", name) { hot += samples }
        }
        XCTAssertGreaterThan(total, 200, "samples in JIT code named from the jitdump")
        XCTAssertGreaterThan(Double(hot), 0.6 * Double(total), "hotA and hotB are most of the JIT code's samples")
        XCTAssertGreaterThanOrEqual(Double(agreeing), 0.98 * Double(total),
                                    "\(agreeing) of \(total) samples named as the perf map names them")
        // Every source line is the script's: a damaged table gives none rather than wrong ones.
        XCTAssertEqual(try db.scalarInt("""
            SELECT coalesce(sum(samples), 0) FROM symbol_groups WHERE dso = '\(dump)' AND srcline IS NOT NULL
            AND srcline NOT LIKE '%hot.js:%'
            """), 0, "source lines that are not the script's")
        let withLines = try db.scalarInt("""
            SELECT coalesce(sum(samples), 0) FROM symbol_groups WHERE dso = '\(dump)' AND srcline LIKE '%hot.js:%'
            """)
        return (withLines, total)
    }

    func testJitdumpOnlyAMountNamespaceSeesIsRead() throws {
        let bench = try SymbolWorkbench()
        let script = try writeScript(bench)
        let mountPoint = bench.path("private")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let database = bench.path("namespace.db")

        let result = try Tool.record.run(SymbolWorkbench.recordOptions + [
            "-q", "-o", database, "--", "/usr/bin/unshare", "-m", "/bin/sh", "-c",
            "mount -t tmpfs none \"$1\" && cd \"$1\" && exec /usr/bin/node --perf-prof \"$2\" 400", "sh",
            mountPoint, script,
        ], timeout: 60)

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let db = try Database(path: database)
        let pid = try db.scalarInt("SELECT pid FROM processes WHERE comm = 'node' ORDER BY pid LIMIT 1")
        let dump = mountPoint + "/jit-\(pid).dump"
        XCTAssertFalse(FileManager.default.fileExists(atPath: dump), "the dump was in the namespace's tmpfs")
        XCTAssertEqual(try db.scalarText(
            "SELECT symbol_source || ' ' || file_source FROM dsos WHERE path = '\(dump)'"), "jitdump process-root")
        XCTAssertGreaterThan(try db.scalarInt("""
            SELECT coalesce(sum(samples), 0) FROM symbol_groups WHERE dso = '\(dump)' AND symbol GLOB '*:[*~^]hotA *'
            """), 100, "hotA named from the dump")
    }
}

/// A `/tmp/perf-PID.map` read by the test itself: `START SIZE name` in hex, the last entry holding an address wins.
private struct PerfMapFile {
    var entries: [(start: UInt64, size: UInt64, name: String)] = []

    init(path: String) throws {
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let start = UInt64(fields[0], radix: 16), let size = UInt64(fields[1], radix: 16)
            else { continue }
            entries.append((start, size, String(fields[2])))
        }
    }

    func name(at address: UInt64) -> String? {
        entries.last { address >= $0.start && address - $0.start < $0.size }?.name
    }
}
