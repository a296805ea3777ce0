import Glibc
import TprofCapture

/// A file name as the kernel takes it: bytes, which need not be UTF-8.
///
/// A Swift `String` cannot hold bytes that are not UTF-8, so a name given on the command line (`-o $'out\xff.db'`)
/// is carried as bytes from the arguments to every system call and to SQLite, which passes its file name to open(2)
/// unchanged. Text is made of it only for messages (`description`), where such bytes show as U+FFFD.
public struct BytePath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The name, without a terminating NUL.
    public var bytes: [UInt8]

    /// The name made of exactly these bytes.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The name spelt by `text` in UTF-8.
    public init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// A name written in the source, in UTF-8 (`"tprof.db"`).
    public init(stringLiteral text: String) {
        self.init(text)
    }

    /// The name for messages: bytes that are not UTF-8 become U+FFFD.
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// True for the empty name, which names no file.
    public var isEmpty: Bool { bytes.isEmpty }

    /// The NUL-terminated name that system calls take.
    public var cString: [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

    /// This name with `suffix` appended (`FILE.old`, `FILE-wal`).
    public static func + (path: BytePath, suffix: String) -> BytePath {
        BytePath(bytes: path.bytes + Array(suffix.utf8))
    }

    /// The directory part, up to the last '/' (`.` when there is none), and the name after it.
    public var split: (directory: BytePath, name: BytePath) {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return (".", self) }
        let directory = slash == bytes.startIndex ? [UInt8(ascii: "/")] : Array(bytes[..<slash])
        return (BytePath(bytes: directory), BytePath(bytes: Array(bytes[(slash + 1)...])))
    }

    /// Creates a new file `.NAME.TAG-XXXXXX` beside this path, mode 0600, with O_EXCL and never through a symlink:
    /// it replaces nothing, whatever is in the directory. Nil with errno set when it cannot be created.
    public func createSibling(tag: String) -> (path: BytePath, fd: Int32)? {
        let (directory, name) = split
        let prefix = BytePath(bytes: directory.bytes + Array("/.".utf8) + name.bytes) + ".\(tag)-"
        for _ in 0..<100 {
            let candidate = prefix + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let fd = candidate.open(O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o600)
            if fd >= 0 { return (candidate, fd) }
            if errno != EEXIST { return nil }
        }
        return nil
    }

    /// lstat(2): what is at this name itself, a symlink not followed; nil when nothing is there (or it cannot be
    /// looked at).
    public func status() -> stat? {
        var info = stat()
        return lstat(cString, &info) == 0 ? info : nil
    }

    /// stat(2): the file this name leads to, through symlinks; nil when there is none.
    public func targetStatus() -> stat? {
        var info = stat()
        return stat(cString, &info) == 0 ? info : nil
    }

    /// open(2), retried on EINTR; the descriptor, or -1 with errno set.
    public func open(_ flags: Int32, mode: mode_t = 0) -> Int32 {
        let name = cString
        return retryingEINTR { Glibc.open(name, flags, mode) }
    }

    /// unlink(2); 0, or -1 with errno set.
    @discardableResult
    public func unlink() -> Int32 {
        Glibc.unlink(cString)
    }

    /// rename(2) to `destination`; 0, or -1 with errno set.
    public func rename(to destination: BytePath) -> Int32 {
        Glibc.rename(cString, destination.cString)
    }
}
