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

/// How the output path stopped leading to the recording while it was written.
public enum OutputLoss: Equatable, Sendable {
    /// Unlinked, and no other name leads to the file: it goes when the recorder exits.
    case removed
    /// Another file is at the output path, and no other name leads to the recording.
    case replaced
    /// The recording is still in the file, under another name.
    case moved

    /// The line that replaces the summary.
    public func message(output: BytePath, samples: UInt64) -> String {
        message(output: output, contents: "the \(samples) samples recorded", while: "recording")
    }

    /// The line that says what became of `contents` (what the file held), lost `while` the tool wrote it.
    public func message(output: BytePath, contents: String, while activity: String) -> String {
        switch self {
        case .removed:
            return "\(output) was removed during \(activity); \(contents) are lost"
        case .replaced:
            return "\(output) was replaced by another file during \(activity); \(contents) are lost"
        case .moved:
            return "\(output) was moved away during \(activity); \(contents) are in that file, under another name"
        }
    }
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
    public let path: BytePath
    /// Where the recording is until `publish`.
    public let temporaryPath: BytePath
    private let policy: ExistingOutputPolicy
    /// Holds the claim, and tells which file was created (to check what SQLite opened, and whether the output path
    /// still leads to it). Never closed while a connection may be open: closing any descriptor of a file drops every
    /// POSIX lock the process holds on it, SQLite's included. It stays open until the process exits.
    private let descriptor: Int32
    private let identity: FileIdentity
    public private(set) var isPublished = false

    /// The temporary name of a recording to `path` while its command has not started.
    public static func temporaryPath(for path: BytePath) -> BytePath { path + ".recording" }

    /// The name the previous file at `path` is kept under with `.keepAsOld`.
    public static func oldPath(for path: BytePath) -> BytePath { path + ".old" }

    /// Where the recording is now: the temporary name until it is published.
    public var currentPath: BytePath { isPublished ? path : temporaryPath }

    /// Checks what is at `path` and creates the claimed temporary file beside it; nothing at `path` changes yet.
    /// - Parameter executable: the command's executable, which is never the output.
    public init(creating path: BytePath, existing policy: ExistingOutputPolicy, protecting executable: BytePath? = nil)
        throws {
        guard !path.isEmpty else { throw OutputError.notWritable(path, errno: ENOENT) }
        self.path = path
        self.policy = policy
        let temporaryPath = Self.temporaryPath(for: path)
        self.temporaryPath = temporaryPath
        try Self.checkExisting(path, policy: policy, executable: executable)
        let fd = temporaryPath.open(O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o600)
        guard fd >= 0 else {
            let error = errno
            guard error == EEXIST else { throw OutputError.notWritable(path, errno: error) }
            // Only a regular file is opened to test its claim: opening a device or a FIFO can have effects.
            let isRegular = temporaryPath.status().map { FileKind($0) == .regular } ?? false
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
            temporaryPath.unlink()
            close(fd)
            throw error
        }
    }

    /// Refuses what may not be replaced: anything but a regular file or a symlink, a file another recorder
    /// writes, the command's executable, an existing file under `.refuse`, a `.old` that is not a regular file.
    private static func checkExisting(_ path: BytePath, policy: ExistingOutputPolicy, executable: BytePath?) throws {
        try checkSideFiles(of: path)
        guard let info = path.status() else {
            // Never paired with the new file, and never removed unasked: the last transactions of a database
            // moved away without them may be in there. (A -shm holds nothing that is not in the files.)
            if policy != .replace, let journal = orphanJournal(of: path) { throw OutputError.orphanJournal(journal) }
            return
        }
        let kind = FileKind(info)
        guard kind.isReplaceable else { throw OutputError.notRegularFile(path, kind) }
        if kind == .regular && RecorderClaim.isHeld(path: path) { throw OutputError.beingWritten(path) }
        if let executable, FileIdentity(path: executable) == FileIdentity(info) { throw OutputError.isCommand(path) }
        switch policy {
        case .refuse: throw OutputError.exists(path)
        case .replace: break
        case .keepAsOld: try checkOld(oldPath(for: path))
        }
    }

