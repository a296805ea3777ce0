-- tprof database, schema version 8: one convention for each kind of value in the views, and whole stacks as text.
-- `mode` is a `modes.id` wherever it appears and `mode_name` its name; "no call chain" is stack id 0 (files
-- before this version store NULL in `samples.stack_id`: the views read it as 0); lists in `run` are JSON arrays.

-- by_mode's `mode` was the name: it is the id now, beside `mode_name`.
DROP VIEW by_mode;
CREATE VIEW by_mode AS
SELECT mode, mode_name, sum(samples) AS samples,
       round(100.0 * sum(samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_groups GROUP BY mode, mode_name ORDER BY samples DESC;

DROP VIEW sample_facts;
CREATE VIEW sample_facts AS
SELECT s.rowid AS sample_id, s.time, s.cpu, s.pid, p.comm AS comm, s.tid, t.comm AS thread_comm,
       s.event, e.name AS event_name, s.mode, m.name AS mode_name, s.pc, s.period, coalesce(s.stack_id, 0) AS stack_id,
       1 AS samples
FROM samples s
LEFT JOIN processes p ON p.pid = s.pid
LEFT JOIN threads t ON t.pid = s.pid AND t.tid = s.tid
LEFT JOIN events e ON e.id = s.event
LEFT JOIN modes m ON m.id = s.mode;

-- Each sampled stack of each process as one line of text: the frames' names from the outermost caller to the leaf,
-- separated by ';' (kernel frames marked [k]), as folded stacks are. Computed when queried; the walk stops after
-- 4096 frames, where only a damaged file's parent links lead.
CREATE VIEW stack_text AS
WITH RECURSIVE walk (pid, leaf, node, frames, depth) AS (
    SELECT DISTINCT pid, stack_id, stack_id, NULL, 0 FROM sample_counts WHERE stack_id != 0
    UNION ALL
    SELECT w.pid, w.leaf, s.parent_id,
           a.name || CASE WHEN s.kernel != 0 THEN ' [k]' ELSE '' END || coalesce(';' || w.frames, ''), w.depth + 1
    FROM walk w JOIN stacks s ON s.id = w.node AND w.depth < 4096
    JOIN addresses a ON a.pid = w.pid AND a.valid_from = -9223372036854775808
     AND a.pc = CASE WHEN s.return_address = 0 THEN s.address
                     WHEN s.address = -9223372036854775808 THEN 9223372036854775807
                     ELSE s.address - 1 END)
SELECT pid, leaf AS stack_id, frames AS stack FROM walk WHERE node = 0;

-- Samples per distinct stack (by its text, so the same chain in two processes or two trees of the forest counts
-- once), hottest first: SELECT * FROM by_stack LIMIT 1 is the hottest call chain.
CREATE VIEW by_stack AS
SELECT t.stack, sum(c.samples) AS samples,
       round(100.0 * sum(c.samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_counts c JOIN stack_text t ON t.pid = c.pid AND t.stack_id = c.stack_id
GROUP BY t.stack ORDER BY samples DESC;
