import Foundation
import Glibc

/// Facts about a file (never following a symlink at its path), to show that nothing changed or replaced it.
public struct FileFingerprint: Equatable {
    public var bytes: Data
    public var device: UInt64
    public var inode: UInt64
    public var modificationSeconds: Int
    public var modificationNanoseconds: Int
    public var owner: uid_t
    public var mode: mode_t
    /// The device number of a device node (0 for other files).
    public var deviceNumber: UInt64

    public init(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw TestSupportError("cannot stat \(path)") }
        // Only a regular file's contents are read: opening a FIFO or a device would block or have effects.
        bytes = info.st_mode & S_IFMT == S_IFREG ? FileManager.default.contents(atPath: path) ?? Data() : Data()
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        modificationSeconds = info.st_mtim.tv_sec
        modificationNanoseconds = info.st_mtim.tv_nsec
        owner = info.st_uid
        mode = info.st_mode
        deviceNumber = UInt64(info.st_rdev)
    }
}
