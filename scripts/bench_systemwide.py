"""Section "systemwide" of scripts/bench.py (issue 14): what recording the whole machine costs, tprof against perf.

Both CPUs kept busy by spinners; each tool alone records `-e cpu-clock -a -g -F RATE -d SECONDS`:
  - CPU of the recorder (user + system, from the children's rusage: perf record; tprof-record with its finishing,
    which leaves a symbolized database) and of `perf report` on perf's file (perf's symbolization), per sample;
  - self share: the recorder's own threads in its own recording (`perf`; `tprof-record`, `tprof-writer`, ...);
  - samples lost: perf's (`# Total Lost Samples` of its report), tprof's dropped and kernel-dropped samples;
  - the synthetic pipeline with system-wide chains (`tprof-bench pipeline --system-wide-chains`) paced at the same
    rate, so the bench shows whether the synthetic case predicts the real one.
And `-g -F 4000` on one command (`spin 4`), each tool alone: the recorder's CPU per sample against perf record's
and perf report's.

bench.py calls `systemwide(suite, bench)` with its Suite and its own module (log, out, table, f, run, ...).
Standard library only.
"""

import json
import os
import re
import subprocess

RATES = [20000, 50000]
SECONDS = 6
# The one-command case: `-g -F 4000` on `spin COMMAND_CPU` (seconds of CPU), each tool alone.
COMMAND_RATE = 4000
COMMAND_CPU = 4


def timed(cmd):
    """Runs cmd; returns (completed process, its CPU seconds), from the change in the children's rusage."""
    before = os.times()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return p, cpu


def perf_run(suite, b, rate):
    data = suite.path(f"sw-{rate}.data")
    b.remove(data)
    p, cpu = timed(["perf", "record", "-e", "cpu-clock", "-a", "-g", "-F", str(rate), "-o", data,
                           "--", "sleep", str(SECONDS)])
    if p.returncode != 0:
        raise RuntimeError(f"perf record exited {p.returncode}: {p.stderr[-500:]}")
    report, report_cpu = timed(["perf", "report", "-i", data, "--stdio", "--sort", "comm", "--no-children"])
    # Exact, from perf record's last line (its report's "# Samples: 240K" is rounded).
    samples, self_share = b.perf_samples(p.stderr) or 0, 0.0
    for m in re.finditer(r"^\s+([\d.]+)%\s+(\S+)\s*$", report.stdout, re.M):
        if m.group(2) == "perf":
            self_share += float(m.group(1))
    # perf's header counts the samples it could not store (from its LOST records).
    m = re.search(r"^# Total Lost Samples: (\d+)", report.stdout, re.M)
    lost = int(m.group(1)) if m else 0
    b.remove(data)
    return {"cpu": cpu, "report_cpu": report_cpu, "samples": samples, "self_share": self_share,
            "lost": lost}


def tprof_run(suite, b, rate):
    db = suite.path(f"sw-{rate}.db")
    b.remove(db)
    p, cpu = timed([suite.record, "-q", "-e", "cpu-clock", "-a", "-g", "-F", str(rate), "-d", str(SECONDS),
                    "-o", db])
    if p.returncode != 0:
        raise RuntimeError(f"tprof-record exited {p.returncode}: {p.stderr[-500:]}")
    samples = b.db_query(db, "SELECT count(*) FROM samples")
    dropped = b.db_query(db, "SELECT coalesce(dropped, 0) FROM counter_totals")
    kernel_lost = b.db_query(db, "SELECT coalesce(kernel_dropped, 0) FROM counter_totals")
    q, _, _, _ = b.run([suite.report, db, "--by-comm", "--format", "json"])
    # The recorder's threads are named tprof-record, tprof-writer, tprof-reader-N.
    self_share = sum(float(row["percent"]) for row in json.loads(q.stdout)
                     if str(row.get("comm", "")).startswith("tprof-"))
    b.remove(db)
    return {"cpu": cpu, "samples": samples, "dropped": dropped, "kernel_lost": kernel_lost, "self_share": self_share}


def command_run(suite, b, tool):
    """`-g -F 4000` on one command: the recorder's CPU (its children's less the command's own) and its samples."""
    out = suite.path(f"cmd-{tool}.data" if tool == "perf" else f"cmd-{tool}.db")
    b.remove(out)
    command = ["--", suite.spin, str(COMMAND_CPU)]
    if tool == "perf":
        cmd = ["perf", "record", "-e", "cpu-clock", "-g", "-F", str(COMMAND_RATE), "-o", out] + command
    else:
        cmd = [suite.record, "-q", "-e", "cpu-clock", "-g", "-F", str(COMMAND_RATE), "-o", out] + command
    p, cpu = timed(cmd)
    if p.returncode != 0:
        raise RuntimeError(f"{tool} exited {p.returncode}: {p.stderr[-500:]}")
    _, spin_cpu, _ = b.spin_times(p.stdout)
    result = {"cpu": cpu - spin_cpu}
    if tool == "perf":
        report, report_cpu = timed(["perf", "report", "-i", out, "--stdio", "--sort", "sym", "--no-children"])
        result["samples"] = b.perf_samples(p.stderr) or 0
        result["report_cpu"] = report_cpu
    else:
        result["samples"] = b.db_query(out, "SELECT count(*) FROM samples")
    b.remove(out)
    return result


