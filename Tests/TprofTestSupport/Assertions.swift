import Foundation
import XCTest

/// Text a Swift runtime trap or a crash leaves on stderr.
let crashMarkers = ["Fatal error", "Illegal instruction", "Segmentation fault", "Stack dump", "Current stack trace",
                    "Assertion failed", "Precondition failed", "Program crashed", "Backtrace took"]

/// Asserts that the process ended by exiting (not by a signal) and left no crash text on stderr.
public func assertNoCrash(_ result: ProcessResult, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNil(result.signal, "the process was killed by a signal\n\(result.summary)", file: file, line: line)
    for marker in crashMarkers where result.stderr.contains(marker) {
        XCTFail("stderr shows a crash ('\(marker)')\n\(result.summary)", file: file, line: line)
    }
}

/// Asserts a clean failure: a non-zero exit status, exactly one non-empty line on stderr that contains every one of
/// `texts`, and no crash.
public func assertOneLineError(_ result: ProcessResult, contains texts: String..., file: StaticString = #filePath,
                               line: UInt = #line) {
    assertNoCrash(result, file: file, line: line)
    XCTAssertNotEqual(result.status, 0, "expected a failure\n\(result.summary)", file: file, line: line)
    let lines = result.stderrLines
    XCTAssertEqual(lines.count, 1, "expected exactly one line on stderr\n\(result.summary)", file: file, line: line)
    for text in texts {
        XCTAssertTrue(result.stderr.contains(text), "stderr does not contain '\(text)'\n\(result.summary)",
                      file: file, line: line)
    }
}

/// Asserts that nothing exists at `path` (not even a dangling symlink).
public func assertNoFile(_ path: String, file: StaticString = #filePath, line: UInt = #line) {
    var info = stat()
    XCTAssertNotEqual(lstat(path, &info), 0, "\(path) exists but should not", file: file, line: line)
}

/// The permission bits of `path` (for example 0o600); nil when it does not exist.
public func permissionBits(of path: String) -> Int? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Int(info.st_mode & 0o7777)
}
