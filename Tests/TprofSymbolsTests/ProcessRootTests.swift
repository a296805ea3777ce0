import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// A program that exists only inside a private mount namespace (a tmpfs mounted by `unshare -m` over a directory
/// whose host copy holds a decoy program with other names) or under a chroot is named from its own file, read
/// through its process's root while it ran, whether recorded as a command, with -a or with -p.
final class ProcessRootTests: XCTestCase {
    /// The program, its decoy at the host path and the place the namespace mounts its tmpfs.
    private struct Setting {
        let directory: TemporaryDirectory
        let program: String
        /// The directory the namespace mounts a tmpfs over; on the host it holds the decoy under the program's name.
        let mountPoint: String
        var pathInNamespace: String { mountPoint + "/split" }

        init(_ test: XCTestCase) throws {
            directory = try test.makeTemporaryDirectory(prefix: "tprof-process-root")
            program = try compileC(source: Self.source("split_in_ns"), name: "split", in: directory)
            mountPoint = directory.file("mnt")
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            let decoy = try compileC(source: Self.source("decoy_on_host"), name: "decoy", in: directory)
            try FileManager.default.copyItem(atPath: decoy, toPath: pathInNamespace)
        }

        /// `unshare -m` running the program from a tmpfs only its namespace sees, for SECONDS of CPU; exec keeps the
        /// process id.
        func unshareArguments(seconds: String) -> [String] {
            ["/usr/bin/unshare", "-m", "/bin/sh", "-c",
             "mount -t tmpfs none \"$1\" && cp \"$2\" \"$1/split\" && exec \"$1/split\" \"$3\"", "sh", mountPoint,
             program, seconds]
        }

        static func source(_ function: String) -> String {
            """
            #include <stdlib.h>
            #include <time.h>
            static volatile unsigned long sink;
            __attribute__((noinline)) void \(function)(void) {
                for (unsigned long i = 0; i < 100000; i++) sink += i * i;
            }
            int main(int argc, char **argv) {
                double seconds = argc > 1 ? atof(argv[1]) : 1;
                struct timespec t;
                do {
                    \(function)();
                    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
                } while (t.tv_sec + t.tv_nsec / 1e9 < seconds);
                return 0;
            }
            """
        }
    }

    /// Most of the program's user samples are named `function`, from a file read through the process's root.
    private func assertNamed(_ database: String, path: String, function: String, file: StaticString = #filePath,
                             line: UInt = #line) throws {
        let db = try Database(path: database)
        let where_ = "FROM symbol_groups WHERE dso = '\(path)' AND mode_name = 'user'"
        let total = try db.scalarInt("SELECT coalesce(sum(samples), 0) \(where_)")
        let named = try db.scalarInt("SELECT coalesce(sum(samples), 0) \(where_) AND symbol = '\(function)'")
        XCTAssertGreaterThan(total, 50, "samples in \(path)", file: file, line: line)
        XCTAssertGreaterThan(Double(named), 0.9 * Double(total), "\(named) of \(total) samples named \(function):\n"
            + ((try? db.rows("SELECT symbol, samples, dso \(where_)").map { "\($0)" }.joined(separator: "\n")) ?? ""),
            file: file, line: line)
        XCTAssertEqual(try db.scalarText("SELECT file_source FROM dsos WHERE path = '\(path)'"), "process-root",
                       file: file, line: line)
        XCTAssertEqual(try db.scalarText("SELECT symbol_source FROM dsos WHERE path = '\(path)'"), "symtab",
                       file: file, line: line)
        XCTAssertGreaterThan(try db.scalarInt("SELECT count(*) FROM process_roots"), 0, file: file, line: line)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM symbol_groups WHERE symbol = 'decoy_on_host'"), 0,
                       "the host's file at the same path is another file", file: file, line: line)
    }

    private func record(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try Tool.record.run(["-q", "-e", "cpu-clock"] + arguments, timeout: 60)
        assertNoCrash(result, file: file, line: line)
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
    }

    func testCommandInAPrivateMountNamespaceIsNamedAndStaysNamedWhenResolvedAgain() throws {
        let setting = try Setting(self)
        let database = setting.directory.file("command.db")

        try record(["-o", database, "--"] + setting.unshareArguments(seconds: "0.3"))

        try assertNamed(database, path: setting.pathInNamespace, function: "split_in_ns")
        let db = try Database(path: database)
        let pid = try db.scalarInt("SELECT pid FROM process_roots")
        let namespace = try db.scalarInt("SELECT mount_namespace FROM process_roots WHERE pid = \(pid)")
        let own = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        XCTAssertGreaterThan(namespace, 0)
        XCTAssertNotEqual("mnt:[\(namespace)]", own, "the process's own namespace is recorded")
        XCTAssertEqual(try db.scalarText("SELECT root FROM process_roots WHERE pid = \(pid)"), "/")
        // The namespace is gone: resolving again finds the decoy at the path, which is not the file that ran.
        let again = try Tool.report.run(["--resymbolize", database])
        assertNoCrash(again)
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertEqual(try Database(path: database).scalarInt(
            "SELECT count(*) FROM symbol_groups WHERE symbol = 'decoy_on_host'"), 0)
        XCTAssertGreaterThan(try Database(path: database).scalarInt(
            "SELECT count(*) FROM symbol_groups WHERE symbol = 'split_in_ns'"), 0, "earlier names are kept")
    }

    func testProcessInAPrivateMountNamespaceIsNamedSystemWideAndAttached() throws {
        let setting = try Setting(self)
        for target in ["-a", "-p"] {
            let running = try ChildProcess(executable: "/usr/bin/unshare",
                                           arguments: Array(setting.unshareArguments(seconds: "30").dropFirst()))
            defer { running.send(SIGKILL) }
            XCTAssertTrue(Processes.waitUntil(timeout: 10) {
                (try? String(contentsOfFile: "/proc/\(running.pid)/comm")) == "split\n"
            }, "the program did not start in its namespace")
            let database = setting.directory.file("target\(target).db")

            try record(["-o", database, "-d", "0.6"] + (target == "-a" ? ["-a"] : ["-p", "\(running.pid)"]))

            try assertNamed(database, path: setting.pathInNamespace, function: "split_in_ns")
        }
    }

    func testCommandInAChrootIsNamed() throws {
        let setting = try Setting(self)
        let root = setting.directory.file("root")
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        let program = try compileC(source: Setting.source("split_in_chroot"), name: "static", flags: ["-static"],
                                   in: setting.directory)
        try FileManager.default.copyItem(atPath: program, toPath: root + "/bin/split")
        let database = setting.directory.file("chroot.db")

        try record(["-o", database, "--", "/usr/sbin/chroot", root, "/bin/split", "0.3"])

        try assertNamed(database, path: "/bin/split", function: "split_in_chroot")
        XCTAssertEqual(try Database(path: database).scalarText("SELECT root FROM process_roots"), root)
    }
}
