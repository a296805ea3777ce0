-- Secondary indexes, created when recording ends (building them while loading is several times slower).
CREATE INDEX IF NOT EXISTS samples_by_pid ON samples (pid, tid);
CREATE INDEX IF NOT EXISTS samples_by_time ON samples (time);
CREATE INDEX IF NOT EXISTS comm_records_by_tid ON comm_records (tid, time);
