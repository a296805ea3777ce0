-- tprof database, schema version 3: symbols, resolved into the database when recording ends, so a copied file
-- reports the same names anywhere. tprof-report --resymbolize rewrites these tables with the files available now.

CREATE TABLE dsos (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    build_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('executable', 'library', 'kernel', 'module', 'vdso', 'jit', 'anonymous',
                                       'unknown')),
    symbol_source TEXT NOT NULL
);

CREATE TABLE symbols (
    id INTEGER PRIMARY KEY,
    dso_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    raw_name TEXT NOT NULL,
    address INTEGER NOT NULL,
    size INTEGER
);

CREATE TABLE addresses (
    id INTEGER PRIMARY KEY,
    pid INTEGER NOT NULL,
    pc INTEGER NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    dso_id INTEGER,
    dso_offset INTEGER,
    symbol_id INTEGER,
    symbol_offset INTEGER,
    name TEXT NOT NULL,
    file TEXT,
    line INTEGER,
    inlined TEXT,
    UNIQUE (pid, pc, valid_from)
);

CREATE TABLE symbol_counts (
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    event INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    stack_id INTEGER NOT NULL,
    address_id INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    period INTEGER NOT NULL
);
CREATE INDEX symbol_counts_by_address ON symbol_counts (address_id);

-- symbol_counts with every name: process, thread, event, mode, symbol, library, source line.
CREATE VIEW symbol_groups AS
SELECT c.pid, p.comm AS comm, c.tid, t.comm AS thread_comm, c.cpu, c.event, e.name AS event_name,
       c.mode, m.name AS mode_name, c.samples, c.period, c.stack_id, a.id AS address_id, a.pc, a.name AS symbol,
       a.symbol_offset, coalesce(d.path, '[unknown]') AS dso, d.kind AS dso_kind, a.file, a.line,
       CASE WHEN a.file IS NULL THEN NULL ELSE a.file || ':' || a.line END AS srcline, a.inlined
FROM symbol_counts c
JOIN addresses a ON a.id = c.address_id
LEFT JOIN dsos d ON d.id = a.dso_id
LEFT JOIN processes p ON p.pid = c.pid
LEFT JOIN threads t ON t.pid = c.pid AND t.tid = c.tid
LEFT JOIN events e ON e.id = c.event
LEFT JOIN modes m ON m.id = c.mode;

-- Every sample with its symbol, resolved against the mapping valid at the sample's time.
CREATE VIEW sample_symbol_facts AS
SELECT f.*, a.id AS address_id, a.name AS symbol, a.symbol_offset, coalesce(d.path, '[unknown]') AS dso,
       d.kind AS dso_kind, a.file, a.line,
       CASE WHEN a.file IS NULL THEN NULL ELSE a.file || ':' || a.line END AS srcline, a.inlined
FROM sample_facts f
JOIN addresses a ON a.pid = f.pid AND a.pc = f.pc AND f.time >= a.valid_from AND f.time < a.valid_to
LEFT JOIN dsos d ON d.id = a.dso_id;

-- Samples per symbol, perf-style: [k] for kernel, [.] for user space, with the library.
CREATE VIEW by_symbol AS
SELECT symbol, CASE WHEN mode IN (1, 4) THEN '[k]' ELSE '[.]' END AS marker, dso, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM symbol_counts), 2) AS percent
FROM symbol_groups GROUP BY symbol, marker, dso ORDER BY samples DESC;

-- Samples per library or executable.
CREATE VIEW by_dso AS
SELECT dso, dso_kind, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM symbol_counts), 2) AS percent
FROM symbol_groups GROUP BY dso, dso_kind ORDER BY samples DESC;

-- Samples per source line (addresses without DWARF line information are left out).
CREATE VIEW by_line AS
SELECT srcline, symbol, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM symbol_counts), 2) AS percent
FROM symbol_groups WHERE srcline IS NOT NULL GROUP BY srcline, symbol ORDER BY samples DESC;

-- How well symbols resolved: distinct addresses and their samples, by outcome.
CREATE VIEW symbol_stats AS
SELECT CASE WHEN a.symbol_id IS NOT NULL THEN 'symbol'
            WHEN a.dso_id IS NOT NULL THEN 'library only'
            ELSE 'unknown' END AS resolved,
       count(DISTINCT a.id) AS addresses, coalesce(sum(c.samples), 0) AS samples
FROM addresses a LEFT JOIN symbol_counts c ON c.address_id = a.id
GROUP BY 1 ORDER BY 1;
