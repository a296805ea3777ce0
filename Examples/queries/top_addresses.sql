-- Top addresses: the 20 program counters with the most samples, in hex, with their process, mode and the symbol
-- they resolved to (addresses table; "+0x.." is the offset into the symbol). Kernel addresses are stored as
-- negative 64-bit integers; printf('%x', pc) prints them as ffffffff8... hex.
SELECT printf('%x', c.pc) AS pc,
       m.name AS mode,
       c.pid,
       p.comm,
       (SELECT a.name || CASE WHEN a.symbol_offset IS NULL THEN '' ELSE printf('+0x%x', a.symbol_offset) END
        FROM addresses a WHERE a.pid = c.pid AND a.pc = c.pc ORDER BY a.valid_from LIMIT 1) AS symbol,
       sum(c.samples) AS samples,
       round(100.0 * sum(c.samples) / (SELECT sum(samples) FROM sample_counts), 2) AS percent
FROM sample_counts c
LEFT JOIN processes p ON p.pid = c.pid
LEFT JOIN modes m ON m.id = c.mode
GROUP BY c.pid, c.pc, c.mode
ORDER BY samples DESC, c.pid, c.pc
LIMIT 20;
