import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// The profiled command's stdout, stderr and exit status are the same with and without tprof-record.
final class CommandTransparencyTests: XCTestCase {
    /// Prints to both streams, interleaved and flushed, reads its arguments, and exits 7.
    static let source = #"""
        #include <stdio.h>
        #include <stdlib.h>
        #include <unistd.h>

        int main(int argc, char **argv) {
            printf("out: %d arguments\n", argc - 1);
            for (int i = 1; i < argc; i++) printf("out: [%s]\n", argv[i]);
            fflush(stdout);
            fprintf(stderr, "err: first\n");
            volatile unsigned long x = 0;
            for (unsigned long i = 0; i < 50000000UL; i++) x += i;
            printf("out: worked %lu\n", x > 0 ? 1UL : 0UL);
            fprintf(stderr, "err: second, stdin is %s\n", isatty(0) ? "a terminal" : "not a terminal");
            return 7;
        }
        """#

    func testCommandOutputAndExitStatusPassThroughUnchanged() throws {
        let workspace = try FaultWorkspace(for: self)
        let program = try compileC(source: Self.source, name: "twostreams", in: workspace.directory)
        let commands: [[String]] = [
            [program],
            [program, "a b", "", "--", "-F", "999", "ünïcode"],
            ["/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"],
            ["/bin/sh", "-c", "printf 'no newline'; printf 'err no newline' >&2; exit 0"],
            ["/bin/sh", "-c", "kill -TERM $$"],
            // Signals the recorder blocks or ignores for itself are neither blocked nor ignored in the command.
            ["/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"],
        ]
        var cases = 0
        for (index, command) in commands.enumerated() {
            let direct = try ChildProcess.run(command[0], Array(command.dropFirst()), timeout: 60)
            let output = workspace.file("transparent-\(index).db")
            let recorded = try Tool.record.run(["-q", "-o", output, "--"] + command, timeout: 60)
            cases += 1
            let context = command.joined(separator: " ")
            assertNoTrap(recorded, context)
            XCTAssertEqual(recorded.stdout, direct.stdout, "\(context): stdout differs")
            XCTAssertEqual(recorded.stderr, direct.stderr, "\(context): stderr differs")
            if let signal = direct.signal {
                XCTAssertEqual(recorded.status, 128 + signal, "\(context): a signal ending the command is 128+N")
            } else {
                XCTAssertEqual(recorded.status, direct.status, "\(context): exit status differs")
            }
            let database = try Database(path: output)
            XCTAssertEqual(try database.scalarText("SELECT status FROM run"), "complete", context)
            if direct.signal == nil {
                XCTAssertEqual(try database.scalarInt("SELECT exit_status FROM run"), Int64(direct.status), context)
            }
        }
        print("command transparency: \(cases) cases")
    }
}