def cpu_cells(b, perf, tprof):
    """The three CPU columns of a row (perf record, perf report, tprof-record), tprof's µs a sample and perf's two
    together."""
    def per_sample(cpu, samples):
        return 1e6 * cpu / samples if samples else None
    perf_us = per_sample(perf["cpu"], perf["samples"])
    report_us = per_sample(perf["report_cpu"], perf["samples"])
    tprof_us = per_sample(tprof["cpu"], tprof["samples"])
    cells = [f"{b.f(perf['cpu'])} s for {perf['samples']:,} ({b.f(perf_us, 1)} µs)",
             f"{b.f(perf['report_cpu'])} s ({b.f(report_us, 1)} µs)",
             f"{b.f(tprof['cpu'])} s for {tprof['samples']:,} ({b.f(tprof_us, 1)} µs)"]
    return cells, tprof_us, (perf_us or 0) + (report_us or 0)


def synthetic_run(suite, b, rate):
    per_cpu = rate * SECONDS
    p, _, _, _ = b.run([suite.bench, "pipeline", "--system-wide-chains", "--samples", str(per_cpu), "--rate",
                        str(rate), "--cpus", str(suite.ncpu), "--repeats", "1", "--directory", suite.work])
    m = re.search(r"^\| paced 1 \| (\d+) \| ([\d.]+) \| (\d+) \| (\d+) \|", p.stdout, re.M)
    f = re.search(r"^\| flood 1 \| (\d+) \| ([\d.]+) \| (\d+) \| (\d+) \|", p.stdout, re.M)
    return {"paced_dropped": int(m.group(4)) if m else None, "flood": int(f.group(3)) if f else None}


def systemwide(suite, b):
    """The section: the table of issue 14, and its targets into suite.targets."""
    b.out("## System-wide cost: tprof-record against perf record (issue 14)")
    b.out()
    b.out(f"Both CPUs busy (one spinner each); each tool alone records `-e cpu-clock -a -g -F RATE` for {SECONDS} s. "
          "CPU: user + system of the recorder process and its threads (rusage of the child): perf record, then "
          "`perf report --stdio --sort comm` on its file (perf's symbolization, which tprof does while finishing); "
          "tprof-record including its finishing (a symbolized database). Self share: the recorder's own comm in its "
          "own recording. Lost: perf's lost samples (`# Total Lost Samples` of perf report), tprof's dropped samples "
          "(`counter_totals.dropped`) / the kernel's. Synthetic: `tprof-bench pipeline --system-wide-chains` "
          "(kernel+user chains of 20-60 frames, 100,000 distinct in 300 processes) paced at the same rate per CPU, "
          "and its flood rate (the writer's ceiling for such chains).")
    b.out()
    rows = []
    for rate in RATES:
        b.log(f"systemwide: -F {rate}, perf")
        suite.start_spinners(SECONDS * 3 + 60)
        try:
            perf = perf_run(suite, b, rate)
            b.log(f"systemwide: -F {rate}, tprof")
            tprof = tprof_run(suite, b, rate)
        finally:
            suite.stop_spinners()
        b.log(f"systemwide: -F {rate}, synthetic")
        synthetic = synthetic_run(suite, b, rate)
        cells, tprof_us, both = cpu_cells(b, perf, tprof)
        rows.append([f"{rate // 1000} kHz"] + cells + [
                     f"{b.f(perf['self_share'])}% / {b.f(tprof['self_share'])}%",
                     f"{perf['lost']:,} / {tprof['dropped']:,} + {tprof['kernel_lost']:,}",
                     f"{synthetic['paced_dropped']:,} dropped; flood {synthetic['flood']:,}/s"
                     if synthetic["flood"] is not None else "n/a"])
        suite.target(f"System-wide {rate // 1000} kHz -a -g: tprof-record CPU per sample (recording + finishing) "
                     f"at most perf record's + perf report's",
                     f"{b.f(tprof_us, 1)} µs against {b.f(both, 1)} µs", tprof_us is not None and tprof_us <= both)
        suite.target(f"System-wide {rate // 1000} kHz -a -g: self share at most twice perf's",
                     f"{b.f(tprof['self_share'])}% against {b.f(perf['self_share'])}%",
                     tprof["self_share"] <= 2 * max(perf["self_share"], 0.01))
        suite.target(f"System-wide {rate // 1000} kHz -a -g: no more samples lost than perf",
                     f"tprof {tprof['dropped'] + tprof['kernel_lost']:,}, perf {perf['lost']:,}",
                     tprof["dropped"] + tprof["kernel_lost"] <= perf["lost"])
    b.log(f"systemwide: -g -F {COMMAND_RATE} on one command")
    perf = command_run(suite, b, "perf")
    tprof = command_run(suite, b, "tprof")
    cells, tprof_us, both = cpu_cells(b, perf, tprof)
    rows.append([f"{COMMAND_RATE // 1000} kHz, one command (`spin {COMMAND_CPU}`)"] + cells + ["n/a", "n/a", "n/a"])
    suite.target(f"One command, -g -F {COMMAND_RATE}: tprof-record CPU per sample (recording + finishing) at most "
                 f"perf record's + perf report's", f"{b.f(tprof_us, 1)} µs against {b.f(both, 1)} µs",
                 tprof_us is not None and tprof_us <= both)
    b.table(["rate", "perf record CPU", "perf report CPU", "tprof-record CPU (record + finish)",
             "self share perf / tprof", "lost perf / tprof (dropped + kernel)", "synthetic, same rate"], rows)
    b.out(f"The one-command row: `-g -F {COMMAND_RATE} -- spin {COMMAND_CPU}` on an otherwise idle machine; the "
          "recorder's CPU is its children's rusage less the CPU spin reports for itself.")
    b.out()
