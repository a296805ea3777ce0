-- Secondary indexes, created when recording ends (building them while loading is several times slower).
-- Reports grouped by process, thread, command, CPU, mode or event read the small sample_counts table, so the
-- samples table needs no index for them.
CREATE INDEX IF NOT EXISTS comm_records_by_tid ON comm_records (tid, time);
-- Time windows (--since/--until, time-bucketed queries) search samples by time instead of scanning them all
-- (1.3 s at 10 M samples).
CREATE INDEX IF NOT EXISTS samples_by_time ON samples (time);
