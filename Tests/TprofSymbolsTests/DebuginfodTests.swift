import Foundation
import Glibc
import TprofTestSupport
import XCTest

/// A stripped program whose debug file (`objcopy --only-keep-debug`) only a debuginfod server on 127.0.0.1 has:
/// with `DEBUGINFOD_URLS` naming it, tprof-record and `tprof-report --resymbolize` name its functions and source
/// lines; without the server, or with `--no-debuginfod`, its addresses stay `file+0xOFFSET`.
final class DebuginfodTests: XCTestCase {
    /// The stripped program, and a debuginfod server serving its debug file, started for one test.
    private final class Server {
        let directory: TemporaryDirectory
        let program: String
        let url: String
        private let process: ChildProcess

        init(_ test: XCTestCase) throws {
            directory = try test.makeTemporaryDirectory(prefix: "tprof-debuginfod")
            program = try compileC(source: Workload.spinSource, name: "stripped", in: directory)
            let served = directory.file("served")
            try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
            try Self.run("/usr/bin/objcopy", ["--only-keep-debug", program, served + "/stripped.debug"])
            try Self.run("/usr/bin/strip", ["--strip-all", program])
            let port = try Self.freePort()
            url = "http://127.0.0.1:\(port)"
            process = try ChildProcess(executable: "/usr/bin/debuginfod",
                                       arguments: ["-F", served, "-p", "\(port)", "-d", directory.file("index.sqlite")])
            try waitUntilServed()
        }

        deinit { process.send(SIGKILL) }

        /// The environment a tool is run in to use the server, with a cache of the test's own.
        func environment(cache: String) -> [String] {
            ["DEBUGINFOD_URLS=\(url)", "DEBUGINFOD_CACHE_PATH=\(directory.file(cache))"]
        }

        /// Runs a tool under `env` with `variables`.
        func run(_ tool: Tool, _ arguments: [String], variables: [String]) throws -> ProcessResult {
            try ChildProcess.run("/usr/bin/env", variables + [try tool.path()] + arguments, timeout: 60)
        }

        /// debuginfod indexes its directory after it starts listening: asks until the debug file is there, each
        /// time with a new cache (libdebuginfod remembers a miss for 10 minutes).
        private func waitUntilServed() throws {
            let buildID = try Self.buildID(of: program)
            for attempt in 0..<100 {
                let found = try ChildProcess.run("/usr/bin/env", environment(cache: "probe-cache-\(attempt)")
                    + ["/usr/bin/debuginfod-find", "debuginfo", buildID], timeout: 30)
                if found.status == 0 { return }
                usleep(100_000)
            }
            throw TestSupportError("debuginfod on \(url) never served the debug file of \(program)")
        }

        private static func buildID(of file: String) throws -> String {
            let notes = try ChildProcess.run("/usr/bin/readelf", ["-n", file])
            guard let line = notes.stdout.split(separator: "\n").first(where: { $0.contains("Build ID:") }),
                  let id = line.split(separator: " ").last else {
                throw TestSupportError("\(file) has no build id\n\(notes.summary)")
            }
            return String(id)
        }

        private static func run(_ executable: String, _ arguments: [String]) throws {
            let result = try ChildProcess.run(executable, arguments)
            guard result.status == 0 else { throw TestSupportError("\(executable) failed\n\(result.summary)") }
        }

