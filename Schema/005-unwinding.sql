-- tprof database, schema version 5: DWARF call graphs (--call-graph dwarf).

-- The user registers and stack copy of each sample, kept after unwinding only with --keep-stacks (otherwise they
-- live in a scratch file beside the database until the end of recording). registers holds the 17 x86_64
-- registers ax bx cx dx si di bp sp ip r8-r15 as little-endian u64; stack starts at the sampled sp.
CREATE TABLE user_stacks (
    sample_id INTEGER PRIMARY KEY,
    registers BLOB NOT NULL,
    stack BLOB NOT NULL
);

-- Outcomes of unwinding the copied user stacks: 'complete' or why unwinding stopped early (the partial stack is
-- kept, with a [truncated] frame at its root).
CREATE TABLE unwind_stats (
    reason TEXT PRIMARY KEY,
    samples INTEGER NOT NULL
);
