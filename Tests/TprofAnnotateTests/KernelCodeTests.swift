import Foundation
@testable import TprofSymbols
import TprofTestSupport
import XCTest

/// Kernel functions: their code from /proc/kcore as root, or the report says why it has none and shows the
/// sampled addresses.
final class KernelCodeTests: XCTestCase {
    private static let syscallSource = #"""
        #include <fcntl.h>
        #include <unistd.h>

        int main(void) {
            static char buffer[1 << 16];
            int fd = open("/dev/zero", O_RDONLY);
            for (int i = 0; i < 40000; i++) read(fd, buffer, sizeof buffer);
            return 0;
        }
        """#

    func testTheHottestKernelFunctionAnnotatesOrSaysWhyItCannot() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-annotate-kernel")
        let program = try compileC(source: Self.syscallSource, name: "reader", in: directory)
        let database = directory.file("run.db")
        let recorded = try Tool.record.run(["-q", "-o", database, "--", program])
        XCTAssertEqual(recorded.status, 0, recorded.summary)
        let rows = try annotateRows(database, ".", ["--kernel"])
        XCTAssertFalse(rows.isEmpty)
        let table = try Tool.report.run([database, "--annotate", ".", "--kernel"])
        XCTAssertEqual(table.status, 0, table.summary)
        XCTAssertTrue(table.stdout.contains("[k] [kernel.kallsyms]"), table.stdout)
        if access("/proc/kcore", R_OK) == 0 {
            XCTAssertFalse(rows.contains { $0["instruction"]?.isEmpty ?? true }, "disassembled from /proc/kcore")
            XCTAssertFalse(table.stdout.contains("code not shown"), table.stdout)
        } else {
            // This kernel has no /proc/kcore (CONFIG_PROC_KCORE off) or it cannot be read: said, addresses only.
            XCTAssertTrue(table.stdout.contains("code not shown: the kernel's code cannot be read from /proc/kcore"),
                          table.stdout)
            XCTAssertTrue(rows.allSatisfy { $0["instruction"] == "" && $0["address"]?.hasPrefix("0xffff") == true },
                          "\(rows)")
            XCTAssertGreaterThan(samples(rows).min() ?? 0, 0, "one row per sampled address")
        }
    }

    /// The vdso's code is the running kernel's vdso, which every process maps (the recorder's too).
    func testVdsoFunctionsAnnotateFromTheRunningKernelsVdso() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-annotate-vdso")
        let program = try compileC(source: """
            #include <time.h>
            int main(void) {
                struct timespec ts;
                for (int i = 0; i < 10000000; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
                return 0;
            }
            """, name: "clock", in: directory)
        let database = directory.file("run.db")
        let recorded = try Tool.record.run(["-q", "-o", database, "--", program])
        XCTAssertEqual(recorded.status, 0, recorded.summary)
        let rows = try annotateRows(database, "^__vdso_clock_gettime$")
        XCTAssertFalse(rows.isEmpty)
        XCTAssertFalse(rows.contains { $0["instruction"]?.isEmpty ?? true }, "\(rows)")
        XCTAssertEqual(samples(rows).reduce(0, +), try bySymbolSamples(database, "__vdso_clock_gettime"))
    }

    /// /proc/kcore is an ELF core file whose PT_LOAD segments map addresses to file offsets, as an executable's
    /// do: read through them, an executable's function is the code its section holds.
    func testCoreSegmentsGiveTheCodeAtAnAddress() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-annotate-core")
        let program = try HotLoop.build(in: directory)
        let image = try XCTUnwrap(ElfImage(path: program))
        let symbol = try XCTUnwrap(image.symbols.first { $0.name == "hot_loop" })
        let expected = try XCTUnwrap(image.code(at: symbol.address, count: Int(symbol.size)))
        XCTAssertEqual(expected.count, Int(symbol.size))
        let core = KernelCore(path: program)
        XCTAssertNil(core.failure)
        XCTAssertEqual(core.code(at: symbol.address, count: Int(symbol.size)), expected)
        XCTAssertNil(core.code(at: 0xffff_ffff_0000_0000, count: 16), "no segment covers it")
        XCTAssertNotNil(KernelCore(path: directory.file("missing")).failure)
    }
}
