-- Run metadata: what was recorded, where, when, how it ended, with which events, and how many samples were kept.
SELECT r.status,
       r.status_reason,
       r.target,
       coalesce(r.command, r.target_pids, 'system-wide') AS what,
       r.host,
       r.kernel_release,
       r.machine,
       r.cpu_model,
       r.cpu_count,
       r.cpus AS recorded_cpus,
       r.backend,
       datetime(r.start_time_ns / 1000000000, 'unixepoch') AS started_utc,
       round(r.duration_ns / 1e9, 3) AS seconds,
       r.exit_status,
       r.exit_signal,
       (SELECT group_concat(event, ', ') FROM (
            SELECT name || CASE WHEN requested_frequency IS NOT NULL THEN ' at ' || requested_frequency || ' Hz'
                                ELSE ' every ' || requested_period END AS event
            FROM events ORDER BY id)) AS events,
       (SELECT count(*) FROM samples) AS samples,
       r.tool || ' ' || r.tool_version AS tool
FROM run r;
