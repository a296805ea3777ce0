-- Samples per second per event: how many samples each event produced in each whole second of the run, per CPU
-- on average, and the summed period (the event count the samples stand for). A dip shows throttling or an idle
-- target; compare samples_per_cpu with the requested frequency in the events table.
SELECT e.name AS event,
       s.time / 1000000000 AS second,
       count(*) AS samples,
       round(count(*) * 1.0 / (SELECT cpu_count FROM run), 1) AS samples_per_cpu,
       sum(s.period) AS period
FROM samples s
JOIN events e ON e.id = s.event
GROUP BY s.event, s.time / 1000000000
ORDER BY s.event, second;
