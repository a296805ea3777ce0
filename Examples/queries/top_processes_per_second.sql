-- Top processes over time: for each whole second of the run, the five processes with the most samples in it,
-- with their share of that second's samples. Times are nanoseconds since the start of the run.
SELECT second, pid, comm, samples, percent_of_second
FROM (
    SELECT s.time / 1000000000 AS second, s.pid, p.comm, count(*) AS samples,
           round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY s.time / 1000000000), 2) AS percent_of_second,
           row_number() OVER (PARTITION BY s.time / 1000000000 ORDER BY count(*) DESC, s.pid) AS place
    FROM samples s
    LEFT JOIN processes p ON p.pid = s.pid
    GROUP BY s.time / 1000000000, s.pid
)
WHERE place <= 5
ORDER BY second, samples DESC, pid;
