/// The recorded side-band tables the finishing stage needs to know each process's address space over time.
public enum SideBandRecords {
    /// A row of `mmap_records`.
    public struct Mapping {
        public var pid: Int32
        public var time: Int64
        public var start: UInt64
        public var length: UInt64
        public var pageOffset: UInt64
        public var filename: String
        public var buildID: String?
        /// Device numbers and inode of the mapped file; nil where the record has none.
        public var major: UInt32?
        public var minor: UInt32?
        public var inode: UInt64?
    }

    /// Calls `body` with each mapping record in time order.
    public static func forEachMapping(in db: SQLiteDatabase, _ body: (Mapping) throws -> Void) throws {
        let rows = try db.prepare(
            "SELECT pid, time, start, length, pgoff, filename, build_id, maj, min, ino FROM mmap_records ORDER BY time")
        while try rows.step() {
            try body(Mapping(pid: Int32(truncatingIfNeeded: rows.int64(0)), time: rows.int64(1),
                             start: UInt64(bitPattern: rows.int64(2)), length: UInt64(bitPattern: rows.int64(3)),
                             pageOffset: UInt64(bitPattern: rows.int64(4)), filename: rows.text(5) ?? "",
                             buildID: rows.text(6),
                             major: rows.isNull(7) ? nil : UInt32(truncatingIfNeeded: rows.int64(7)),
                             minor: rows.isNull(8) ? nil : UInt32(truncatingIfNeeded: rows.int64(8)),
                             inode: rows.isNull(9) ? nil : UInt64(bitPattern: rows.int64(9))))
        }
    }

    /// Each process's exec times (the kernel's, of its main thread), in order.
    public static func execTimes(in db: SQLiteDatabase) throws -> [Int32: [Int64]] {
        var times: [Int32: [Int64]] = [:]
        let rows = try db.prepare(
            "SELECT pid, time FROM comm_records WHERE exec = 1 AND source = 'kernel' AND pid = tid ORDER BY time")
        while try rows.step() { times[Int32(truncatingIfNeeded: rows.int64(0)), default: []].append(rows.int64(1)) }
        return times
    }

    /// Each forked process's parent and the time of the fork.
    public static func parents(in db: SQLiteDatabase) throws -> [Int32: (pid: Int32, time: Int64)] {
        var parents: [Int32: (pid: Int32, time: Int64)] = [:]
        let rows = try db.prepare(
            "SELECT pid, ppid, time FROM task_records WHERE kind = 'fork' AND pid = tid AND pid != ppid")
        while try rows.step() {
            parents[Int32(truncatingIfNeeded: rows.int64(0))] = (Int32(truncatingIfNeeded: rows.int64(1)), rows.int64(2))
        }
        return parents
    }
}
