import Foundation
import TprofTestSupport
import XCTest

/// A Swift release build (`swiftc -O -g`, no frame pointers): DWARF unwinding gives the demangled chain
/// main -> burnOuter -> burnInner; frame pointers give burnInner alone.
final class SwiftUnwindTests: XCTestCase {
    private static func isOuter(_ frame: String) -> Bool { frame.contains(".burnOuter(") }
    private static func isInner(_ frame: String) -> Bool { frame.contains(".burnInner(") }

    func testTheBinaryHasNoFramePointers() throws {
        let workbench = try UnwindWorkbench.shared()
        let result = try UnwindWorkbench.run("/usr/bin/objdump", ["-d", "--no-show-raw-insn", workbench.swiftProgram])
        // burnOuter's prologue: no 'push %rbp; mov %rsp,%rbp'.
        let lines = result.stdout.split(separator: "\n")
        let start = try XCTUnwrap(lines.firstIndex { $0.contains("burnOuter") && $0.hasSuffix(">:") },
                                  "no burnOuter in the disassembly")
        let prologue = lines[(start + 1)..<min(lines.count, start + 4)].joined(separator: "\n")
        XCTAssertFalse(prologue.contains("mov    %rsp,%rbp"), "burnOuter sets up a frame pointer:\n\(prologue)")
    }

    func testDwarfGivesTheDemangledChain() throws {
        let workbench = try UnwindWorkbench.shared()
        let database = try workbench.recording("swift-dwarf", options: ["-F", "999", "--call-graph", "dwarf"],
                                               program: workbench.swiftProgram, arguments: ["1"])
        let stacks = try UnwindWorkbench.folded(database)
        XCTAssertGreaterThan(stacks.total, 500)
        let inInner = stacks.share { $0.contains(where: Self.isInner) }
        XCTAssertGreaterThan(inInner, 90)
        // main, then burnOuter, then burnInner, adjacent and in that order, with demangled names.
        let chained = stacks.share { frames in
            guard let inner = frames.firstIndex(where: Self.isInner), inner >= 2 else { return false }
            return Self.isOuter(frames[inner - 1]) && frames[inner - 2] == "main"
        }
        print("swift, dwarf: \(String(format: "%.2f", chained))% of samples have main;burnOuter;burnInner "
            + "(\(String(format: "%.2f", inInner))% are in burnInner)")
        XCTAssertGreaterThan(chained, 85)
        XCTAssertTrue(stacks.stacks.contains { stack in
            stack.frames.contains("\(UnwindWorkload.swiftName).burnOuter(Swift.UInt64) -> Swift.UInt64")
        }, "burnOuter's demangled name is missing: \(stacks.stacks.prefix(3).map(\.frames))")
        XCTAssertFalse(stacks.stacks.contains { $0.frames.contains { $0.hasPrefix("$s") } }, "a mangled name")
    }

    func testFramePointersGiveBurnInnerAlone() throws {
        let workbench = try UnwindWorkbench.shared()
        let database = try workbench.recording("swift-fp", options: ["-F", "999", "-g"],
                                               program: workbench.swiftProgram, arguments: ["1"])
        let stacks = try UnwindWorkbench.folded(database)
        XCTAssertGreaterThan(stacks.total, 500)
        let withOuter = stacks.share { $0.contains(where: Self.isOuter) }
        let innerAlone = stacks.share { $0.first.map(Self.isInner) ?? false }
        print("swift, frame pointers: \(String(format: "%.2f", withOuter))% of samples show burnOuter, "
            + "\(String(format: "%.2f", innerAlone))% start at burnInner")
        // burnInner's caller is lost: without frame pointers the walk stops at the sampled function.
        XCTAssertLessThan(withOuter, 5)
        XCTAssertGreaterThan(innerAlone, 85)
    }
}
