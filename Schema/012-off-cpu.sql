-- tprof database, schema version 12: off-CPU time (`tprof-record --off-cpu`). While recording, the kernel's
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
