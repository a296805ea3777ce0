import Glibc
import TprofCapture

/// A recorder's claim on the database file it writes: an exclusive flock(2) on the file, held from creation until
/// the recorder exits.
///
/// flock locks are separate from the POSIX record locks SQLite takes, so the claim never gets in SQLite's way, and
/// the kernel drops it when the holder dies, so a recorder killed with -9 leaves no stale claim behind. Another
/// recorder (`--force` on the same file) and `--resymbolize` test the claim and refuse a file someone still writes.
public enum RecorderClaim {
    /// Takes the exclusive claim on an open database file. False when another process holds it.
    public static func take(fd: Int32) -> Bool {
        retryingEINTR { flock(fd, LOCK_EX | LOCK_NB) } == 0
    }

    /// True while a recorder holds the claim on the file at `path` (never following a symlink at `path`).
    /// A file that cannot be opened is not claimed.
    public static func isHeld(path: BytePath) -> Bool {
        let fd = path.open(O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard retryingEINTR({ flock(fd, LOCK_SH | LOCK_NB) }) != 0 else {
            _ = flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}
