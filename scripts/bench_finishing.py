"""Section "finishing" of scripts/bench.py (issue 13): the recorder's finishing time and memory.

Finishing is the time from the end of the recording (the end of `-d`, or the command's exit) to tprof-record's
exit: indexes, symbol resolution, the last writes. Measured with the release binaries:
  - the curve: system-wide recordings (`tprof-record -e cpu-clock -a -g -F RATE -d SECONDS`) while two loops of
    compilers, python and xz keep both CPUs busy, at several rates and durations, so the distinct addresses go from
    about 2k to about 150k; finishing time, µs per distinct address, and how that cost grows;
  - `swiftc -O` of a ~200-line file at -F 4000 under perf record under tprof-record, in one execution: tprof's
    finishing against perf record's own wrap-up, and `perf report` on perf's file for reference;
  - memory: VmRSS and RssAnon of tprof-record, polled every 10 ms for the whole run (recording and finishing).
Adds the targets of issue 13 to the suite's targets table.

bench.py calls `finishing(suite, bench)` with its Suite and its own module (the helpers: log, out, table, f, ...).
Standard library only.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time

from bench_workloads import LOOP_BLOCKS, StatusWatch, busy_loops, stop_loops, swift_source

MB = 1024 * 1024

# Rates and durations of the system-wide recordings: (Hz, seconds). With the busy loops below the first gives about
# 2k distinct addresses (with -g every frame of a call chain is an address), -F 20000 -d 8 about 200k, and the
# last (the case) more than the 150k: compilers touch more code than the workload did.
POINTS = [(150, 2), (1000, 2), (4000, 2), (20000, 2), (20000, 8), (20000, 20), (20000, 60)]
QUICK_POINTS = [(150, 2), (1000, 2), (20000, 2)]
# The large case, where finishing must take under 10 s.
LARGE = (20000, 60)


def finishing(suite, b):
    """The section: the curve, swiftc under perf under tprof, memory; targets into suite.targets."""
    a = suite.args
    quick = suite.quick
    points = POINTS if not quick else QUICK_POINTS
    if getattr(a, "finishing_points", None):
        points = [tuple(int(x) for x in p.split(":")) for p in a.finishing_points.split(",")]
    swiftc = shutil.which("swiftc") or ("/opt/swift/usr/bin/swiftc" if os.path.exists("/opt/swift/usr/bin/swiftc")
                                        else None)
    if not swiftc:
        raise RuntimeError("no swiftc on the PATH or in /opt/swift/usr/bin")
    source = suite.path("finishing-work.swift")
    with open(source, "w") as handle:
        handle.write(swift_source())
    lines = swift_source().count("\n")
    b.out("## Finishing: time and memory against distinct addresses (issue 13)")
    b.out()
    b.out("Finishing is the time from the end of the recording (the end of `-d`, or the command's exit) to "
          "tprof-record's exit: indexes, symbol resolution, the last writes. Memory: VmRSS and RssAnon of the "
          "tprof-record process polled from /proc/PID/status every 10 ms for the whole run, recording and "
          "finishing, and its VmHWM (the kernel's peak RSS) at the last poll.")
    b.out()
    memory_rows = []

    # -- the curve
    curve = curve_points(suite, b, points, swiftc, source)
    memory_rows += [row["memory"] for row in curve]

    # -- swiftc -O at -F 4000 under perf under tprof, in one execution
    side = swiftc_side_by_side(suite, b, swiftc, source, lines)
    memory_rows += [m for m in side["memory"]]

    # -- memory of every case
    b.out("### Memory of tprof-record in every case above")
    b.out()
    b.table(["case", "peak RssAnon while recording (MB)", "peak RssAnon while finishing (MB)",
             "peak VmRSS polled (MB)", "VmHWM at the end (MB)", "polls"],
            [[m["label"], mb(b, m["anon_recording"]), mb(b, m["anon_finishing"]), mb(b, m["rss"]), mb(b, m["hwm"]),
              f"{m['polls']:,}"] for m in memory_rows])
    b.out("RssAnon is the process's own memory (heap, stacks, SQLite's cache); VmRSS adds the pages of mapped files "
          "(its binary, libraries, the ELF and DWARF images it maps to resolve symbols, the database if mapped).")
    b.out()

    # -- targets
    if curve:
        large = [r for r in curve if (r["rate"], r["seconds"]) == LARGE]
        if large:
            r = large[0]
            suite.target("Finishing: `-a -g -F 20000 -d 60` with both CPUs busy finishes in under 10 s",
                         f"{b.f(r['finishing'], 1)} s ({r['addresses']:,} distinct addresses)",
                         r["finishing"] is not None and r["finishing"] < 10)
        else:
            suite.target("Finishing: `-a -g -F 20000 -d 60` with both CPUs busy finishes in under 10 s",
                         "not run (--quick or --finishing-points)", None)
        lo = min(curve, key=lambda r: r["addresses"] or 0)
        hi = max(curve, key=lambda r: r["addresses"] or 0)
        growth = b.ratio(hi["per_address"], lo["per_address"])
        suite.target("Finishing: cost per distinct address flat (at the curve's largest point no more than 2× that "
                     "at its smallest; the issue: ~2k to ~150k addresses)",
                     f"×{b.f(growth, 2)}: {b.f(hi['per_address'], 0)} µs at {hi['addresses']:,} addresses, "
                     f"{b.f(lo['per_address'], 0)} µs at {lo['addresses']:,}",
                     growth is not None and growth <= 2)
    t, p = side["tprof"], side["perf_wrap"]
    suite.target("Finishing: `swiftc -O` at -F 4000, tprof's finishing no longer than perf record's own wrap-up "
                 "(one execution)",
                 f"tprof {b.f(t, 2)} s, perf {b.f(p, 2)} s ({side['addresses']} distinct addresses)",
                 t is not None and p is not None and t <= p)
    suite.target("Finishing: `swiftc -O` at -F 4000 finishes in at most 1.0 s", f"{b.f(t, 2)} s",
                 t is not None and t <= 1.0)
    worst_anon = max(memory_rows, key=lambda m: max(m["anon_recording"] or 0, m["anon_finishing"] or 0))
    anon = max(worst_anon["anon_recording"] or 0, worst_anon["anon_finishing"] or 0)
    suite.target("Memory: RssAnon under 64 MB at every moment (every case of the finishing section)",
                 f"{b.f(anon / MB, 1)} MB at most ({worst_anon['label']})", anon < 64 * MB)
    worst_rss = max(memory_rows, key=lambda m: max(m["rss"] or 0, m["hwm"] or 0))
    rss = max(worst_rss["rss"] or 0, worst_rss["hwm"] or 0)
    suite.target("Memory: RSS under 128 MB at every moment (every case of the finishing section)",
                 f"{b.f(rss / MB, 1)} MB at most (VmHWM; {worst_rss['label']})", rss < 128 * MB)


def mb(b, value):
    return b.f(value / MB if value is not None else None, 1)


RESOLVED = re.compile(r"resolved (\d+) addresses .* in ([\d.]+) s")


def recorder_run(cmd, stderr_path):
    """Runs tprof-record, polling its memory; returns (returncode, launch, exit on CLOCK_MONOTONIC, exit on
    CLOCK_REALTIME, watch, stderr text)."""
    with open(stderr_path, "w") as err:
        launch = time.monotonic()
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        watch = StatusWatch(process.pid)
        process.wait()
        exit_monotonic, exit_wall = time.monotonic(), time.time()
    watch.join()
    with open(stderr_path, errors="replace") as fh:
        text = fh.read()
    return process.returncode, launch, exit_monotonic, exit_wall, watch, text


def db_value(path, sql):
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None


def memory_row(label, watch, end):
    """Peaks of a run; `end` is the end of recording (CLOCK_MONOTONIC seconds) that splits recording and
    finishing."""
    rss, _ = watch.peaks()
    _, anon_rec = watch.peaks(until=end)
    _, anon_fin = watch.peaks(since=end)
    return {"label": label, "rss": rss, "hwm": watch.hwm, "anon_recording": anon_rec, "anon_finishing": anon_fin,
            "polls": len(watch.samples)}


def curve_points(suite, b, points, swiftc, source):
    b.out("### Finishing time against distinct addresses")
    b.out()
    loop_lines = swift_source(LOOP_BLOCKS).count("\n")
    b.out(f"`tprof-record -e cpu-clock -a -g -F RATE -d SECONDS -o X.db` while two loops at nice 19 keep both "
          f"CPUs busy with code-heavy, long-lived processes: `swiftc -O` of a generated {loop_lines}-line "
          f"Swift file (blocks like the file below's) and `g++ -O2` of a small C++ file (map, regex, streams) in "
          f"one; a python process (json, re, decimal, difflib, sqlite3, zlib) and `xz -6` of the recorder's binary "
          f"in the other. The loops run through the finishing too, at nice 19, so they take little of its CPU. "
          f"One run per point. The end of the recording is the later of the last sample's time "
          f"(`run.start_monotonic_ns + max(samples.time)`, CLOCK_MONOTONIC) and `run.start_monotonic_ns` + -d: "
          f"both come before the moment -d expires (-d counts from the events' enabling, after the /proc scan), "
          f"so finishing is counted from no later than the true end. 'after launch + d' is the recorder's exit "
          f"less (its launch time + -d), for comparison. Lost and throttled: `counter_totals` (dropped, "
          f"kernel_dropped, throttle). Distinct addresses: `SELECT count(*) FROM addresses`. Resolution: "
          f"the time the recorder's summary gives for symbol resolution, when it prints one.")
    b.out()
    # A first compile fills swiftc's module cache, so the loops compile rather than build modules.
    b.log("finishing: warming up swiftc's module cache")
    subprocess.run([swiftc, "-O", source, "-o", suite.path("fw-swift-out"), "-module-cache-path",
                    suite.path("fw-cache")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    loops = busy_loops(suite, b)
    try:
        time.sleep(2)
        for rate, seconds in points:
            db = suite.path(f"finishing-{rate}-{seconds}.db")
            b.remove(db)
            b.log(f"finishing: -a -g -F {rate} -d {seconds}")
            cmd = [suite.record, "-e", "cpu-clock", "-a", "-g", "-F", str(rate), "-d", str(seconds), "-o", db]
            code, launch, exit_m, _, watch, err = recorder_run(cmd, suite.path("finishing.stderr"))
            if code != 0:
                raise RuntimeError(f"tprof-record -a -g -F {rate} -d {seconds} exited {code}: {err[-1000:]}")
            samples = db_value(db, "SELECT count(*) FROM samples")
            addresses = db_value(db, "SELECT count(*) FROM addresses")
            # Two lower bounds of the moment -d expired: the last sample, and the run's start (taken before the
            # /proc scan; -d counts from the events' enabling, after it) plus -d. The later of them is the end, so
            # finishing is never under-counted, and over-counted by less than the scan at most.
            last = db_value(db, "SELECT run.start_monotonic_ns + (SELECT max(time) FROM samples) FROM run")
            start = db_value(db, "SELECT start_monotonic_ns FROM run")
            end = max([launch + seconds] + [x / 1e9 for x in (last,) if x]
                      + [x / 1e9 + seconds for x in (start,) if x])
            lost = [db_value(db, f"SELECT {c} FROM counter_totals") for c in ("dropped", "kernel_dropped", "throttle")]
            finishing = exit_m - end
            m = RESOLVED.search(err)
            resolution = float(m.group(2)) if m else None
            per_address = finishing / addresses * 1e6 if addresses else None
            label = f"`-a -g -F {rate} -d {seconds}`"
            rows.append({"rate": rate, "seconds": seconds, "samples": samples, "addresses": addresses, "lost": lost,
                         "finishing": finishing, "after_d": exit_m - launch - seconds, "resolution": resolution,
                         "per_address": per_address, "label": label, "memory": memory_row(label, watch, end)})
            b.log(f"finishing: {addresses} addresses, {finishing:.2f} s")
            b.remove(db)
    finally:
        stop_loops(loops)
    smallest = min(rows, key=lambda r: r["addresses"] or 0)
    table_rows = []
    for r in rows:
        mem = r["memory"]
        table_rows.append([r["label"], b.f(r["samples"], 0), " / ".join(b.f(x, 0) for x in r["lost"]),
                           b.f(r["addresses"], 0), b.f(r["finishing"], 2),
                           b.f(r["after_d"], 2), b.f(r["resolution"], 2), b.f(r["per_address"], 1),
                           f"×{b.f(b.ratio(r['per_address'], smallest['per_address']), 2)}",
                           b.f(added(r, smallest), 1),
                           mb(b, max(mem["anon_recording"] or 0, mem["anon_finishing"] or 0)),
                           mb(b, max(mem["rss"] or 0, mem["hwm"] or 0))])
    b.table(["recording", "samples", "lost by tprof / by the kernel / throttled", "distinct addresses",
             "finishing (s)", "after launch + d (s)",
             "resolution (s)", "µs per address", "per-address cost vs smallest",
             "µs per address added since the smallest", "peak RssAnon (MB)",
             "peak RSS (MB)"], table_rows)
    largest = max(rows, key=lambda r: r["addresses"] or 0)
    b.out(f"Per-address cost at the largest point ({largest['addresses']:,} addresses) over the smallest "
          f"({smallest['addresses']:,}): ×{b.f(b.ratio(largest['per_address'], smallest['per_address']), 2)} "
          f"(target ≤ 2). 'µs per address added' is (finishing − finishing at the smallest point) / "
          f"(addresses − addresses at the smallest point): the cost of each further address, without what every "
          f"recording pays (opening the database, the kernel's symbols, the libraries every process maps).")
    b.out()
    return rows


def added(r, smallest):
    extra = (r["addresses"] or 0) - (smallest["addresses"] or 0)
    if extra <= 0 or r["finishing"] is None or smallest["finishing"] is None:
        return None
    return (r["finishing"] - smallest["finishing"]) / extra * 1e6


def stamp(path):
    return f"date +%s.%N > {path}"


def read_stamp(path):
    try:
        with open(path) as fh:
            return float(fh.read().strip())
    except (OSError, ValueError):
        return None


def swiftc_side_by_side(suite, b, swiftc, source, lines):
    b.out("### `swiftc -O` at -F 4000: tprof's finishing and perf record's wrap-up in one execution")
    b.out()
    b.out(f"`tprof-record -e cpu-clock -F 4000 -o t.db -- sh -c 'perf record -e cpu-clock -F 4000 -o p.data -- "
          f"sh -c \"swiftc -O work.swift -o work; date +%s.%N > E1\"; date +%s.%N > E2'` with no other load from this "
          f"suite (work.swift: {lines} lines, generated: six blocks of structs, enums, generics and closures). "
          f"perf record's wrap-up: E1 (swiftc's end) to E2 (perf's exit). tprof's finishing: E2 (its "
          f"command's end) to tprof-record's exit, which is its wait's return in this script (CLOCK_REALTIME "
          f"throughout). `perf report --stdio --sort sym` on p.data afterwards, for reference. swiftc alone: a run "
          f"of the same compile with no profiler, after one that filled the module cache.")
    b.out()
    out_bin = suite.path("fw-swift-side")
    cache = suite.path("fw-cache")
    compile_cmd = f"{swiftc} -O {source} -o {out_bin} -module-cache-path {cache}"
    subprocess.run(["sh", "-c", compile_cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, alone, _, _ = b.run(["sh", "-c", compile_cmd])
    res = {k: [] for k in ("swiftc", "perf_wrap", "tprof", "report", "samples", "perf_samples", "addresses")}
    memory = []
    for i in range(suite.repeats):
        b.log(f"finishing: swiftc -O under perf under tprof {i + 1}/{suite.repeats}")
        db, data = suite.path(f"fw-side-{i}.db"), suite.path(f"fw-side-{i}.data")
        e0, e1, e2 = (suite.path(f"fw-side-{i}.{n}") for n in ("start", "e1", "e2"))
        b.remove(db, data, e0, e1, e2)
        inner = f"{stamp(e0)}; {compile_cmd}; s=$?; {stamp(e1)}; exit $s"
        outer = (f"perf record -e cpu-clock -F 4000 -o {data} -- sh -c '{inner}' 2> {data}.stderr; s=$?; "
                 f"{stamp(e2)}; exit $s")
        cmd = [suite.record, "-e", "cpu-clock", "-F", "4000", "-o", db, "--", "sh", "-c", outer]
        code, _, exit_m, exit_wall, watch, err = recorder_run(cmd, suite.path("finishing.stderr"))
        if code != 0:
            raise RuntimeError(f"tprof-record over perf record over swiftc exited {code}: {err[-1000:]}")
        t0, t1, t2 = read_stamp(e0), read_stamp(e1), read_stamp(e2)
        res["swiftc"].append(t1 - t0 if t0 and t1 else None)
        res["perf_wrap"].append(t2 - t1 if t1 and t2 else None)
        res["tprof"].append(exit_wall - t2 if t2 else None)
        res["samples"].append(db_value(db, "SELECT count(*) FROM samples"))
        res["addresses"].append(db_value(db, "SELECT count(*) FROM addresses"))
        with open(f"{data}.stderr", errors="replace") as fh:
            res["perf_samples"].append(b.perf_samples(fh.read()))
        _, report, _, _ = b.run(["perf", "report", "-i", data, "--stdio", "--sort", "sym"])
        res["report"].append(report)
        # The command's end on CLOCK_MONOTONIC: the exit less tprof's finishing.
        end = exit_m - (exit_wall - t2) if t2 else None
        memory.append(memory_row(f"`swiftc -O`, -F 4000, under perf (run {i + 1})", watch, end))
        b.remove(db, data, e0, e1, e2, f"{data}.stderr")
    t, p = b.median(res["tprof"]), b.median(res["perf_wrap"])
    b.table(["", "value"], [
        ["swiftc -O alone (s)", b.f(alone, 2)],
        ["swiftc -O under both profilers (s)", b.runs(res["swiftc"], 2)],
        ["samples: tprof / perf", f"{b.runs(res['samples'], 0)} / {b.runs(res['perf_samples'], 0)}"],
        ["distinct addresses (tprof)", b.runs(res["addresses"], 0)],
        ["**tprof finishing** (command's end → tprof-record's exit, s)", b.runs(res["tprof"], 2)],
        ["**perf record's wrap-up** (swiftc's end → perf record's exit, s)", b.runs(res["perf_wrap"], 2)],
        ["`perf report --stdio --sort sym` on p.data (s)", b.runs(res["report"], 2)],
        ["tprof finishing / perf wrap-up", b.f(b.ratio(t, p), 2)],
        ["peak RssAnon / peak RSS of tprof-record (MB)",
         f"{mb(b, max(max(m['anon_recording'] or 0, m['anon_finishing'] or 0) for m in memory))} / "
         f"{mb(b, max(max(m['rss'] or 0, m['hwm'] or 0) for m in memory))}"],
    ], right=[1])
    b.out(f"Repetitions: {suite.repeats} (medians; single runs in parentheses). tprof records perf record too "
          f"(its command), so its samples include perf's own work and wrap-up.")
    b.out()
    return {"tprof": t, "perf_wrap": p, "memory": memory, "addresses": b.f(b.median(res["addresses"]), 0)}
