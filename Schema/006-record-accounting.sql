-- tprof database, schema version 6: every ring-buffer record accounted for.

-- Records that are neither samples, side-band records nor the kernel's loss and throttle reports. Older files
-- have no such columns: tprof-report shows them as empty there.
ALTER TABLE counters ADD COLUMN ignored_records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE counters ADD COLUMN malformed_records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE counters ADD COLUMN malformed_bytes INTEGER NOT NULL DEFAULT 0;
