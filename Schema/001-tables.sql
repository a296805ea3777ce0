-- tprof database, schema version 1: the tables tprof-record writes.
-- Times in `samples` and the side-band tables are nanoseconds since run.start_monotonic_ns (CLOCK_MONOTONIC).
-- Addresses (pc, start) are stored as 64-bit integers; kernel addresses read as negative numbers in SQL,
-- printf('%x', pc) shows them in hex.

CREATE TABLE run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tool TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'interrupted', 'failed')),
    status_reason TEXT,
    target TEXT NOT NULL CHECK (target IN ('command', 'pid', 'system')),
    command_line TEXT NOT NULL,
    command TEXT,
    target_pids TEXT,
    cpus TEXT NOT NULL,
    backend TEXT NOT NULL,
    host TEXT NOT NULL,
    kernel_release TEXT NOT NULL,
    machine TEXT NOT NULL,
    cpu_model TEXT,
    cpu_count INTEGER NOT NULL,
    perf_event_max_sample_rate INTEGER,
    perf_event_paranoid INTEGER,
    user_only_fallback INTEGER NOT NULL DEFAULT 0,
    ring_pages INTEGER,
    call_graph TEXT,
    max_stack INTEGER,
    flush_interval_ms INTEGER NOT NULL,
    buffer_samples INTEGER NOT NULL,
    buffer_limit INTEGER NOT NULL,
    start_time_ns INTEGER NOT NULL,
    start_monotonic_ns INTEGER NOT NULL,
    end_time_ns INTEGER,
    duration_ns INTEGER,
    exit_status INTEGER,
    exit_signal INTEGER
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    base_name TEXT NOT NULL,
    type INTEGER NOT NULL,
    config INTEGER NOT NULL,
    exclude_user INTEGER NOT NULL,
    exclude_kernel INTEGER NOT NULL,
    requested_frequency INTEGER,
    requested_period INTEGER,
    note TEXT,
    samples INTEGER,
    count INTEGER,
    time_enabled_ns INTEGER,
    time_running_ns INTEGER,
    achieved_rate REAL
);

CREATE TABLE modes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO modes (id, name) VALUES
    (0, 'unknown'), (1, 'kernel'), (2, 'user'), (3, 'hypervisor'), (4, 'guest-kernel'), (5, 'guest-user');

CREATE TABLE samples (
    time INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    event INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    pc INTEGER NOT NULL,
    period INTEGER NOT NULL,
    stack_id INTEGER
);

CREATE TABLE sample_counts (
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    event INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    pc INTEGER NOT NULL,
    stack_id INTEGER NOT NULL DEFAULT 0,
    samples INTEGER NOT NULL,
    period INTEGER NOT NULL,
    PRIMARY KEY (pid, tid, cpu, event, mode, pc, stack_id)
) WITHOUT ROWID;

CREATE TABLE comm_records (
    time INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    comm TEXT NOT NULL,
    exec INTEGER NOT NULL,
    source TEXT NOT NULL
);

CREATE TABLE task_records (
    time INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('fork', 'exit')),
    pid INTEGER NOT NULL,
    ppid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    ptid INTEGER NOT NULL
);

CREATE TABLE mmap_records (
    time INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    start INTEGER NOT NULL,
    length INTEGER NOT NULL,
    pgoff INTEGER NOT NULL,
    maj INTEGER,
    min INTEGER,
    ino INTEGER,
    ino_generation INTEGER,
    build_id TEXT,
    prot INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    filename TEXT NOT NULL,
    source TEXT NOT NULL
);

CREATE TABLE processes (
    pid INTEGER PRIMARY KEY,
    ppid INTEGER,
    comm TEXT,
    start_time INTEGER,
    exit_time INTEGER
);

CREATE TABLE threads (
    tid INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    comm TEXT,
    start_time INTEGER,
    exit_time INTEGER,
    PRIMARY KEY (pid, tid)
);

CREATE TABLE counters (
    cpu INTEGER PRIMARY KEY,
    read INTEGER NOT NULL,
    written INTEGER NOT NULL,
    sample INTEGER NOT NULL,
    overflow INTEGER NOT NULL,
    buf INTEGER NOT NULL,
    emptybuf INTEGER NOT NULL,
    dropbuf INTEGER NOT NULL,
    dropbuf_sample INTEGER NOT NULL,
    kernel_lost INTEGER NOT NULL,
    kernel_lost_samples INTEGER NOT NULL,
    throttle INTEGER NOT NULL,
    unthrottle INTEGER NOT NULL,
    sideband_dropped INTEGER NOT NULL,
    unwritten INTEGER NOT NULL
);