    /// A previous `.old` is replaced only when it is a regular file that no recorder writes.
    private static func checkOld(_ old: BytePath) throws {
        try checkSideFiles(of: old)
        guard let info = old.status() else { return }
        let kind = FileKind(info)
        guard kind == .regular else { throw OutputError.notRegularFile(old, kind) }
        if RecorderClaim.isHeld(path: old) { throw OutputError.beingWritten(old) }
    }

    private static func checkSideFiles(of path: BytePath) throws {
        for suffix in FileIdentity.sideFileSuffixes {
            if let info = (path + suffix).status(), !FileKind(info).isReplaceable {
                throw OutputError.notRegularFile(path + suffix, FileKind(info))
            }
        }
    }

    /// The -wal or -journal with content at `path`, which has no database of its own.
    private static func orphanJournal(of path: BytePath) -> BytePath? {
        ["-wal", "-journal"].map { path + $0 }.first { ($0.status()?.st_size ?? 0) > 0 }
    }

    private static func removeSideFiles(of path: BytePath) throws {
        try checkSideFiles(of: path)
        for suffix in FileIdentity.sideFileSuffixes where (path + suffix).unlink() != 0 && errno != ENOENT {
            throw OutputError.notWritable(path + suffix, errno: errno)
        }
    }

    /// Moves the recording to the output path, once its command runs. What was there is replaced or kept as
    /// `.old`, as the policy says, with its -wal and -shm; side files without a database at the output path, which
    /// `--force` (or an empty -wal) lets go, are removed.
    public func publish() throws {
        guard !isPublished else { return }
        // The checks again: another recorder may have published here since.
        try Self.checkExisting(path, policy: policy == .refuse ? .refuse : .replace, executable: nil)
        if policy == .keepAsOld, path.status() != nil {
            let old = Self.oldPath(for: path)
            try Self.checkOld(old)
            try Self.removeSideFiles(of: old)
            try Self.move(path, to: old)
            for suffix in FileIdentity.sideFileSuffixes where (path + suffix).status() != nil {
                try Self.move(path + suffix, to: old + suffix)
            }
        }
        try Self.removeSideFiles(of: path)
        if policy == .replace {
            try Self.move(temporaryPath, to: path)
        } else if CTprofLinux_rename_noreplace(temporaryPath.cString, path.cString) != 0 {
            let error = errno
            // A file system without RENAME_NOREPLACE (EINVAL) gets the check and the rename apart.
            guard error == EINVAL, path.status() == nil else {
                throw error == EEXIST ? OutputError.exists(path) : OutputError.notWritable(path, errno: error)
            }
            try Self.move(temporaryPath, to: path)
        }
        isPublished = true
    }

    private static func move(_ from: BytePath, to: BytePath) throws {
        guard from.rename(to: to) == 0 else { throw OutputError.notWritable(to, errno: errno) }
    }

    /// Removes the recording, when it could not start: the temporary file and its side files, or the published
    /// file while the output path still leads to it. An output that was not replaced yet stays as it was.
    public func discard() {
        let current = currentPath
        guard isCreatedFile(at: current) else { return }
        for suffix in [""] + FileIdentity.sideFileSuffixes { (current + suffix).unlink() }
    }

    /// True when `path` leads to the file created here (never following a symlink).
    func isCreatedFile(at path: BytePath) -> Bool {
        path.status().map { FileIdentity($0) == identity } ?? false
    }

    /// How the output path stopped leading to the published recording, if it did; checked when recording ends.
    public var loss: OutputLoss? {
        guard isPublished, !isCreatedFile(at: path) else { return nil }
        var info = stat()
        if fstat(descriptor, &info) == 0 && info.st_nlink > 0 { return .moved }
        return path.status() == nil ? .removed : .replaced
    }
}
