import Foundation
import TprofCLI
import TprofStore

/// The recording's home when -o is not given: a private directory (mode 0700) under $TMPDIR, removed with
/// everything in it when tprof-top exits.
final class TemporaryRecording {
    let directory: String

    init() throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/tprof-top.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ToolFailure("cannot create a temporary directory in \(base): \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
    }

    /// The database inside the directory.
    var path: BytePath { BytePath(directory + "/top.db") }

    /// Removes the directory and the recording's files in it.
    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
