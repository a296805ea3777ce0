-- tprof database, schema version 9: the joins the views make, declared as foreign keys.
-- SQLite can declare a foreign key only where it creates a table, so each table is created again with them and its
-- rows copied (nothing to copy in a new file; `tprof-report --resymbolize` copies an older file's rows, keeping
-- rowids). tprof never turns `PRAGMA foreign_keys` on: the keys document the joins, and
-- `PRAGMA foreign_key_check` checks a file against them. Columns where 0 means "none" (`stack_id`, `parent_id`)
-- have no key: 0 is no row. Legacy renaming leaves the views, which name these tables, as they are.
PRAGMA legacy_alter_table = ON;

CREATE TABLE samples_with_keys (
    time INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    event INTEGER NOT NULL REFERENCES events (id),
    mode INTEGER NOT NULL REFERENCES modes (id),
    pc INTEGER NOT NULL,
    period INTEGER NOT NULL,
    stack_id INTEGER
);
INSERT INTO samples_with_keys (rowid, time, cpu, pid, tid, event, mode, pc, period, stack_id)
SELECT rowid, time, cpu, pid, tid, event, mode, pc, period, stack_id FROM samples;
DROP TABLE samples;
ALTER TABLE samples_with_keys RENAME TO samples;

CREATE TABLE sample_counts_with_keys (
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    event INTEGER NOT NULL REFERENCES events (id),
    mode INTEGER NOT NULL REFERENCES modes (id),
    pc INTEGER NOT NULL,
    stack_id INTEGER NOT NULL DEFAULT 0,
    samples INTEGER NOT NULL,
    period INTEGER NOT NULL,
    PRIMARY KEY (pid, tid, cpu, event, mode, pc, stack_id)
) WITHOUT ROWID;
INSERT INTO sample_counts_with_keys SELECT pid, tid, cpu, event, mode, pc, stack_id, samples, period
FROM sample_counts;
DROP TABLE sample_counts;
ALTER TABLE sample_counts_with_keys RENAME TO sample_counts;

CREATE TABLE symbols_with_keys (
    id INTEGER PRIMARY KEY,
    dso_id INTEGER NOT NULL REFERENCES dsos (id),
    name TEXT NOT NULL,
    raw_name TEXT NOT NULL,
    address INTEGER NOT NULL,
    size INTEGER
);
INSERT INTO symbols_with_keys SELECT id, dso_id, name, raw_name, address, size FROM symbols;
DROP TABLE symbols;
ALTER TABLE symbols_with_keys RENAME TO symbols;

CREATE TABLE addresses_with_keys (
    id INTEGER PRIMARY KEY,
    pid INTEGER NOT NULL,
    pc INTEGER NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    dso_id INTEGER REFERENCES dsos (id),
    dso_offset INTEGER,
    symbol_id INTEGER REFERENCES symbols (id),
    symbol_offset INTEGER,
    name TEXT NOT NULL,
    file TEXT,
    line INTEGER,
    inlined TEXT,
    UNIQUE (pid, pc, valid_from)
);
INSERT INTO addresses_with_keys SELECT id, pid, pc, valid_from, valid_to, dso_id, dso_offset, symbol_id,
    symbol_offset, name, file, line, inlined FROM addresses;
DROP TABLE addresses;
ALTER TABLE addresses_with_keys RENAME TO addresses;

CREATE TABLE symbol_counts_with_keys (
    pid INTEGER NOT NULL,
    tid INTEGER NOT NULL,
    cpu INTEGER NOT NULL,
    event INTEGER NOT NULL REFERENCES events (id),
    mode INTEGER NOT NULL REFERENCES modes (id),
    stack_id INTEGER NOT NULL,
    address_id INTEGER NOT NULL REFERENCES addresses (id),
    samples INTEGER NOT NULL,
    period INTEGER NOT NULL
);
INSERT INTO symbol_counts_with_keys SELECT pid, tid, cpu, event, mode, stack_id, address_id, samples, period
FROM symbol_counts;
DROP TABLE symbol_counts;
ALTER TABLE symbol_counts_with_keys RENAME TO symbol_counts;
CREATE INDEX symbol_counts_by_address ON symbol_counts (address_id);

PRAGMA legacy_alter_table = OFF;
