/// A process whose files are not where the recorder's own paths lead: it ran in another mount namespace (a
/// container, `unshare -m`) or under another root directory (chroot).
public struct ForeignRootProcess: Equatable, Sendable {
    public var pid: Int32
    /// The inode of its mount namespace (`/proc/PID/ns/mnt`); nil when it could not be read.
    public var mountNamespace: UInt64?
    /// Its root directory as the recorder sees it (`/proc/PID/root`): `/` in another namespace, the chroot's path.
    public var root: String

    public init(pid: Int32, mountNamespace: UInt64?, root: String) {
        self.pid = pid
        self.mountNamespace = mountNamespace
        self.root = root
    }
}
