-- Drop and loss summary: per CPU and in total, what the capture engine read, wrote and dropped, what the kernel
-- lost, and the accounting check `unaccounted` = read - (written + overflow + dropbuf_sample + unwritten), which
-- is 0 in every row of a finished recording.
SELECT * FROM (
    SELECT cast(cpu AS TEXT) AS cpu, read, written, overflow, dropbuf, dropbuf_sample, unwritten,
           overflow + dropbuf_sample + unwritten AS dropped,
           round(100.0 * (overflow + dropbuf_sample + unwritten) / max(read, 1), 3) AS dropped_percent,
           kernel_lost, kernel_lost_samples, throttle, sideband_dropped,
           read - (written + overflow + dropbuf_sample + unwritten) AS unaccounted
    FROM counters
    UNION ALL
    SELECT 'total', sum(read), sum(written), sum(overflow), sum(dropbuf), sum(dropbuf_sample), sum(unwritten),
           sum(overflow + dropbuf_sample + unwritten),
           round(100.0 * sum(overflow + dropbuf_sample + unwritten) / max(sum(read), 1), 3),
           sum(kernel_lost), sum(kernel_lost_samples), sum(throttle), sum(sideband_dropped),
           sum(read - (written + overflow + dropbuf_sample + unwritten))
    FROM counters
)
ORDER BY cpu = 'total', cast(cpu AS INTEGER);
