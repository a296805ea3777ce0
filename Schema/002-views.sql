-- tprof database, schema version 2: views for reports and for ad-hoc queries in sqlite3.
-- tprof-report reads these views, adding its filters as bound parameters; on an older file it creates them in
-- the temporary schema and never writes to the file.

-- Every sample with the names of its process, thread, event and mode. One row per sample: for time ranges
-- and raw addresses. For counts by process, thread, command, CPU, mode or event, sample_groups is much faster.
CREATE VIEW sample_facts AS
SELECT s.rowid AS sample_id, s.time, s.cpu, s.pid, p.comm AS comm, s.tid, t.comm AS thread_comm,
       s.event, e.name AS event_name, s.mode, m.name AS mode_name, s.pc, s.period, s.stack_id,
       1 AS samples
FROM samples s
LEFT JOIN processes p ON p.pid = s.pid
LEFT JOIN threads t ON t.pid = s.pid AND t.tid = s.tid
LEFT JOIN events e ON e.id = s.event
LEFT JOIN modes m ON m.id = s.mode;

-- sample_counts with names: one row per (pid, tid, cpu, event, mode), the sample count and the summed period.
CREATE VIEW sample_groups AS
SELECT c.pid, p.comm AS comm, c.tid, t.comm AS thread_comm, c.cpu, c.event, e.name AS event_name,
       c.mode, m.name AS mode_name, c.samples, c.period
FROM sample_counts c
LEFT JOIN processes p ON p.pid = c.pid
LEFT JOIN threads t ON t.pid = c.pid AND t.tid = c.tid
LEFT JOIN events e ON e.id = c.event
LEFT JOIN modes m ON m.id = c.mode;

-- Samples per process, most first, with the share of all samples in percent.
CREATE VIEW by_process AS
SELECT pid, comm, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_groups GROUP BY pid, comm ORDER BY samples DESC;

-- Samples per thread.
CREATE VIEW by_thread AS
SELECT pid, tid, thread_comm AS comm, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_groups GROUP BY pid, tid, thread_comm ORDER BY samples DESC;

-- Samples per command name (the thread's name, as perf's comm).
CREATE VIEW by_comm AS
SELECT thread_comm AS comm, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_groups GROUP BY thread_comm ORDER BY samples DESC;

-- Samples per CPU.
CREATE VIEW by_cpu AS
SELECT cpu, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_groups GROUP BY cpu ORDER BY samples DESC;

-- Samples per CPU mode (kernel, user, ...).
CREATE VIEW by_mode AS
SELECT mode_name AS mode, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_groups GROUP BY mode_name ORDER BY samples DESC;

-- Samples per event.
CREATE VIEW by_event AS
SELECT event, event_name, sum(samples) AS samples, sum(period) AS period,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_groups GROUP BY event, event_name ORDER BY samples DESC;

-- Samples per 100 ms of the run per process: second is the bucket's start in seconds from the start of the run.
CREATE VIEW by_time AS
SELECT s.time / 100000000 / 10.0 AS second, s.pid, p.comm AS comm, count(*) AS samples
FROM samples s LEFT JOIN processes p ON p.pid = s.pid
GROUP BY s.time / 100000000, s.pid ORDER BY second, samples DESC;

-- The capture engine's counters over all CPUs (NetBSD tprof's statistics plus the kernel's losses).
CREATE VIEW counter_totals AS
SELECT sum(read) AS read, sum(written) AS written, sum(sample) AS sample, sum(overflow) AS overflow,
       sum(buf) AS buf, sum(emptybuf) AS emptybuf, sum(dropbuf) AS dropbuf,
       sum(dropbuf_sample) AS dropbuf_sample, sum(kernel_lost) AS kernel_lost,
       sum(kernel_lost_samples) AS kernel_lost_samples, sum(throttle) AS throttle,
       sum(unthrottle) AS unthrottle, sum(sideband_dropped) AS sideband_dropped, sum(unwritten) AS unwritten,
       sum(overflow) + sum(dropbuf_sample) + sum(unwritten) AS dropped,
       sum(kernel_lost) + sum(kernel_lost_samples) AS kernel_dropped
FROM counters;
