import Foundation

/// A command-line tool of this package, run from the build's products directory.
public enum Tool: String, CaseIterable {
    case record = "tprof-record"
    case report = "tprof-report"
    case count = "tprof-count"
    case top = "tprof-top"

    /// The directory holding the built executables: the nearest directory at or above the test bundle (on Linux
    /// the bundle lies in the build's debug folder) that contains `tprof-record`.
    public static func productsDirectory() throws -> URL {
        var starts = [Bundle.main.bundleURL]
        if let executable = Bundle.main.executableURL { starts.append(executable.deletingLastPathComponent()) }
        starts.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        for start in starts {
            var directory = start.standardizedFileURL
            while directory.path != "/" {
                if FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent(Tool.record.rawValue).path) {
                    return directory
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        throw TestSupportError("cannot find the built \(Tool.record.rawValue) above \(starts.map(\.path)); "
            + "build with 'swift build --build-tests' first")
    }

    /// The tool's executable.
    public func path() throws -> String {
        let path = try Tool.productsDirectory().appendingPathComponent(rawValue).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError("\(path) is missing or not executable")
        }
        return path
    }

    /// Runs the tool to the end.
    /// - Parameters:
    ///   - user: runs it as this unprivileged user (for example "nobody") through setpriv.
    ///   - lockedMemoryBytes: its RLIMIT_MEMLOCK, set through prlimit.
    ///   - timeout: seconds after which it is killed and an error thrown.
    public func run(_ arguments: [String], user: String? = nil, lockedMemoryBytes: Int? = nil,
                    currentDirectory: String? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
        try ChildProcess.run(path(), arguments, launch: .init(user: user, lockedMemoryBytes: lockedMemoryBytes),
                             currentDirectory: currentDirectory, timeout: timeout)
    }

    /// Starts the tool in the background, to signal it or wait for it later.
    public func start(_ arguments: [String], user: String? = nil, currentDirectory: String? = nil) throws
        -> ChildProcess {
        try ChildProcess(executable: path(), arguments: arguments, launch: .init(user: user),
                         currentDirectory: currentDirectory)
    }
}
