-- tprof database, schema version 7: stack frames named through `addresses`, without a row per (process, node).
-- A frame of a process is named by that process's whole-run `addresses` row of the node's `named_pc`: writing a
-- `stack_addresses` row for each (process, node) took a quarter of the finishing time of a large recording. The
-- table becomes a view with the same columns, so queries written for older files keep working. Files of earlier
-- versions keep their table until `tprof-report --resymbolize` brings them to this version.

DROP VIEW stack_frames;
DROP TABLE stack_addresses;

-- The address a frame is named by: the sampled address itself, or a return address less one (so that a call at the
-- very end of a function is not credited to the next one).
ALTER TABLE stacks ADD COLUMN named_pc INTEGER GENERATED ALWAYS AS (
    CASE WHEN return_address = 0 THEN address
         WHEN address = -9223372036854775808 THEN 9223372036854775807
         ELSE address - 1 END) VIRTUAL;

-- Each frame of each process's sampled stacks with its symbol: one row per (pid, stack node), found by walking from
-- the sampled leaves (for a large recording, join `stacks` and `addresses` as this view does, from the nodes you
-- need). named_pc is spelled out, so that reports reading an older file through this view find it there too.
CREATE VIEW stack_frames AS
WITH RECURSIVE reach (pid, id) AS (
    SELECT DISTINCT pid, stack_id FROM sample_counts WHERE stack_id != 0
    UNION
    SELECT r.pid, s.parent_id FROM reach r JOIN stacks s ON s.id = r.id WHERE s.parent_id != 0)
SELECT r.pid, s.id AS stack_id, s.parent_id, s.depth, s.kernel, s.address, a.id AS address_id, a.name AS symbol,
       coalesce(d.path, '[unknown]') AS dso, a.file, a.line
FROM reach r
JOIN stacks s ON s.id = r.id
JOIN addresses a ON a.pid = r.pid AND a.valid_from = -9223372036854775808
 AND a.pc = CASE WHEN s.return_address = 0 THEN s.address
                 WHEN s.address = -9223372036854775808 THEN 9223372036854775807
                 ELSE s.address - 1 END
LEFT JOIN dsos d ON d.id = a.dso_id;

-- What the table of schemas 4-6 held: the address row of each frame of each process's sampled stacks.
CREATE VIEW stack_addresses AS SELECT pid, stack_id, address_id FROM stack_frames;
