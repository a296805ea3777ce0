import Glibc

/// A file as the kernel knows it: device and inode, the same through every symlink and hard link to it.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    /// The file at `path`, following symlinks; nil when there is none (or it cannot be reached).
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// The files a report reads for the database at `path`: the file itself and the -wal, -shm and -journal SQLite
    /// keeps beside it (a recording that was killed or is still running has its last batches in the -wal).
    public static func ofDatabase(_ path: String) -> [(identity: FileIdentity, path: String)] {
        ["", "-wal", "-shm", "-journal"].compactMap { suffix in
            FileIdentity(path: path + suffix).map { ($0, path + suffix) }
        }
    }
}
