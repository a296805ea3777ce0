import Foundation
import XCTest

/// A share of a profile that both tools report.
enum Share: CustomStringConvertible {
    /// One symbol, named `tprof` by tprof and `perf` by perf (perf leaves out C++ parameters and keeps Swift
    /// names mangled).
    case symbol(String, perf: String? = nil)
    /// Every kernel (`[k]`) symbol together.
    case kernel

    var description: String {
        switch self {
        case .symbol(let name, _): return name
        case .kernel: return "[k] total"
        }
    }

    func of(_ profile: SymbolProfile) -> Double {
        switch self {
        case .symbol(let name, let perfName): return profile.share(of: profile.tool == "perf" ? perfName ?? name : name)
        case .kernel: return profile.kernelShare
        }
    }
}

/// The assertion these tests share: tprof shows `share` within `tolerance` percentage points of perf's figure for
/// the same program, and (when given) within `expectedTolerance` points of the share the workload is built to have.
/// Both measured figures go to the test log (lines starting "share:").
func assertShare(_ share: Share, tprof: SymbolProfile, perf: SymbolProfile, within tolerance: Double,
                 expected: Double? = nil, expectedTolerance: Double = 5, file: StaticString = #filePath,
                 line: UInt = #line) {
    let mine = share.of(tprof)
    let theirs = share.of(perf)
    print(String(format: "share: %@: tprof %.2f%%, perf %.2f%%, difference %.2f points", share.description, mine,
                 theirs, abs(mine - theirs)))
    let tables = "\n--- tprof ---\n\(tprof.listing)\n--- perf ---\n\(perf.listing)"
    XCTAssertGreaterThan(mine, 0, "tprof shows no samples for \(share)\(tables)", file: file, line: line)
    XCTAssertGreaterThan(theirs, 0, "perf shows no samples for \(share)\(tables)", file: file, line: line)
    XCTAssertLessThanOrEqual(abs(mine - theirs), tolerance, String(format:
        "%@: tprof %.2f%% and perf %.2f%% differ by more than %.1f points", share.description, mine, theirs,
        tolerance) + tables, file: file, line: line)
    if let expected {
        XCTAssertLessThanOrEqual(abs(mine - expected), expectedTolerance, String(format:
            "%@: tprof shows %.2f%%, the workload is built for %.1f%%", share.description, mine, expected) + tables,
            file: file, line: line)
    }
}
