-- Kernel share per CPU: samples taken in kernel mode and in user mode on each CPU, and the kernel's percentage.
-- Reads the small sample_counts rollup, so it is instant even on large recordings.
SELECT cpu,
       sum(samples) AS samples,
       sum(CASE WHEN mode = 1 THEN samples ELSE 0 END) AS kernel,
       sum(CASE WHEN mode = 2 THEN samples ELSE 0 END) AS user,
       round(100.0 * sum(CASE WHEN mode = 1 THEN samples ELSE 0 END) / sum(samples), 2) AS kernel_percent
FROM sample_counts
GROUP BY cpu
ORDER BY cpu;
