-- tprof database, schema version 15: off-CPU intervals paired while recording. The writer pairs each thread's
-- switch-outs, switch-ins and wake-ups in memory as they come and writes one `off_cpu` row per interval (the
-- `off-cpu` sample of its switch-out written with the interval's length as its period), rather than storing every
-- switch and wake-up and pairing them when recording ends. The raw records of schema 14 go (`tprof-report
-- --resymbolize` pairs those of a schema-14 file that was never finished before this step drops them); what became
-- of each switch-out is counted instead.
DROP TABLE switch_records;
DROP TABLE waking_records;
CREATE TABLE off_cpu_outcomes (
    outcome TEXT PRIMARY KEY
        CHECK (outcome IN ('interval', 'off CPU at the stop', 'exited', 'switch-in lost', 'idle task')),
    switches INTEGER NOT NULL
);
