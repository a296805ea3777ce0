-- tprof database, schema version 4: call chains (-g), stored once each as a prefix tree.

-- One row per distinct frame position: a stack is the chain from a leaf id up through parent_id to a root
-- (parent_id 0). samples.stack_id and sample_counts.stack_id hold the leaf.
CREATE TABLE stacks (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    address INTEGER NOT NULL,
    kernel INTEGER NOT NULL,
    return_address INTEGER NOT NULL,
    depth INTEGER NOT NULL
);

-- The resolved address of each frame of each process's stacks (return addresses looked up at address - 1).
CREATE TABLE stack_addresses (
    pid INTEGER NOT NULL,
    stack_id INTEGER NOT NULL,
    address_id INTEGER NOT NULL,
    PRIMARY KEY (pid, stack_id)
) WITHOUT ROWID;

-- Each frame of each stack with its symbol: one row per (pid, stack node).
CREATE VIEW stack_frames AS
SELECT sa.pid, s.id AS stack_id, s.parent_id, s.depth, s.kernel, s.address, a.name AS symbol,
       coalesce(d.path, '[unknown]') AS dso, a.file, a.line
FROM stack_addresses sa
JOIN stacks s ON s.id = sa.stack_id
JOIN addresses a ON a.id = sa.address_id
LEFT JOIN dsos d ON d.id = a.dso_id;
