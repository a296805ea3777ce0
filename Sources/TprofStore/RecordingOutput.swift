import CTprofLinux
import Glibc
import TprofCapture

/// What becomes of a file already at the output path.
public enum ExistingOutputPolicy: Equatable, Sendable {
    /// It is refused (`-o FILE`).
    case refuse
    /// It is replaced once the recording has started (`--force`).
    case replace
    /// It is kept as FILE.old once the recording has started, as perf keeps perf.data.old (the default name).
    case keepAsOld
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

    init(mode: mode_t) {
        switch mode & S_IFMT {
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
    var isReplaceable: Bool { self == .regular || self == .symlink }
}

/// How the output path stopped leading to the recording while it was written.
public enum OutputLoss: Equatable, Sendable {
    /// Unlinked, and no other name leads to the file: it goes when the recorder exits.
    case removed
    /// Another file is at the output path, and no other name leads to the recording.
    case replaced
    /// The recording is still in the file, under another name.
    case moved

    /// The line that replaces the summary.
    public func message(output: String, samples: UInt64) -> String {
        switch self {
        case .removed:
            return "\(output) was removed during recording; the \(samples) samples recorded are lost"
        case .replaced:
            return "\(output) was replaced by another file during recording; the \(samples) samples recorded are lost"
        case .moved:
            return "\(output) was moved away during recording; the \(samples) samples recorded are in that file, "
                + "under another name"
        }
    }
}

/// Device and inode: which file a path or a descriptor leads to.
struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// lstat(2) of `path`; nil when nothing is there (or it cannot be looked at).
func fileStatus(_ path: String) -> stat? {
    var info = stat()
    return lstat(path, &info) == 0 ? info : nil
}

/// The file a recording is written to, from its creation to its place at the output path.
///
/// The recording is created under a fixed temporary name beside the output (`FILE.recording`: O_EXCL, no-follow,
/// 0600) and claimed (`RecorderClaim`); `publish` moves it over the output once the command runs, so a command that
/// cannot start leaves an existing output as it was. The name is fixed so that a second recorder finds it: a
/// temporary file whose claim is held belongs to a recorder that has not started yet; one nobody holds was left by
/// a recorder killed before its command started, and is refused by name, never deleted.
///
/// SQLite names the -wal and -shm after the path it opened, so the file is only moved while no connection is open
/// on it, and a -wal or -shm found at the output path (the replaced file's, or an orphan's) is removed or moved
/// with the old file before the new one takes its place: SQLite never pairs them with the new file.
public final class RecordingOutput {
    /// The output path asked for.
    public let path: String
    /// Where the recording is until `publish`.
    public let temporaryPath: String
    private let policy: ExistingOutputPolicy
    /// Holds the claim, and tells which file was created (to check what SQLite opened, and whether the output path
    /// still leads to it). Never closed while a connection may be open: closing any descriptor of a file drops every
    /// POSIX lock the process holds on it, SQLite's included. It stays open until the process exits.
    private let descriptor: Int32
    private let identity: FileIdentity
    public private(set) var isPublished = false

    /// The temporary name of a recording to `path` while its command has not started.
    public static func temporaryPath(for path: String) -> String { path + ".recording" }

    /// The name the previous file at `path` is kept under with `.keepAsOld`.
    public static func oldPath(for path: String) -> String { path + ".old" }

    /// SQLite's side files of a database, which carry its name.
    static let sideFileSuffixes = ["-wal", "-shm", "-journal"]

    /// Where the recording is now: the temporary name until it is published.
    public var currentPath: String { isPublished ? path : temporaryPath }

    /// Checks what is at `path` and creates the claimed temporary file beside it; nothing at `path` changes yet.
    /// - Parameter executable: the command's executable, which is never the output.
    public init(creating path: String, existing policy: ExistingOutputPolicy, protecting executable: [UInt8]? = nil)
        throws {
        guard !path.isEmpty else { throw OutputError.notWritable(path, errno: ENOENT) }
        self.path = path
        self.policy = policy
        let temporaryPath = Self.temporaryPath(for: path)
        self.temporaryPath = temporaryPath
        try Self.checkExisting(path, policy: policy, executable: executable)
        let fd = retryingEINTR {
            open(temporaryPath, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else {
            let error = errno
            guard error == EEXIST else { throw OutputError.notWritable(path, errno: error) }
            // Only a regular file is opened to test its claim: opening a device or a FIFO can have effects.
            let isRegular = fileStatus(temporaryPath).map { FileKind(mode: $0.st_mode) == .regular } ?? false
            throw isRegular && RecorderClaim.isHeld(path: temporaryPath)
                ? OutputError.beingWritten(path) : OutputError.leftover(temporaryPath)
        }
        descriptor = fd
        var info = stat()
        fstat(fd, &info)
        identity = FileIdentity(info)
        // Another recorder testing the claim holds a shared lock for a moment: wait that moment out.
        var claimed = RecorderClaim.take(fd: fd)
        var attempts = 0
        while !claimed && attempts < 100 {
            usleep(10_000)
            attempts += 1
            claimed = RecorderClaim.take(fd: fd)
        }
        do {
            guard claimed else { throw OutputError.beingWritten(path) }
            // The name did not exist, so side files under it belong to no database.
            try Self.removeSideFiles(of: temporaryPath)
        } catch {
            unlink(temporaryPath)
            close(fd)
            throw error
        }
    }

    /// Refuses what may not be replaced: anything but a regular file or a symlink, a file another recorder
    /// writes, the command's executable, an existing file under `.refuse`, a `.old` that is not a regular file.
    private static func checkExisting(_ path: String, policy: ExistingOutputPolicy, executable: [UInt8]?) throws {
        try checkSideFiles(of: path)
        guard let info = fileStatus(path) else { return }
        let kind = FileKind(mode: info.st_mode)
        guard kind.isReplaceable else { throw OutputError.notRegularFile(path, kind) }
        if kind == .regular && RecorderClaim.isHeld(path: path) { throw OutputError.beingWritten(path) }
        var command = stat()
        if let executable, stat(executable.map { CChar(bitPattern: $0) } + [0], &command) == 0,
           FileIdentity(command) == FileIdentity(info) {
            throw OutputError.isCommand(path)
        }
        switch policy {
        case .refuse: throw OutputError.exists(path)
        case .replace: break
        case .keepAsOld: try checkOld(oldPath(for: path))
        }
    }

    /// A previous `.old` is replaced only when it is a regular file that no recorder writes.
    private static func checkOld(_ old: String) throws {
        try checkSideFiles(of: old)
        guard let info = fileStatus(old) else { return }
        let kind = FileKind(mode: info.st_mode)
        guard kind == .regular else { throw OutputError.notRegularFile(old, kind) }
        if RecorderClaim.isHeld(path: old) { throw OutputError.beingWritten(old) }
    }

    private static func checkSideFiles(of path: String) throws {
        for suffix in sideFileSuffixes {
            if let info = fileStatus(path + suffix), !FileKind(mode: info.st_mode).isReplaceable {
                throw OutputError.notRegularFile(path + suffix, FileKind(mode: info.st_mode))
            }
        }
    }

    private static func removeSideFiles(of path: String) throws {
        try checkSideFiles(of: path)
        for suffix in sideFileSuffixes where unlink(path + suffix) != 0 && errno != ENOENT {
            throw OutputError.notWritable(path + suffix, errno: errno)
        }
    }

    /// Moves the recording to the output path, once its command runs. What was there is replaced or kept as
    /// `.old`, as the policy says, with its -wal and -shm; orphan side files at the output path are removed.
    public func publish() throws {
        guard !isPublished else { return }
        // The checks again: another recorder may have published here since.
        try Self.checkExisting(path, policy: policy == .refuse ? .refuse : .replace, executable: nil)
        if policy == .keepAsOld, fileStatus(path) != nil {
            let old = Self.oldPath(for: path)
            try Self.checkOld(old)
            try Self.removeSideFiles(of: old)
            try Self.move(path, to: old)
            for suffix in Self.sideFileSuffixes where fileStatus(path + suffix) != nil {
                try Self.move(path + suffix, to: old + suffix)
            }
        }
        try Self.removeSideFiles(of: path)
        if policy == .replace {
            try Self.move(temporaryPath, to: path)
        } else if CTprofLinux_rename_noreplace(temporaryPath, path) != 0 {
            let error = errno
            // A file system without RENAME_NOREPLACE (EINVAL) gets the check and the rename apart.
            guard error == EINVAL, fileStatus(path) == nil else {
                throw error == EEXIST ? OutputError.exists(path) : OutputError.notWritable(path, errno: error)
            }
            try Self.move(temporaryPath, to: path)
        }
        isPublished = true
    }

    private static func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else { throw OutputError.notWritable(to, errno: errno) }
    }

    /// Removes the recording, when it could not start: the temporary file and its side files, or the published
    /// file while the output path still leads to it. An output that was not replaced yet stays as it was.
    public func discard() {
        let current = currentPath
        guard isCreatedFile(at: current) else { return }
        for suffix in [""] + Self.sideFileSuffixes { unlink(current + suffix) }
    }

    /// True when `path` leads to the file created here (never following a symlink).
    func isCreatedFile(at path: String) -> Bool {
        fileStatus(path).map { FileIdentity($0) == identity } ?? false
    }

    /// How the output path stopped leading to the published recording, if it did; checked when recording ends.
    public var loss: OutputLoss? {
        guard isPublished, !isCreatedFile(at: path) else { return nil }
        var info = stat()
        if fstat(descriptor, &info) == 0 && info.st_nlink > 0 { return .moved }
        return fileStatus(path) == nil ? .removed : .replaced
    }
}
