import Glibc

/// A file as the kernel knows it: device and inode, the same through every symlink and hard link to it. The
/// recorder tells by it whether its output still leads to the file it created; reports, whether an output is one of
/// their inputs.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    /// The file `info` describes.
    public init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// The file at `path`, following symlinks; nil when there is none (or it cannot be reached).
    public init?(path: BytePath) {
        guard let info = path.targetStatus() else { return nil }
        self.init(info)
    }

    /// The file at `path`, following symlinks; nil when there is none (or it cannot be reached).
    public init?(path: String) {
        self.init(path: BytePath(path))
    }

    /// SQLite's side files of a database, which carry its name.
    public static let sideFileSuffixes = ["-wal", "-shm", "-journal"]

    /// The files a database at `path` consists of: the file itself and the -wal, -shm and -journal SQLite keeps
    /// beside it (a recording that was killed or is still running has its last batches in the -wal).
    public static func ofDatabase(_ path: BytePath) -> [(identity: FileIdentity, path: BytePath)] {
        ([""] + sideFileSuffixes).compactMap { suffix in
            FileIdentity(path: path + suffix).map { ($0, path + suffix) }
        }
    }
}

/// The kind of a file, as lstat(2) tells it.
public enum FileKind: String, Equatable, Sendable {
    case regular = "regular file"
    case symlink = "symbolic link"
    case directory
    case fifo = "FIFO"
    case socket
    case characterDevice = "character device"
    case blockDevice = "block device"

    /// The kind `info` tells.
    public init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFLNK: self = .symlink
        case S_IFDIR: self = .directory
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        default: self = .regular
        }
    }

    /// Only these are ever replaced or removed: a symlink itself, never what it points to.
    public var isReplaceable: Bool { self == .regular || self == .symlink }
}
