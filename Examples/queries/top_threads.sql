-- Top threads: the 20 threads with the most samples, with their process, their share of all samples and how many
-- of their samples were in the kernel.
SELECT c.pid,
       p.comm AS process,
       c.tid,
       t.comm AS thread,
       sum(c.samples) AS samples,
       round(100.0 * sum(c.samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent,
       sum(CASE WHEN c.mode = 1 THEN c.samples ELSE 0 END) AS kernel_samples
FROM sample_counts c
LEFT JOIN processes p ON p.pid = c.pid
LEFT JOIN threads t ON t.pid = c.pid AND t.tid = c.tid
GROUP BY c.pid, c.tid
ORDER BY samples DESC, c.pid, c.tid
LIMIT 20;
