import Foundation
import TprofTestSupport
import XCTest

/// tprof's inclusive shares agree with `perf report --children` on the same execution: tprof-record runs
/// `perf record`, which runs the workload, so both tools sample one run.
final class PerfAgreementTests: XCTestCase {
    func testInclusiveShareOfOuterAgreesWithPerf() throws {
        let workbench = try CallGraphWorkbench.shared()
        let perfData = workbench.directory.file("perf.data")
        // -B -N: no build-id collection, nothing written to ~/.debug. perf 6.1 aborts ("assertion failed at
        // util/build-id.c:1010") when another session on the machine asks the kernel for build ids in MMAP2
        // records (the kernel leaks the flag between sessions): only another process can cause it, so it is retried.
        let perfRecord = ["/usr/bin/perf", "record", "-q", "-B", "-N", "-e", "cpu-clock", "-F", "999", "-g",
                          "-o", perfData, "--"]
        let database: String
        do {
            database = try workbench.record("same-execution.db", options: ["-g"],
                                            arguments: CallGraphWorkload.mainArguments, launcher: perfRecord)
        } catch {
            print("perf record inside tprof-record failed, retrying once: \(error)")
            database = try workbench.record("same-execution.db", options: ["-g", "--force"],
                                            arguments: CallGraphWorkload.mainArguments, launcher: perfRecord)
        }
        let perfReport = try ChildProcess.run(
            "/usr/bin/perf", ["report", "-i", perfData, "--children", "--stdio", "--sort", "sym", "-g", "none"],
            timeout: 120)
        XCTAssertEqual(perfReport.status, 0, "perf report failed\n\(perfReport.summary)")
        let perfShares = Self.parsePerfChildren(perfReport.stdout)

        // perf samples the workload and its helper child; tprof also samples perf itself, which is left out.
        let workload = ["--comm", CallGraphWorkload.name, "--comm", CallGraphWorkload.helperName]
        guard let csv = report(database, ["--by-symbol", "--children", "--format", "csv"] + workload) else { return }
        var tprofShares: [String: Double] = [:]
        for row in csvRecords(csv) where row["k"] == "[.]" {
            if let symbol = row["symbol"], let share = Double(row["children"] ?? "") { tprofShares[symbol] = share }
        }
        let evidence = "perf report --children:\n\(perfReport.stdout.split(separator: "\n").prefix(25).joined(separator: "\n"))"
            + "\n\ntprof-report --by-symbol --children:\n\(csv.split(separator: "\n").prefix(15).joined(separator: "\n"))"
        guard let perfOuter = perfShares["outer"], let tprofOuter = tprofShares["outer"] else {
            return XCTFail("outer is missing from one of the reports\n\(evidence)")
        }
        assertShare(tprofOuter, near: perfOuter, within: 3, "tprof's inclusive share of outer against perf's",
                    evidence: evidence)
        // The other call paths agree too.
        for symbol in ["other", "rec", "main"] {
            assertShare(tprofShares[symbol] ?? .nan, near: perfShares[symbol] ?? .nan, within: 3,
                        "tprof's inclusive share of \(symbol) against perf's", evidence: evidence)
        }
        print(String(format: "inclusive share of outer: tprof %.2f%%, perf %.2f%%", tprofOuter, perfOuter)
              + "; other: tprof \(tprofShares["other"].map { String(format: "%.2f%%", $0) } ?? "-"), perf "
              + "\(perfShares["other"].map { String(format: "%.2f%%", $0) } ?? "-")")
    }

    /// The children (first) percentage per user-space symbol of lines such as `    60.12%     0.00%  [.] outer`.
    static func parsePerfChildren(_ text: String) -> [String: Double] {
        var shares: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 4, fields[0].hasSuffix("%"), let share = Double(fields[0].dropLast()),
                  let marker = fields.firstIndex(of: "[.]"), marker + 1 < fields.count else { continue }
            let symbol = fields[(marker + 1)...].joined(separator: " ")
            if shares[symbol] == nil { shares[symbol] = share }
        }
        return shares
    }
}
