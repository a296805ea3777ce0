-- tprof database, schema version 12: what `tprof-report --annotate` shows, kept in the file so that it still works
-- once the binary is rebuilt or deleted: the machine code of every sampled function, its DWARF line table, and the
-- text of the source lines it was built from. Written when recording ends, after the symbols (and by
-- `tprof-report --resymbolize`, which adds what is missing and never replaces what is there). Bounded: at most
-- `annotation_limits.function_cap` bytes of code per function and `total_cap` bytes of code and source text in all,
-- the hottest functions first; what was left out is counted in `annotation_limits`.

-- One row per sampled function, by the file it came from: a rebuilt binary (another build id) is another row.
CREATE TABLE code (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    build_id TEXT,
    address INTEGER NOT NULL,
    size INTEGER NOT NULL,
    bytes BLOB,
    note TEXT
);
CREATE UNIQUE INDEX code_by_function ON code (path, coalesce(build_id, ''), address);

-- The DWARF line table over a function's code: each row covers the bytes from its offset to the next row's.
CREATE TABLE code_lines (
    code_id INTEGER NOT NULL REFERENCES code (id),
    offset INTEGER NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    PRIMARY KEY (code_id, offset)
) WITHOUT ROWID;

-- Source text as it was when recording ended: the lines samples fell on with a few lines around them, and every
-- line a stored function's line table names.
CREATE TABLE source_lines (
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (file, line)
) WITHOUT ROWID;

-- The bounds and what they left out (one row, written with the code).
CREATE TABLE annotation_limits (
    function_cap INTEGER NOT NULL,
    total_cap INTEGER NOT NULL,
    functions_cut INTEGER NOT NULL,
    functions_left_out INTEGER NOT NULL,
    code_bytes_left_out INTEGER NOT NULL,
    source_lines_left_out INTEGER NOT NULL
);
