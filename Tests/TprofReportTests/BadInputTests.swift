import Foundation
import Glibc
import TprofStore
import TprofTestSupport
import XCTest

/// Bad files and bad flags: each ends with a non-zero exit, exactly one line on stderr, nothing on stdout, no crash.
final class BadInputTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "tprof-report-bad")
    }

    override func tearDown() {
        directory = nil
    }

    private func assertRejected(_ arguments: [String], user: String? = nil, contains texts: [String] = [],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runReport(arguments, user: user)
        assertOneLineError(result, file: file, line: line)
        XCTAssertEqual(result.stdout, "", "stdout of a failure\n\(result.summary)", file: file, line: line)
        for text in texts {
            XCTAssertTrue(result.stderr.contains(text), "stderr lacks '\(text)'\n\(result.summary)", file: file, line: line)
        }
        XCTAssertTrue(result.stderr.hasPrefix("tprof-report: "), result.summary, file: file, line: line)
    }

    /// Each bad file, with the default report and with the other modes.
    private func assertRejectedInEveryMode(_ path: String, contains texts: [String], file: StaticString = #filePath,
                                           line: UInt = #line) throws {
        for mode in [[], ["--by-tid", "--since", "0.1"], ["--header"], ["--stat"], ["--sql", "SELECT 1"]] {
            try assertRejected([path] + mode, contains: texts, file: file, line: line)
        }
    }

    func testMissingFile() throws {
        try assertRejectedInEveryMode(directory.file("missing.db"), contains: ["missing.db", "no such file"])
    }

    func testDirectory() throws {
        try assertRejectedInEveryMode(directory.path, contains: ["is a directory"])
    }

    func testFileThatIsNotSQLite() throws {
        let path = directory.file("notes.db")
        try "just some text, not a database\n".write(toFile: path, atomically: true, encoding: .utf8)
        try assertRejectedInEveryMode(path, contains: ["not a tprof database"])
    }

    func testEmptyFile() throws {
        let path = directory.file("empty.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        try assertRejectedInEveryMode(path, contains: ["empty"])
    }

    func testSQLiteFileOfAnotherProgram() throws {
        let path = directory.file("other.db")
        do {
            let other = try SQLiteDatabase(path: path, mode: .create)
            try other.execute("CREATE TABLE samples (x); INSERT INTO samples VALUES (1);")
        }
        try assertRejectedInEveryMode(path, contains: ["not a tprof database"])
    }

    func testTruncatedDatabase() throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: try Fixtures.get().real))
        let path = directory.file("truncated.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: data.prefix(3000)))
        try assertRejectedInEveryMode(path, contains: ["truncated.db"])
    }

    /// Random bytes over every page but the first (the header stays valid, so SQLite opens the file).
    func testDatabaseWithRandomBytesOverItsPages() throws {
        var data = try XCTUnwrap(FileManager.default.contents(atPath: try Fixtures.get().real))
        var generator = SeededGenerator(seed: 42)
        let pageSize = 4096
        for index in pageSize..<data.count { data[index] = UInt8.random(in: 0...255, using: &generator) }
        let path = directory.file("corrupt.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: data))
        try assertRejectedInEveryMode(path, contains: ["corrupt.db"])
    }

    /// A damaged schema text makes SQLite quote the damaged SQL, line breaks and all: still one line on stderr.
    func testDatabaseWithDamagedSchemaText() throws {
        var data = try XCTUnwrap(FileManager.default.contents(atPath: try Fixtures.get().real))
        let marker = Data("flush_interval_ms INTEGER".utf8)
        let range = try XCTUnwrap(data.range(of: marker), "schema text not found in the file")
        data[range.lowerBound + "flush_interval_ms ".utf8.count] = UInt8(ascii: "`")
        let path = directory.file("schema.db")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: data))
        try assertRejectedInEveryMode(path, contains: ["schema.db"])
    }

    func testDatabaseOfANewerSchemaVersion() throws {
        let path = try copyDatabase(try Fixtures.get().real, to: directory, as: "future.db")
        try modifyDatabase(path, "PRAGMA user_version = 99")
        try assertRejectedInEveryMode(path, contains: ["schema version 99", "newer"])
    }

    func testDatabaseWithNoSamples() throws {
        let path = try copyDatabase(try Fixtures.get().real, to: directory, as: "nosamples.db")
        try modifyDatabase(path, "DELETE FROM samples; DELETE FROM sample_counts;")
        for arguments in [[], ["--by-cpu"], ["--by-tid", "--since", "0.1", "--format", "json"]] {
            try assertRejected([path] + arguments, contains: ["no samples"])
        }
    }

    func testFileWithoutReadPermission() throws {
        let path = try copyDatabase(try Fixtures.get().real, to: directory, as: "private.db")
        XCTAssertEqual(chmod(path, 0o600), 0)
        XCTAssertEqual(chmod(directory.path, 0o755), 0)
        for mode in [[], ["--stat"], ["--sql", "SELECT 1"]] {
            try assertRejected([path] + mode, user: "nobody", contains: ["private.db", "Permission denied"])
        }
    }

    func testContradictoryOrMalformedFlags() throws {
        let db = try Fixtures.get().synthetic
        let cases: [([String], String)] = [
            (["--kernel", "--user"], "--kernel or --user"),
            (["--since", "5", "--until", "1"], "--since"),
            (["--since", "2", "--until", "2"], "--since"),
            (["--since", "x"], "--since"),
            (["--since", "nan"], "--since"),
            (["--until", "-1"], "--until"),
            (["--limit", "0"], "--limit"),
            (["--limit", "x"], "--limit"),
            (["--limit", "-1"], "--limit"),
            (["--percent-limit", "101"], "--percent-limit"),
            (["--format", "xml"], "xml"),
            (["--sql", "SELECT 1", "--by-pid"], "--sql"),
            (["--sql", "SELECT 1", "--pid", "1"], "--sql"),
            (["--header", "--stat"], "--header"),
            (["--stat", "--by-cpu"], "--stat"),
            (["--bogus"], "--bogus"),
            (["--pid", "x"], "--pid"),
            (["--pid", "1,,2"], "--pid"),
            (["--tid", "-5"], "--tid"),
            (["--cpu", "x"], "x"),
            (["--cpu", "3-1"], "3-1"),
        ]
        for (arguments, text) in cases {
            try assertRejected([db] + arguments, contains: [text])
        }
        try assertRejected([], contains: ["database"])
        try assertRejected([db, directory.file("missing.db")], contains: ["missing.db"])
    }
}

/// A deterministic generator, so a damaged file is the same in every run.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
