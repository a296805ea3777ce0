import Foundation
import Glibc
import XCTest

/// A uniquely named directory under /tmp for one test, removed with everything in it by `remove()` or `deinit`.
public final class TemporaryDirectory {
    /// The directory's absolute path.
    public let path: String
    private var removed = false

    /// Creates the directory.
    /// - Parameter worldWritable: mode 0777, so a tool run as an unprivileged user can create files in it.
    public init(prefix: String = "tprof-test", worldWritable: Bool = false) throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let created else {
            throw TestSupportError("cannot create a temporary directory: \(String(cString: strerror(errno)))")
        }
        path = created
        if worldWritable && chmod(path, 0o777) != 0 {
            throw TestSupportError("cannot chmod 0777 \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { remove() }

    /// The path of `name` inside the directory (the file is not created).
    public func file(_ name: String) -> String {
        path + "/" + name
    }

    /// Removes the directory and its contents; later calls do nothing.
    public func remove() {
        guard !removed else { return }
        removed = true
        try? FileManager.default.removeItem(atPath: path)
    }
}

extension XCTestCase {
    /// A temporary directory that lives until the test ends and is removed then (a local would be released, and
    /// its directory removed, after its last use).
    public func makeTemporaryDirectory(prefix: String = "tprof-test", worldWritable: Bool = false) throws
        -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: prefix, worldWritable: worldWritable)
        addTeardownBlock { directory.remove() }
        return directory
    }

    /// Mounts a tmpfs of `size` (as mount's `size=` option) on a new directory, for tests of a full disk; unmounted
    /// when the test ends. Needs root.
    public func mountSmallFileSystem(size: String) throws -> String {
        let directory = try makeTemporaryDirectory(prefix: "tprof-full")
        let mount = try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", directory.path])
        guard mount.status == 0 else { throw TestSupportError("cannot mount a tmpfs\n\(mount.summary)") }
        addTeardownBlock {
            _ = try? ChildProcess.run("/bin/umount", [directory.path])
        }
        return directory.path
    }
}
