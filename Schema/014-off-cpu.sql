-- tprof database, schema version 14: off-CPU time (`tprof-record --off-cpu`). While recording, the kernel's
-- context switches and wake-ups are stored as they come (`switch_records`, `waking_records`); when recording ends
-- they are paired into `off_cpu`, one row per interval a thread spent off its CPU, charged to the call chain it
-- switched out with. That switch-out is also a sample of the event `off-cpu`, whose `period` is then the interval's
-- length in nanoseconds, so every report can weigh by it. Times are nanoseconds since run.start_monotonic_ns.
CREATE TABLE switch_records (
    time INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    state TEXT CHECK (state IN ('sleeping', 'uninterruptible', 'preempted', 'other'))
);
CREATE TABLE waking_records (
    time INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    waker_pid INTEGER NOT NULL,
    waker_tid INTEGER NOT NULL,
    tid INTEGER NOT NULL
);
CREATE TABLE off_cpu (
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    start INTEGER NOT NULL,
    duration INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sleeping', 'uninterruptible', 'preempted', 'other')),
    stack_id INTEGER NOT NULL DEFAULT 0,
    sample_id INTEGER,
    waker_pid INTEGER,
    waker_tid INTEGER
);
-- Each off-CPU interval with its names, in the columns of sample_facts (time is its start; samples 1, period its
-- duration), so that reports filter and group it as they do samples; plus its state and waker.
CREATE VIEW off_cpu_facts AS
SELECT o.start AS time, o.cpu, o.pid, p.comm AS comm, o.tid, t.comm AS thread_comm,
       (SELECT id FROM events WHERE base_name = 'off-cpu') AS event, 'off-cpu' AS event_name, 1 AS mode,
       'kernel' AS mode_name, o.state, o.duration, 1 AS samples, o.duration AS period, o.stack_id,
       o.waker_pid, o.waker_tid, w.comm AS waker_comm
FROM off_cpu o
LEFT JOIN processes p ON p.pid = o.pid
LEFT JOIN threads t ON t.pid = o.pid AND t.tid = o.tid
LEFT JOIN threads w ON w.pid = o.waker_pid AND w.tid = o.waker_tid;
