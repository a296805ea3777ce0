extension RecordingDatabase {
    /// Writes tprof-count's counts into `counts`, in one transaction; `eventIDs` maps each row's event name to its
    /// `events.id`, and names the threads counted one by one in `threads`.
    public func insertCounts(_ rows: [CountRow], eventIDs: [String: Int],
                             threads: [(tid: Int32, pid: Int32, comm: String)]) throws {
        try connection.execute("BEGIN")
        let insertThread = try connection.prepare("INSERT OR IGNORE INTO threads (tid, pid, comm) VALUES (?, ?, ?)")
        for thread in threads {
            try insertThread.run([.integer(Int64(thread.tid)), .integer(Int64(thread.pid)), .text(thread.comm)])
        }
        let insert = try connection.prepare("""
            INSERT INTO counts (interval_start, interval_end, cpu, tid, event, value, time_enabled, time_running)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for row in rows {
            try insert.run([
                .integer(Int64(row.intervalStart)), .integer(Int64(row.intervalEnd)), SQLiteValue(row.cpu),
                SQLiteValue(row.tid.map(Int.init)), SQLiteValue(eventIDs[row.event]),
                row.value.map { .integer(Int64(bitPattern: $0)) } ?? .null,
                .integer(Int64(bitPattern: row.timeEnabled)), .integer(Int64(bitPattern: row.timeRunning)),
            ])
        }
        try connection.execute("COMMIT")
    }
}
