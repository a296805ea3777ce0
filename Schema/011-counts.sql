-- tprof database, schema version 11: the counts of `tprof-count -o FILE` (counting without sampling, as perf stat):
-- one row per event and interval, and per CPU (--per-cpu) or thread (--per-thread) when asked. Times are
-- nanoseconds since run.start_monotonic_ns.
CREATE TABLE counts (
    interval_start INTEGER NOT NULL,
    interval_end INTEGER NOT NULL,
    cpu INTEGER,
    tid INTEGER,
    event INTEGER NOT NULL REFERENCES events (id),
    value INTEGER,
    time_enabled INTEGER NOT NULL,
    time_running INTEGER NOT NULL
);
