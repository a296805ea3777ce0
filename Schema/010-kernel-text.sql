-- tprof database, schema version 10: where the recorded kernel's text started, so that a file resolved again
-- (`tprof-report --resymbolize`) names its kernel addresses with the running kernel's symbols only when that kernel
-- is the recorded one at the same place: with KASLR the same release moves at every boot.
ALTER TABLE run ADD COLUMN kernel_text_start INTEGER;
