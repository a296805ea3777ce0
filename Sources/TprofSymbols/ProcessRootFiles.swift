import Foundation
import Glibc
import TprofCapture

/// The identity of a mapped file as its mapping record gives it: device numbers and inode.
public struct MappedFileIdentity: Hashable, Sendable {
    public var major: UInt32
    public var minor: UInt32
    public var inode: UInt64

    public init(major: UInt32, minor: UInt32, inode: UInt64) {
        self.major = major
        self.minor = minor
        self.inode = inode
    }

    /// The identity a record gives, when it gives all three numbers.
    public init?(major: UInt32?, minor: UInt32?, inode: UInt64?) {
        guard let major, let minor, let inode else { return nil }
        self.init(major: major, minor: minor, inode: inode)
    }

    /// The identity of a file from its `stat`, its device split as glibc's major() and minor() split it.
    public init(_ info: stat) {
        let device = UInt64(info.st_dev)
        major = UInt32(truncatingIfNeeded: ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff))
        minor = UInt32(truncatingIfNeeded: (device & 0xff) | ((device >> 12) & ~0xff))
        inode = UInt64(info.st_ino)
    }
}

/// The files of processes in other mount namespaces or under another root, opened through `/proc/PID/root` while
/// the processes live and kept open, so that symbols can be read from them after the processes, their namespaces
/// and their private mounts are gone.
///
/// The recorder tells it of every file mapping as it learns of it (`observe`); the finishing stage asks for the
/// file of a mapping (`file(pid:mapping:)`) and reads it through `/proc/self/fd/N`. A file the host's path reaches
/// as well (the same device and inode) is not kept. Thread-safe: mappings arrive on the capture thread.
public final class ProcessRootFiles: @unchecked Sendable {
    /// Descriptors kept at most by default: a container's executable and libraries are a few dozen files.
    public static let defaultLimit = 256

    private let lock = NSLock()
    /// Opens the files in the order their mappings are observed, away from the capture thread.
    private let opener = DispatchQueue(label: "tprof.process-root-files")
    private let limit: Int
    private let ownNamespace: String?
    private var kept: [MappedFileIdentity: Int32] = [:]
    private var keptByPath: [String: Int32] = [:]
    private var foreign: [Int32: ForeignRootProcess] = [:]
    private var foreignOrder: [Int32] = []
    private var notKept = 0

    /// A registry that opens files while recording.
    public init(limit: Int = ProcessRootFiles.defaultLimit) {
        self.limit = limit
        ownNamespace = Self.link("/proc/self/ns/mnt")
    }

    /// The processes an earlier recording found under another root, without their files (`--resymbolize`).
    public init(recorded: [ForeignRootProcess]) {
        limit = 0
        ownNamespace = nil
        for process in recorded where foreign[process.pid] == nil {
            foreign[process.pid] = process
            foreignOrder.append(process.pid)
        }
    }

    deinit {
        for fd in kept.values { close(fd) }
        for fd in keptByPath.values where !kept.values.contains(fd) { close(fd) }
    }

    /// The processes seen under another root, in the order met.
    public var foreignProcesses: [ForeignRootProcess] {
        lock.lock()
        defer { lock.unlock() }
        return foreignOrder.compactMap { foreign[$0] }
    }

    /// Files of such processes that could not be kept because `limit` descriptors were open already.
    public var filesNotKept: Int {
        lock.lock()
        defer { lock.unlock() }
        return notKept
    }

    /// Whether `pid` was seen in another mount namespace or under another root: a host file at one of its paths
    /// may be another file.
    public func isForeign(_ pid: Int32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return foreign[pid] != nil
    }

    /// Has the file of an executable mapping opened, as soon as may be, when its process runs under another root and
    /// the host's path does not reach the same file. Returns at once: the capture thread that tells it must never
    /// wait on a file system (a container's may be slow, or a FUSE mount that hangs).
    public func observe(_ mapping: SidebandRecord.Mapping) {
        guard limit > 0, mapping.protection & 4 != 0, Self.isFilePath(mapping.filename) else { return }
        opener.async { self.open(mapping) }
    }

    /// Waits until every mapping observed so far has been looked at: before the files are read.
    public func settle() {
        opener.sync {}
    }

    private func open(_ mapping: SidebandRecord.Mapping) {
        guard let root = Self.link("/proc/\(mapping.pid)/root") else { return }
        let namespace = Self.link("/proc/\(mapping.pid)/ns/mnt")
        guard root != "/" || (namespace != nil && namespace != ownNamespace) else { return }
        let identity = MappedFileIdentity(major: mapping.major, minor: mapping.minor, inode: mapping.inode)
        let pathKey = Self.pathKey(pid: mapping.pid, path: mapping.filename)
        lock.lock()
        if foreign[mapping.pid] == nil {
            foreign[mapping.pid] = ForeignRootProcess(pid: mapping.pid, mountNamespace: namespace.flatMap(Self.inode),
                                                      root: root)
            foreignOrder.append(mapping.pid)
        }
        let known = identity.map { kept[$0] != nil } ?? false
        lock.unlock()
        guard !known, let fd = openRegularFile("/proc/\(mapping.pid)/root" + mapping.filename) else { return }
        var opened = stat()
        var host = stat()
        // The file that was mapped, not one put at its path since: the inode decides (overlayfs reports a device
        // of its own for the file it maps from a layer, so the device numbers may differ).
        let isMapped = fstat(fd, &opened) == 0 && (mapping.inode.map { $0 == UInt64(opened.st_ino) } ?? true)
        let hostReaches = stat(mapping.filename, &host) == 0 && host.st_dev == opened.st_dev
            && host.st_ino == opened.st_ino
        guard isMapped, !hostReaches else {
            close(fd)
            return
        }
        lock.lock()
        defer { lock.unlock() }
        if kept.count + keptByPath.count >= limit {
            notKept += 1
            close(fd)
        } else if let identity {
            if kept[identity] == nil { kept[identity] = fd } else { close(fd) }
        } else if keptByPath[pathKey] == nil {
            keptByPath[pathKey] = fd
        } else {
            close(fd)
        }
    }

    /// The path to read a mapping's file by (`/proc/self/fd/N`), when it was kept.
    public func file(pid: Int32, mapping: MappingRecord) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let fd = mapping.identity.flatMap { kept[$0] } ?? keptByPath[Self.pathKey(pid: pid, path: mapping.filename)]
        return fd.map { "/proc/self/fd/\($0)" }
    }

    private static func pathKey(pid: Int32, path: String) -> String { "\(pid)\u{0}\(path)" }

    private static func isFilePath(_ path: String) -> Bool {
        path.hasPrefix("/") && !path.hasPrefix("//") && !path.hasSuffix(" (deleted)")
    }

    /// The target of a symbolic link such as `/proc/PID/root`; nil when the process is gone.
    private static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The inode in a namespace link such as `mnt:[4026531841]`.
    private static func inode(_ link: String) -> UInt64? {
        guard let open = link.firstIndex(of: "["), link.hasSuffix("]") else { return nil }
        return UInt64(link[link.index(after: open)..<link.index(before: link.endIndex)])
    }
}
