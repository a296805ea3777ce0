import TprofCapture
import XCTest

/// Event names with aliases and :u / :k modifiers resolve to a perf type and config, or fail with a clear message.
final class EventSpecParsingTests: XCTestCase {
    func testCanonicalNamesResolveToTypeAndConfig() throws {
        let cycles = try EventSpec.parse("cycles")
        let cpuClock = try EventSpec.parse("cpu-clock")
        let pageFaults = try EventSpec.parse("page-faults")

        XCTAssertEqual(cycles, EventSpec(name: "cycles", baseName: "cycles", type: 0, config: 0, excludeUser: false,
                                         excludeKernel: false))
        XCTAssertTrue(cycles.isHardware)
        XCTAssertEqual(cpuClock, EventSpec(name: "cpu-clock", baseName: "cpu-clock", type: 1, config: 0,
                                           excludeUser: false, excludeKernel: false))
        XCTAssertFalse(cpuClock.isHardware)
        XCTAssertEqual(pageFaults.type, 1)
        XCTAssertEqual(pageFaults.config, 2)
    }

    func testAliasesResolveToTheCanonicalBaseName() throws {
        let aliases = ["cpu-cycles": "cycles", "branches": "branch-instructions", "faults": "page-faults",
                       "cs": "context-switches", "migrations": "cpu-migrations"]
        for (alias, canonical) in aliases {
            let spec = try EventSpec.parse(alias)
            XCTAssertEqual(spec.baseName, canonical, alias)
            XCTAssertEqual(spec.name, alias, "the name as given is kept")
        }
    }

    func testNamesAreCaseInsensitive() throws {
        let spec = try EventSpec.parse("CPU-Clock")
        XCTAssertEqual(spec.baseName, "cpu-clock")
        XCTAssertEqual(spec.name, "CPU-Clock")
    }

    func testModifiersSelectUserAndKernel() throws {
        let user = try EventSpec.parse("cpu-clock:u")
        let kernel = try EventSpec.parse("cpu-clock:k")
        let both = try EventSpec.parse("cpu-clock:uk")
        let plain = try EventSpec.parse("cpu-clock")

        XCTAssertEqual([user.excludeUser, user.excludeKernel], [false, true])
        XCTAssertEqual([kernel.excludeUser, kernel.excludeKernel], [true, false])
        XCTAssertEqual([both.excludeUser, both.excludeKernel], [false, false])
        XCTAssertEqual([plain.excludeUser, plain.excludeKernel], [false, false])
        XCTAssertEqual(user.name, "cpu-clock:u")
        XCTAssertEqual(user.baseName, "cpu-clock")
    }

    func testUserOnlyVariantUsedForTheFallback() throws {
        let kernelOnly = try EventSpec.parse("cs:k").userOnly

        XCTAssertEqual(kernelOnly.name, "context-switches:u")
        XCTAssertFalse(kernelOnly.excludeUser)
        XCTAssertTrue(kernelOnly.excludeKernel)
    }

    func testUnknownEventIsRejectedWithAPointerToListEvents() {
        for name in ["nosuchevent", "nosuchevent:u", "", "cycles2"] {
            XCTAssertThrowsError(try EventSpec.parse(name), name) { error in
                XCTAssertEqual(error as? EventSpec.ParseError, .unknownEvent(name))
                XCTAssertTrue("\(error)".contains("--list-events"), "\(error)")
            }
        }
    }

    func testBadModifiersAreRejected() {
        let cases = ["cycles:": "", "cycles:x": "x", "cycles:uz": "uz", "cpu-clock:u:k": "u:k", "cycles:U": "U"]
        for (text, modifier) in cases {
            XCTAssertThrowsError(try EventSpec.parse(text), text) { error in
                XCTAssertEqual(error as? EventSpec.ParseError, .badModifier(event: text, modifier: modifier))
                XCTAssertTrue("\(error)".contains(":u for user"), "\(error)")
            }
        }
    }

    func testTracepointNamesAreSaidToBeUnsupported() {
        for name in ["sched:sched_switch", "syscalls:sys_enter_read", "raw_syscalls:sys_exit", "irq:irq_handler_entry"] {
            XCTAssertThrowsError(try EventSpec.parse(name), name) { error in
                XCTAssertEqual(error as? EventSpec.ParseError, .tracepoint(name))
                XCTAssertTrue("\(error)".contains("tracepoints are not supported"), "\(error)")
            }
        }
    }

    func testModesGivenOnlyWithAModifier() throws {
        XCTAssertFalse(try EventSpec.parse("cpu-clock").modesGiven, "left to tprof: may fall back to :u")
        for name in ["cpu-clock:u", "cpu-clock:k", "cycles:uk"] {
            XCTAssertTrue(try EventSpec.parse(name).modesGiven, name)
        }
    }

    func testEveryCatalogNameAndAliasParses() throws {
        for entry in EventSpec.catalog {
            for name in [entry.name] + entry.aliases {
                let spec = try EventSpec.parse(name)
                XCTAssertEqual(spec.baseName, entry.name)
                XCTAssertEqual(spec.type, entry.type)
                XCTAssertEqual(spec.config, entry.config)
            }
        }
    }
}
