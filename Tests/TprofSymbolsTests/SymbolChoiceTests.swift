import Foundation
import TprofTestSupport
import XCTest
@testable import TprofSymbols

/// Of several names at one address, the one perf shows (its choose_best_symbol): sized over size 0, non-weak over
/// weak, global over local, fewer leading underscores, the longer name.
final class SymbolChoiceTests: XCTestCase {
    /// Pairs of names at one address, each pair decided by one of perf's rules; main calls them all.
    static let aliases = #"""
        #include <stdlib.h>

        /* Sized against size 0: a global size-0 label at the start of a sized function, with a longer name. */
        __asm__(".text\n"
                ".globl size_zero_label_with_a_longer_name\n"
                ".type size_zero_label_with_a_longer_name, @function\n"
                ".globl sized\n"
                ".type sized, @function\n"
                "size_zero_label_with_a_longer_name:\n"
                "sized:\n"
                "    leal 1(%rdi,%rdi,2), %eax\n"
                "    ret\n"
                ".size sized, .-sized\n");
        int sized(int x);

        /* Non-weak against weak: a weak alias with a longer name. */
        __attribute__((used, noinline)) int strong(int x) { return x * 5 + 2; }
        int weak_alias_with_a_longer_name(int) __attribute__((weak, alias("strong")));

        /* A local beats a weak alias too: perf asks about weak before global. */
        __attribute__((used, noinline)) static int local_beats_weak(int x) { return x * 7 + 3; }
        int weak_alias_of_a_local_with_a_longer_name(int) __attribute__((weak, alias("local_beats_weak")));

        /* Global against local: the local has the longer name. */
        __attribute__((used, noinline)) static int local_with_a_longer_name(int x) { return x * 9 + 4; }
        int global_alias(int) __attribute__((alias("local_with_a_longer_name")));

        /* Fewer leading underscores, then the longer name. */
        __attribute__((used, noinline)) int __two_underscores_longer(int x) { return x * 11 + 5; }
        int _one(int) __attribute__((alias("__two_underscores_longer")));
        __attribute__((used, noinline)) int short_name(int x) { return x * 13 + 6; }
        int longer_name(int) __attribute__((alias("short_name")));

        int main(int argc, char **argv) {
            int n = argc;
            n += sized(n) + strong(n) + local_beats_weak(n) + global_alias(n) + _one(n) + longer_name(n);
            return n == 42;
        }
        """#

    /// The program spends its time in libc's memmove and memcpy (one implementation with two names in Debian's
    /// libc) and in strtold (`__GI_____strtold_l_internal` and `____strtold_l_internal`).
    static let libcAliases = #"""
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>

        static char a[1 << 16], b[1 << 16];
        static volatile long double sink;

        int main(int argc, char **argv) {
            double seconds = argc > 1 ? atof(argv[1]) : 1.0;
            struct timespec ts;
            for (;;) {
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
                if (ts.tv_sec + ts.tv_nsec / 1e9 >= seconds) break;
                for (int i = 0; i < 64; i++) {
                    memmove(a + 1, a, sizeof a - 1);
                    memcpy(b, a, sizeof b);
                    sink += strtold("3.14159265358979323846264338327950288419716939937510e-17", NULL);
                }
            }
            return 0;
        }
        """#

    func testAliasesAreNamedAsPerfNamesThem() throws {
        let bench = try SymbolWorkbench()
        let program = try bench.compile("gcc", source: Self.aliases, fileName: "aliases.c", output: "aliases",
                                        arguments: ["-O1", "-o", "{out}", "{src}"])
        let listing = try ChildProcess.run(try SymbolWorkbench.which("nm"), [program], timeout: 60)
        XCTAssertEqual(listing.status, 0, listing.summary)
        var addresses: [String: UInt64] = [:]
        for line in listing.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 3, let address = UInt64(fields[0], radix: 16) { addresses[String(fields[2])] = address }
        }
        let image = try XCTUnwrap(ElfImage(path: program))
        let expected = [("sized", "size_zero_label_with_a_longer_name"), ("strong", "weak_alias_with_a_longer_name"),
                        ("local_beats_weak", "weak_alias_of_a_local_with_a_longer_name"),
                        ("global_alias", "local_with_a_longer_name"), ("_one", "__two_underscores_longer"),
                        ("longer_name", "short_name")]
        for (chosen, other) in expected {
            let address = try XCTUnwrap(addresses[chosen], "nm does not list \(chosen)")
            XCTAssertEqual(addresses[other], address, "\(chosen) and \(other) should share an address")
            // At the entry and inside the function.
            XCTAssertEqual(image.symbol(at: address)?.name, chosen, "at \(chosen)'s address")
            XCTAssertEqual(image.symbol(at: address + 1)?.name, chosen, "inside \(chosen)")
            XCTAssertFalse(image.symbols.contains { $0.name == other }, "\(other) should give way to \(chosen)")
        }
    }

    func testLibcNamesEqualPerfsOnOneExecution() throws {
        let bench = try SymbolWorkbench()
        let program = try bench.compileC(Self.libcAliases, name: "libcalias")
        let both = try bench.recordWithPerf([program, "2.5"])
        try both.assertSameSampleCount()
        let tprof = try both.tprofProfile()
        let tables = "\n--- tprof ---\n\(tprof.listing)\n--- perf ---\n\(both.perf.listing)"
        let libc = tprof.rows.filter { $0.dso?.contains("libc.so") == true && $0.percent >= 1 }
        XCTAssertGreaterThanOrEqual(libc.count, 2, "the program should spend its time in libc" + tables)
        // Every name with at least 1% in either tool is the other's too, with about the same share: the two tools'
        // timers fire at slightly different moments, which moves a share of 80% in 2,500 samples by 1.1 points (one
        // standard deviation): the bound is three.
        let names = Set((tprof.rows + both.perf.rows).filter { $0.percent >= 1 }.map(\.symbol))
        for name in names.sorted() {
            assertShare(.symbol(name), tprof: tprof, perf: both.perf, within: 3.5)
        }
        XCTAssertFalse(tprof.rows.contains { $0.symbol.hasPrefix("__memcpy_") }, "memmove's alias is named" + tables)
        XCTAssertGreaterThan(tprof.share(of: "__GI_____strtold_l_internal"), 1, tables)
    }
}
