import Foundation
import TprofTestSupport
import XCTest
@testable import TprofSymbols

/// Samples in a PLT stub are named `func@plt`, as perf names them, and count as resolved.
final class PltStubTests: XCTestCase {
    /// A function of one instruction in `libtiny.so`.
    static let tinyLibrary = "int tiny(int x) { return x + 1; }\n"

    /// A loop that calls `tiny` through the PLT of the executable (the library is not known at link time, so the
    /// call cannot be inlined): a quarter of the time is in the stub's one jump.
    static let pltCaller = #"""
        #include <stdlib.h>
        #include <time.h>

        int tiny(int x);
        static volatile int sink;

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? atof(argv[1]) : 1.0;
            struct timespec ts;
            int x = 0;
            for (;;) {
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
                if (ts.tv_sec + ts.tv_nsec / 1e9 >= seconds) break;
                for (int i = 0; i < 100000; i++) x = tiny(x);
            }
            sink = x;
            return 0;
        }
        """#

    /// Builds libtiny.so and the caller, linked with lazy binding through `.plt` (gcc's default, no -fno-plt).
    func buildCaller(in bench: SymbolWorkbench) throws -> String {
        try bench.compile("gcc", source: Self.tinyLibrary, fileName: "tiny.c", output: "libtiny.so",
                          arguments: ["-O1", "-shared", "-fPIC", "-o", "{out}", "{src}"])
        return try bench.compile("gcc", source: Self.pltCaller, fileName: "caller.c", output: "pltcaller",
                                 arguments: ["-O1", "-g", "-fno-omit-frame-pointer", "-o", "{out}", "{src}", "-L",
                                             bench.directory.path, "-ltiny", "-Wl,-rpath," + bench.directory.path])
    }

    func testStubsOfTheExecutableAreSymbols() throws {
        let bench = try SymbolWorkbench()
        let program = try buildCaller(in: bench)
        let image = try XCTUnwrap(ElfImage(path: program))
        let stubs = image.symbols.filter { $0.name.hasSuffix("@plt") }
        let tiny = try XCTUnwrap(stubs.first { $0.name == "tiny@plt" }, "no tiny@plt in \(stubs.map(\.name))")
        XCTAssertEqual(tiny.size, 16, "an x86-64 PLT stub is 16 bytes")
        XCTAssertEqual(image.symbol(at: tiny.address + 15)?.name, "tiny@plt")
        // The stubs follow the lazy-binding header, one after another in the order of their GOT slots.
        let objdump = try ChildProcess.run(try SymbolWorkbench.which("objdump"), ["-d", "-j", ".plt", program])
        for stub in stubs {
            let label = String(format: "%016lx <%@>:", stub.address, stub.name)
            XCTAssertTrue(objdump.stdout.contains(label), "objdump -d does not show \(label)\n\(objdump.stdout)")
        }
    }

    func testSamplesInAStubAreNamedAsPerfNamesThem() throws {
        let bench = try SymbolWorkbench()
        let program = try buildCaller(in: bench)
        let both = try bench.recordWithPerf([program, "3"])
        try both.assertSameSampleCount()
        let tprof = try both.tprofProfile()
        // The stub is one jump in a tight loop: two timers on one execution alias differently on so few
        // instructions (22.6% against 27.7% once), so the shares are compared loosely; the names exactly.
        assertShare(.symbol("tiny@plt"), tprof: tprof, perf: both.perf, within: 10, expected: 25, expectedTolerance: 15)
        XCTAssertEqual(tprof.rows.first { $0.symbol == "tiny@plt" }?.dso, program, tprof.listing)
        // No sample of the executable is left with only its file and offset.
        let escaped = program.replacingOccurrences(of: "'", with: "''")
        let unnamed = try both.tprof.open().scalarInt("""
            SELECT coalesce(sum(c.samples), 0) FROM symbol_counts c JOIN addresses a ON a.id = c.address_id
            JOIN dsos d ON d.id = a.dso_id WHERE c.pid = \(both.pid) AND a.symbol_id IS NULL AND d.path = '\(escaped)'
            """)
        XCTAssertEqual(unnamed, 0, "samples in the executable without a symbol\n\(tprof.listing)")
    }
}