        /// A TCP port nothing listens on now, chosen by the kernel.
        static func freePort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestSupportError("socket: \(errno)") }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
                }
            }
            guard bound else { throw TestSupportError("cannot bind a socket on 127.0.0.1: \(errno)") }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }

    private func record(_ server: Server, _ name: String, variables: [String], extra: [String] = [],
                        file: StaticString = #filePath, line: UInt = #line) throws -> Database {
        let database = server.directory.file(name)
        let arguments = ["-e", "cpu-clock", "-o", database] + extra + ["--", server.program, "0.3"]
        let result = try server.run(.record, arguments, variables: variables)
        assertNoCrash(result, file: file, line: line)
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        return try Database(path: database)
    }

    /// The share of the program's user samples named `hot_a` or `hot_b`, and of those with a source line.
    private func named(_ db: Database, _ program: String) throws -> (symbols: Double, lines: Double) {
        let user = "FROM symbol_groups WHERE dso = '\(program)' AND mode_name = 'user'"
        let total = Double(try db.scalarInt("SELECT coalesce(sum(samples), 0) \(user)"))
        let hot = Double(try db.scalarInt("SELECT coalesce(sum(samples), 0) \(user) AND symbol IN ('hot_a', 'hot_b')"))
        let lines = Double(try db.scalarInt(
            "SELECT coalesce(sum(samples), 0) \(user) AND srcline LIKE '%stripped.c:%'"))
        XCTAssertGreaterThan(total, 100, "samples in \(program)")
        return (hot / max(total, 1), lines / max(total, 1))
    }

    func testDebugFilesComeFromTheServerAndNotWithoutIt() throws {
        let server = try Server(self)

        let served = try record(server, "served.db", variables: server.environment(cache: "cache"))
        let without = try record(server, "without.db", variables: ["DEBUGINFOD_URLS="])
        let refused = try record(server, "refused.db", variables: server.environment(cache: "cache-2"),
                                 extra: ["--no-debuginfod"])

        let withServer = try named(served, server.program)
        XCTAssertGreaterThan(withServer.symbols, 0.9, "hot_a and hot_b named from the served debug file")
        XCTAssertGreaterThan(withServer.lines, 0.9, "source lines from the served debug file")
        XCTAssertEqual(try served.scalarText("SELECT symbol_source FROM dsos WHERE path = '\(server.program)'"),
                       "debuginfod")
        XCTAssertEqual(try served.scalarText("SELECT debug_source FROM dsos WHERE path = '\(server.program)'"),
                       "debuginfod")
        XCTAssertTrue(FileManager.default.fileExists(atPath: server.directory.file("cache")),
                      "the download is kept in DEBUGINFOD_CACHE_PATH")
        for db in [without, refused] {
            XCTAssertEqual(try named(db, server.program).symbols, 0)
            XCTAssertEqual(try db.scalarInt("""
                SELECT count(*) FROM symbol_groups WHERE dso = '\(server.program)' AND mode_name = 'user'
                AND symbol NOT LIKE 'stripped+0x%'
                """), 0, "a stripped program's addresses are named file+0xOFFSET")
        }
    }

    func testResymbolizeFetchesFromTheServerUnlessTold() throws {
        let server = try Server(self)
        let database = try record(server, "later.db", variables: ["DEBUGINFOD_URLS="])
        XCTAssertEqual(try named(database, server.program).symbols, 0)
        let path = server.directory.file("later.db")

        let refused = try server.run(.report, ["--resymbolize", "--no-debuginfod", path],
                                     variables: server.environment(cache: "cache"))
        XCTAssertEqual(refused.status, 0, refused.summary)
        XCTAssertEqual(try named(Database(path: path), server.program).symbols, 0)
        let fetched = try server.run(.report, ["--resymbolize", path], variables: server.environment(cache: "cache"))

        assertNoCrash(fetched)
        XCTAssertEqual(fetched.status, 0, fetched.summary)
        XCTAssertTrue(fetched.stderr.contains("debuginfod: fetching the debug file of \(server.program)"),
                      fetched.summary)
        let after = try named(Database(path: path), server.program)
        XCTAssertGreaterThan(after.symbols, 0.9)
        XCTAssertGreaterThan(after.lines, 0.9)
    }

    func testAServerThatCannotBeReachedIsAskedOnceAndSaidSo() throws {
        let directory = try makeTemporaryDirectory(prefix: "tprof-debuginfod")
        let program = try compileC(source: Workload.spinSource, name: "stripped", in: directory)
        XCTAssertEqual(try ChildProcess.run("/usr/bin/strip", ["--strip-all", program]).status, 0)
        let database = directory.file("refused.db")

        let result = try ChildProcess.run("/usr/bin/env", [
            "DEBUGINFOD_URLS=http://127.0.0.1:\(try Server.freePort())",
            "DEBUGINFOD_CACHE_PATH=\(directory.file("cache"))", try Tool.record.path(), "-e", "cpu-clock", "-o",
            database, "--", program, "0.2",
        ])

        assertNoCrash(result)
        XCTAssertEqual(result.status, 0, result.summary)
        let said = result.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("tprof-record: debuginfod: ") }
        XCTAssertEqual(said.filter { $0.contains("fetching") }.count, 1, "asked once\n\(result.summary)")
        XCTAssertEqual(said.filter { $0.hasSuffix("; no more debug files were asked for") }.count, 1, result.summary)
        XCTAssertGreaterThan(try Database(path: database).scalarInt(
            "SELECT count(*) FROM symbol_groups WHERE dso = '\(program)' AND symbol LIKE 'stripped+0x%'"), 0)
    }

    func testResymbolizeNamesADeletedProgramByItsRecordedBuildID() throws {
        let server = try Server(self)
        let database = try record(server, "deleted.db", variables: ["DEBUGINFOD_URLS="])
        let path = server.directory.file("deleted.db")
        XCTAssertNotNil(try database.scalarText("SELECT build_id FROM dsos WHERE path = '\(server.program)'"))
        XCTAssertEqual(unlink(server.program), 0)

        let fetched = try server.run(.report, ["--resymbolize", path], variables: server.environment(cache: "cache"))

        assertNoCrash(fetched)
        XCTAssertEqual(fetched.status, 0, fetched.summary)
        let after = try Database(path: path)
        XCTAssertGreaterThan(try named(after, server.program).symbols, 0.9, "the debug file stands in for the program")
        XCTAssertEqual(try after.scalarText("""
            SELECT symbol_source || ' ' || coalesce(file_source, 'no file') FROM dsos WHERE path = '\(server.program)'
            """), "debuginfod no file")
    }
}
