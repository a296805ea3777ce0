-- tprof database, schema version 13: where each file's symbols were found. A file of a process in another mount
-- namespace (a container, `unshare -m`) or under another root (chroot) is read through that process's root while it
-- runs; a debug file may come from a debuginfod server; JIT code is named from a jitdump.
ALTER TABLE dsos ADD COLUMN file_source TEXT;
ALTER TABLE dsos ADD COLUMN debug_source TEXT;
CREATE TABLE process_roots (
    pid INTEGER NOT NULL,
    mount_namespace INTEGER,
    root TEXT NOT NULL
);
