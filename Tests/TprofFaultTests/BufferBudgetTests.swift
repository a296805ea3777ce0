import Foundation
import TprofRecorder
import TprofTestSupport
import XCTest

/// Every combination of capture flags keeps the sample buffers inside the memory budget, or is refused before
/// anything is created with one line naming the flags and the budget.
final class BufferBudgetTests: XCTestCase {
    private let budget = RecordOptions.bufferMemoryBudget

    /// Asserts the plan for `request` fits the budget and keeps every size the user gave; returns it, or nil when
    /// it was refused (with a message naming the budget and every size given).
    @discardableResult
    private func assertWithinBudget(_ request: BufferPlan.Request, file: StaticString = #filePath,
                                    line: UInt = #line) -> BufferPlan? {
        let context = "\(request)"
        do {
            let plan = try BufferPlan(request)
            XCTAssertLessThanOrEqual(plan.totalBytes(cpuCount: request.cpuCount), budget, context, file: file,
                                     line: line)
            XCTAssertGreaterThanOrEqual(plan.bufferSamples, 1, context, file: file, line: line)
            XCTAssertGreaterThanOrEqual(plan.bufferLimit, 1, context, file: file, line: line)
            if let given = request.bufferSamples { XCTAssertEqual(plan.bufferSamples, given, context) }
            if let given = request.bufferLimit { XCTAssertEqual(plan.bufferLimit, given, context) }
            return plan
        } catch {
            let message = "\(error)"
            XCTAssertTrue(message.contains("above the 32 MB budget"), message, file: file, line: line)
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
            if let given = request.bufferSamples {
                XCTAssertTrue(message.contains("--buffer-samples \(given)"), message, file: file, line: line)
            }
            if let given = request.bufferLimit {
                XCTAssertTrue(message.contains("--buffer-limit \(given)"), message, file: file, line: line)
            }
            return nil
        }
    }

    func testEveryCombinationOfFlagsFitsTheBudgetOrIsRefused() {
        var planned = 0
        var refused = 0
        for samples in [nil, 1, 1000, 16_384, 100_000, 10_000_000] as [Int?] {
            for limit in [nil, 1, 2, 1000, 100_000] as [Int?] {
                for frequency in [1, 999, 100_000] as [UInt64] {
                    for flush in [1, 125, 60_000] {
                        for stack in [nil, 8, 8192, 65528] as [Int?] {
                            for callChains in [false, true] {
                                for cpus in [1, 2, 64, 256] {
                                    let request = BufferPlan.Request(
                                        bufferSamples: samples, bufferLimit: limit, frequency: frequency,
                                        flushIntervalMs: flush, callChains: callChains || stack != nil,
                                        userStackSize: stack, cpuCount: cpus)
                                    if assertWithinBudget(request) == nil { refused += 1 } else { planned += 1 }
                                }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(planned, 0)
        XCTAssertGreaterThan(refused, 0)
        print("buffer plans: \(planned) within the budget, \(refused) refused")
    }

    func testSizesLeftToTprofAlwaysFit() throws {
        for stack in [nil, 8192, 65528] as [Int?] {
            for cpus in [1, 2, 64, 256] {
                let plan = try BufferPlan(.init(bufferSamples: nil, bufferLimit: nil, frequency: 100_000,
                                                flushIntervalMs: 60_000, callChains: stack != nil,
                                                userStackSize: stack, cpuCount: cpus))
                XCTAssertLessThanOrEqual(plan.totalBytes(cpuCount: cpus), budget, "dwarf \(stack ?? 0), \(cpus) CPUs")
                XCTAssertGreaterThanOrEqual(plan.bufferLimit, 2)
            }
        }
        // The usual sizes are unchanged where they fit: two flush intervals of samples, 256 stack copies.
        let usual = try BufferPlan(.init(bufferSamples: nil, bufferLimit: nil, frequency: 999, flushIntervalMs: 125,
                                         callChains: false, userStackSize: nil, cpuCount: 2))
        XCTAssertEqual(usual.bufferSamples, 1024)
        let dwarf = try BufferPlan(.init(bufferSamples: nil, bufferLimit: nil, frequency: 999, flushIntervalMs: 125,
                                         callChains: true, userStackSize: 8192, cpuCount: 2))
        XCTAssertEqual(dwarf.bufferSamples, 256)
    }

    func testHugeBuffersAreRefusedUpFrontWithOneLine() throws {
        let workspace = try FaultWorkspace(for: self)
        let output = workspace.file("huge.db")

        let result = try Tool.record.run(["-o", output, "--buffer-samples", "10000000", "--flush-interval", "60000",
                                          "--", "true"])

        assertOneLineError(result, contains: "--buffer-samples 10000000", "above the 32 MB budget")
        for suffix in ["", "-wal", "-shm"] { assertNoFile(output + suffix) }
    }
}
