#!/usr/bin/env python3
"""tprof's benchmark suite: tprof against perf on the same machine in the same run, as markdown tables.

Called by scripts/bench.sh, which installs the packages, builds in release mode and compiles Examples/spin;
run that instead. Never part of the tests. Standard library only.

Every comparison runs both tools in the same invocation, alternating (perf, tprof, perf, tprof, ...), and
reports medians. Sections:
  1. overhead on a fixed amount of work (spin -n N) alone, under perf record and under tprof-record;
  2. capture pipeline throughput (tprof-bench pipeline) against SQLite's raw insert rate (sqlite-ceiling);
  3. time from start to a database a query can read: perf record + export-to-sqlite.py against tprof-record;
  4. report latency on synthetic databases of 1 M and 10 M samples, and perf report on a perf.data of ~1 M;
  5. bytes per sample of the finished files, flat and with -g;
  6. per-symbol shares of spin's two hot functions (designed 2:1) from both tools;
  7. peak RSS of tprof-record at the kernel's maximum rate and over a long recording at 999 Hz (that one runs in
     the background from the start of the suite);
  finishing (scripts/bench_finishing.py, issue 13): finishing time against distinct addresses (system-wide
     recordings from ~2k to ~150k addresses), swiftc -O under perf under tprof, and memory while finishing;
  systemwide (scripts/bench_systemwide.py, issue 14): -a -g at 20 and 50 kHz with both CPUs busy, each tool alone:
     recorder CPU per sample, self share, samples lost, and the synthetic pipeline with system-wide chains beside it;
  top (scripts/bench_top.py, issue 16): tprof-top -b at its defaults against perf top --stdio, both CPUs busy: CPU
     share of one CPU, and tprof-top's steady share without its start-up;
  count (scripts/bench_count.py, issue 16): tprof-count's own CPU against perf stat's;
  offcpu (scripts/bench_offcpu.py, issue 17): a pipe ping-pong's slowdown under tprof-record --off-cpu and under
     perf record -e sched:sched_switch;
  annotate (scripts/bench_annotate.py, issue 18): --annotate's shares per instruction against perf annotate's,
     averaged over at least 5 executions recorded by both tools at once.
It ends with a table of the targets (issues 7, 13, 14, 16, 17 and 18), met or missed.
"""

import argparse
import glob
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import traceback

import bench_annotate
import bench_count
import bench_finishing
import bench_offcpu
import bench_systemwide
import bench_top

MB = 1024 * 1024


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def log(message):
    """Progress on stderr; stdout carries only the markdown."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def out(text=""):
    print(text, flush=True)


def table(headers, rows, right=None):
    """Prints a markdown table; columns in `right` (default: all but the first) are right-aligned."""
    right = set(range(1, len(headers))) if right is None else set(right)
    out("| " + " | ".join(headers) + " |")
    out("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
    for row in rows:
        out("| " + " | ".join(str(c) for c in row) + " |")
    out()


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def f(value, digits=2, suffix=""):
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}{suffix}"


def runs(values, digits=2):
    """'median (a, b, c)' for a cell; just the value when there is one run."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f(values[0], digits)
    return f"{f(median(values), digits)} ({', '.join(f(v, digits) for v in values)})"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def run(cmd, check=True, **kwargs):
    """Runs a command; returns (completed process, wall seconds, start, end) on CLOCK_MONOTONIC."""
    start = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace", **kwargs)
    end = time.monotonic()
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {p.returncode}\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p, end - start, start, end


SPIN_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Examples", "spin", "spin.c")

SPIN_LINE = re.compile(r"spin: wall ([\d.]+) s, cpu ([\d.]+) s, ended at monotonic ([\d.]+)")


def spin_times(text):
    """(wall, cpu, end on CLOCK_MONOTONIC) as the workload printed them."""
    m = SPIN_LINE.search(text)
    if not m:
        raise RuntimeError(f"spin did not print its times:\n{text[-2000:]}")
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


PERF_WROTE = re.compile(r"Captured and wrote [\d.]+ MB .* \((\d+) samples\)")


def perf_samples(stderr):
    m = PERF_WROTE.search(stderr)
    return int(m.group(1)) if m else None


def db_query(path, sql):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def file_bytes(path):
    return sum(os.path.getsize(path + s) for s in ("", "-wal", "-shm") if os.path.exists(path + s))


def remove(*paths):
    for path in paths:
        for s in ("", "-wal", "-shm", ".old"):
            try:
                os.unlink(path + s)
            except FileNotFoundError:
                pass


def read_int(path):
    try:
        with open(path) as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class RSSWatch:
    """Polls VmRSS and VmHWM of a process from /proc/PID/status until it exits."""

    def __init__(self, pid, interval=0.25):
        self.pid = pid
        self.interval = interval
        self.samples = []  # (seconds since start, VmRSS bytes, VmHWM bytes, RssAnon bytes)
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self):
        path = f"/proc/{self.pid}/status"
        while True:
            try:
                with open(path) as fh:
                    status = fh.read()
            except OSError:
                return
            rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            anon = re.search(r"^RssAnon:\s+(\d+) kB", status, re.M)
            if not rss or not hwm:  # a zombie has no memory lines
                return
            self.samples.append((time.monotonic() - self.started, int(rss.group(1)) * 1024,
                                 int(hwm.group(1)) * 1024, int(anon.group(1)) * 1024 if anon else 0))
            time.sleep(self.interval)

    def join(self):
        self.thread.join()

    @property
    def peak(self):
        return max((s[2] for s in self.samples), default=None)

    @property
    def peak_anonymous(self):
        """The largest RssAnon seen: memory of the process's own, without mapped files."""
        return max((s[3] for s in self.samples), default=None)

    def rss_at(self, seconds):
        """VmRSS at the last poll at or before `seconds` after start."""
        before = [s for s in self.samples if s[0] <= seconds]
        return before[-1][1] if before else None


# ---------------------------------------------------------------------------------------------------------------
# The suite


class Suite:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin
        self.work = args.work
        self.spin = args.spin
        self.quick = args.quick
        self.repeats = args.repeats if args.repeats else (1 if args.quick else 3)
        self.record = os.path.join(self.bin, "tprof-record")
        self.report = os.path.join(self.bin, "tprof-report")
        self.bench = os.path.join(self.bin, "tprof-bench")
        self.targets = []  # (target, measured, met: True/False/None)
        self.ncpu = os.cpu_count() or 1
        self.max_rate_at_start = read_int("/proc/sys/kernel/perf_event_max_sample_rate")
        self.export_script = self._find_export_script()
        # Shared between sections.
        self.overhead_files = {"perf": [], "tprof": []}  # -g recordings at 4000 Hz
        self.flat_files = {"perf": [], "tprof": []}  # flat recordings at 4000 Hz
        self.background = None
        self.spinners = []

    def path(self, name):
        return os.path.join(self.work, name)

    def target(self, name, measured, met):
        self.targets.append((name, measured, met))

    @staticmethod
    def _find_export_script():
        for pattern in ("/usr/lib/perf-core/scripts/python/export-to-sqlite.py",
                        "/usr/libexec/perf-core/scripts/python/export-to-sqlite.py",
                        "/usr/lib/linux-tools*/scripts/python/export-to-sqlite.py"):
            found = sorted(glob.glob(pattern))
            if found:
                return found[0]
        return None

    # -- spinners, used to keep every CPU busy for system-wide recordings

    def start_spinners(self, seconds):
        self.spinners = [subprocess.Popen([self.spin, str(seconds)], stdout=subprocess.DEVNULL)
                         for _ in range(self.ncpu)]

    def stop_spinners(self):
        for p in self.spinners:
            if p.poll() is None:
                p.kill()
            p.wait()
        self.spinners = []

    # -- the whole suite

    def main(self):
        began = time.monotonic()
        a = self.args
        out(f"# tprof benchmarks{' (--quick: shorter runs, 1 repetition; a smoke run, not results)' if self.quick else ''}")
        out()
        out(f"{self.ncpu} CPUs, {cpu_model()}, {mem_gib()} GiB, Linux {os.uname().release}, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {tool_versions(self)}.")
        out(f"Repetitions: {self.repeats} (medians; single runs in parentheses). Event: cpu-clock for both tools "
            f"(`-e cpu-clock`). `kernel.perf_event_max_sample_rate` at start: {self.max_rate_at_start}.")
        out()
        sections = [("overhead", self.overhead), ("pipeline", self.pipeline),
                    ("time to a queryable database", self.time_to_database), ("report latency", self.report_latency),
                    ("size", self.size), ("accuracy", self.accuracy), ("dwarf call graphs", self.dwarf),
                    ("symbols", self.symbols), ("memory", self.memory),
                    ("finishing", lambda: bench_finishing.finishing(self, sys.modules[__name__])),
                    ("systemwide", lambda: bench_systemwide.systemwide(self, sys.modules[__name__])),
                    ("count", lambda: bench_count.count(self, sys.modules[__name__])),
                    ("top", lambda: bench_top.top(self, sys.modules[__name__])),
                    ("offcpu", lambda: bench_offcpu.offcpu(self, sys.modules[__name__])),
                    ("annotate", lambda: bench_annotate.annotate(self, sys.modules[__name__]))]
        chosen = [(name, section) for name, section in sections if not a.only or name.split()[0] in a.only]
        if any(name == "memory" for name, _ in chosen):
            self.start_background(a.long_seconds or (30 if self.quick else 600))
        for name, section in chosen:
            log(f"section: {name}")
            try:
                section()
            except Exception as error:  # one failed section must not lose the others
                traceback.print_exc()
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                out(f"**{name}: not measured** ({reason})")
                out()
        self.print_targets()
        out(f"Whole suite: {f((time.monotonic() - began) / 60, 1)} minutes.")

    # -- 1. overhead

    def overhead(self):
        a = self.args
        target_cpu = a.spin_seconds or (1.0 if self.quick else 3.0)
        iterations = a.iterations or self.calibrate(target_cpu)
        out("## 1. Overhead on fixed work")
        out()
        out(f"`spin -n {iterations}` (about {f(target_cpu, 1)} s of CPU: fixed work, {iterations} calls each of hot_a "
            f"and hot_b), built with `gcc -O1 -g -fno-omit-frame-pointer -fno-inline`, run alone, under "
            f"`perf record -e cpu-clock -F 4000 -g` and under `tprof-record -e cpu-clock -F 4000 -g`, in turn. "
            f"Workload wall and CPU time are what spin prints about itself; command wall time is the whole command's "
            f"(for the profilers: start-up, the workload, and writing or finishing the file). Slowdown is against "
            f"the workload alone.")
        out()
        configs = [
            ("alone", lambda i: [self.spin, "-n", str(iterations)]),
            ("perf", lambda i: ["perf", "record", "-e", "cpu-clock", "-F", "4000", "-g", "-o",
                                self.path(f"overhead-{i}.data"), "--", self.spin, "-n", str(iterations)]),
            ("tprof", lambda i: [self.record, "-e", "cpu-clock", "-F", "4000", "-g", "-o",
                                 self.path(f"overhead-{i}.db"), "--", self.spin, "-n", str(iterations)]),
        ]
        flat = {
            "perf": lambda i: ["perf", "record", "-e", "cpu-clock", "-F", "4000", "-o", self.path(f"flat-{i}.data"),
                               "--", self.spin, "-n", str(iterations)],
            "tprof": lambda i: [self.record, "-e", "cpu-clock", "-F", "4000", "-o", self.path(f"flat-{i}.db"), "--",
                                self.spin, "-n", str(iterations)],
        }
        results = {name: {"wall": [], "cpu": [], "command": [], "samples": []} for name, _ in configs}
        for i in range(self.repeats):
            for name, cmd in configs:
                log(f"overhead {i + 1}/{self.repeats}: {name}")
                p, wall, _, _ = run(cmd(i))
                w, c, _ = spin_times(p.stdout)
                r = results[name]
                r["wall"].append(w)
                r["cpu"].append(c)
                r["command"].append(wall)
                if name == "perf":
                    r["samples"].append(perf_samples(p.stderr))
                    self.overhead_files["perf"].append((self.path(f"overhead-{i}.data"), perf_samples(p.stderr)))
                elif name == "tprof":
                    db = self.path(f"overhead-{i}.db")
                    n = db_query(db, "SELECT count(*) FROM samples")
                    r["samples"].append(n)
                    self.overhead_files["tprof"].append((db, n))
            # Flat recordings of the same work, for sizes and shares (sections 5 and 7); not timed here.
            for name in ("perf", "tprof"):
                log(f"flat recording {i + 1}/{self.repeats}: {name}")
                p, _, _, _ = run(flat[name](i))
                if name == "perf":
                    self.flat_files["perf"].append((self.path(f"flat-{i}.data"), perf_samples(p.stderr)))
                else:
                    db = self.path(f"flat-{i}.db")
                    self.flat_files["tprof"].append((db, db_query(db, "SELECT count(*) FROM samples")))
        alone = {k: median(v) for k, v in results["alone"].items()}
        rows = []
        slowdown = {}
        for name, label in (("alone", "alone"), ("perf", "`perf record`"), ("tprof", "`tprof-record`")):
            r = results[name]
            s = {k: ratio(median(r[k]), alone[k]) for k in ("wall", "cpu", "command")}
            slowdown[name] = s
            rows.append([label, runs(r["wall"], 3), runs(r["cpu"], 3), runs(r["command"], 3),
                         "" if name == "alone" else f"×{f(s['wall'], 3)}",
                         "" if name == "alone" else f"×{f(s['cpu'], 3)}",
                         "" if name == "alone" else f"×{f(s['command'], 3)}",
                         "" if name == "alone" else runs(r["samples"], 0)])
        rows.append(["**tprof / perf**", f(ratio(median(results["tprof"]["wall"]), median(results["perf"]["wall"])), 3),
                     f(ratio(median(results["tprof"]["cpu"]), median(results["perf"]["cpu"])), 3),
                     f(ratio(median(results["tprof"]["command"]), median(results["perf"]["command"])), 3),
                     "", "", "", ""])
        table(["run", "workload wall (s)", "workload CPU (s)", "command wall (s)", "slowdown, workload wall",
               "slowdown, workload CPU", "slowdown, command wall", "samples"], rows)
        out("The kernel may throttle a 4000 Hz event (`kernel.perf_event_max_sample_rate`); the samples column "
            "shows what each tool got.")
        out()
        st, sp = slowdown["tprof"], slowdown["perf"]
        self.target("Overhead: tprof-record's slowdown of the workload no more than perf record's (workload wall, "
                    "-F 4000 -g)",
                    f"tprof ×{f(st['wall'], 3)}, perf ×{f(sp['wall'], 3)} (CPU: ×{f(st['cpu'], 3)} vs ×{f(sp['cpu'], 3)}; "
                    f"command wall: ×{f(st['command'], 3)} vs ×{f(sp['command'], 3)})",
                    st["wall"] is not None and sp["wall"] is not None and st["wall"] <= sp["wall"])

    def calibrate(self, cpu_seconds):
        """Iterations of spin -n that take about `cpu_seconds` of CPU here."""
        p, _, _, _ = run([self.spin, "0.5"])
        m = re.search(r"([\d.]+) s of CPU time, (\d+) iterations", p.stdout)
        per_second = int(m.group(2)) / float(m.group(1))
        return max(1000, int(per_second * cpu_seconds / 1000) * 1000)

    # -- 2. pipeline

    def pipeline(self):
        a = self.args
        per_cpu = a.pipeline_samples or (1_000_000 if self.quick else 3_000_000)
        cpus = 2
        total = per_cpu * cpus
        out("## 2. Capture pipeline throughput against SQLite's insert ceiling")
        out()
        out(f"`tprof-bench pipeline`: the synthetic backend generates {per_cpu:,} samples on each of {cpus} CPUs "
            f"through the per-CPU buffers, the buffer list and the writer (interning call chains and keeping the "
            f"sample_counts rollup) into SQLite. 'paced' generates 600,000 samples/s per CPU as a kernel would and "
            f"must drop nothing; 'flood' generates as fast as it can, so its samples/s is the writer's maximum "
            f"(producers and writer share the {self.ncpu} CPUs). `tprof-bench sqlite-ceiling` inserts {total:,} rows of "
            f"the same shape into a fresh database with the same schema, pragmas and 64-row INSERTs, 1,048,576 rows a "
            f"transaction (the writer's largest batch: 64 buffers of 16,384 samples), nothing around it. Stacks: 16 frames drawn from 1,000 distinct call chains. Pipeline "
            f"and ceiling alternate in each repetition.")
        out()
        shapes = [("flat", 0), ("16-frame stacks", 16)]
        data = {name: {"paced": [], "paced_drop": [], "flood": [], "flood_drop": [], "ceiling": []}
                for name, _ in shapes}
        row = re.compile(r"^\| (paced|flood|ceiling) \d+ \| (\d+) \| ([\d.]+) \| (\d+) \|(?: (\d+) \|)?", re.M)
        for i in range(self.repeats):
            for name, depth in shapes:
                log(f"pipeline {i + 1}/{self.repeats}: {name}")
                p, _, _, _ = run([self.bench, "pipeline", "--samples", str(per_cpu), "--cpus", str(cpus),
                                  "--stack-depth", str(depth), "--repeats", "1", "--directory", self.work])
                for m in row.finditer(p.stdout):
                    data[name][m.group(1)].append(int(m.group(4)))
                    data[name][m.group(1) + "_drop"].append(int(m.group(5)))
                log(f"sqlite-ceiling {i + 1}/{self.repeats}: {name}")
                p, _, _, _ = run([self.bench, "sqlite-ceiling", "--rows", str(total), "--cpus", str(cpus),
                                  "--stack-depth", str(depth), "--repeats", "1", "--directory", self.work])
                for m in row.finditer(p.stdout):
                    data[name]["ceiling"].append(int(m.group(4)))
        rows = []
        for name, _ in shapes:
            d = data[name]
            ceiling = median(d["ceiling"])
            rows.append([name, runs(d["paced"], 0), runs(d["paced_drop"], 0), runs(d["flood"], 0),
                         runs(d["ceiling"], 0), f(100 * ratio(median(d["flood"]), ceiling) if ceiling else None, 0, "%"),
                         f(100 * ratio(median(d["paced"]), ceiling) if ceiling else None, 0, "%")])
        table(["samples", "paced samples/s", "paced dropped", "flood samples/s (writer maximum)", "ceiling rows/s",
               "flood / ceiling", "paced / ceiling"], rows)
        s = data["16-frame stacks"]
        paced, drops = median(s["paced"]), max(s["paced_drop"], default=None)
        self.target("Pipeline with 16-frame stacks: ≥ 1,000,000 samples/s with no drops (paced at 1.2 M/s)",
                    f"{f(paced, 0)} samples/s, {f(drops, 0)} dropped (most in a run); flood "
                    f"{f(median(s['flood']), 0)}/s",
                    paced is not None and paced >= 1_000_000 and drops == 0)
        for name, _ in shapes:
            d = data[name]
            r = ratio(median(d["flood"]), median(d["ceiling"]))
            self.target(f"Pipeline ≥ 70% of SQLite's insert ceiling ({name}, flood)",
                        f"{f(100 * r if r else None, 0, '%')} ({f(median(d['flood']), 0)} of "
                        f"{f(median(d['ceiling']), 0)} rows/s)", r is not None and r >= 0.7)

    # -- 3. time to a queryable database

    def time_to_database(self):
        a = self.args
        seconds = a.spin_seconds or (1.0 if self.quick else 3.0)
        out("## 3. Time to a queryable database")
        out()
        if not self.export_script:
            raise RuntimeError("perf's export-to-sqlite.py was not found")
        script = self.export_script
        out(f"`spin {seconds:g}` ({seconds:g} s of CPU). perf: `perf record -e cpu-clock -F 999 -g -o X.data -- spin`, "
            f"then `perf script -i X.data -s {script} X.db` (columns 'all'; its `callchains` mode crashes in perf 6.1, "
            f"so perf's database has no call chains; tprof's has them, and symbols). tprof: "
            f"`tprof-record -e cpu-clock -F 999 -g -o X.db -- spin`. Each ends with `SELECT count(*) FROM samples` "
            f"on the database. Recording: from the start to the moment the workload ended (spin prints "
            f"CLOCK_MONOTONIC when it ends); post-processing: from then to the query's answer (for perf: perf "
            f"record's own wrap-up, the export and the query).")
        out()
        res = {"perf": {"rec": [], "post": [], "wrap": [], "export": [], "total": [], "samples": []},
               "tprof": {"rec": [], "post": [], "total": [], "samples": []}}
        for i in range(self.repeats):
            log(f"time to database {i + 1}/{self.repeats}: perf")
            data, db = self.path(f"ttq-{i}.data"), self.path(f"ttq-perf-{i}.db")
            remove(data, db)
            p, _, start, rec_end = run(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-o", data, "--",
                                        self.spin, str(seconds)])
            _, _, spin_end = spin_times(p.stdout)
            env = dict(os.environ)
            env.pop("PYTHONHOME", None)
            env.pop("PYTHONPATH", None)
            e, export_wall, _, _ = run(["perf", "script", "-i", data, "-s", script, db], env=env)
            n = db_query(db, "SELECT count(*) FROM samples")
            done = time.monotonic()
            r = res["perf"]
            r["rec"].append(spin_end - start)
            r["wrap"].append(rec_end - spin_end)
            r["export"].append(export_wall)
            r["post"].append(done - spin_end)
            r["total"].append(done - start)
            r["samples"].append(n)
            remove(data, db)

            log(f"time to database {i + 1}/{self.repeats}: tprof")
            db = self.path(f"ttq-tprof-{i}.db")
            remove(db)
            p, _, start, _ = run([self.record, "-e", "cpu-clock", "-F", "999", "-g", "-o", db, "--",
                                  self.spin, str(seconds)])
            _, _, spin_end = spin_times(p.stdout)
            n = db_query(db, "SELECT count(*) FROM samples")
            done = time.monotonic()
            r = res["tprof"]
            r["rec"].append(spin_end - start)
            r["post"].append(done - spin_end)
            r["total"].append(done - start)
            r["samples"].append(n)
            remove(db)
        pr, tr = res["perf"], res["tprof"]
        table(["tool", "recording (s)", "post-processing (s)", "of which", "start to queryable (s)", "samples"], [
            ["perf record + export-to-sqlite.py", runs(pr["rec"], 3), runs(pr["post"], 3),
             f"perf record wrap-up {f(median(pr['wrap']), 3)}, export {f(median(pr['export']), 3)}",
             runs(pr["total"], 3), runs(pr["samples"], 0)],
            ["tprof-record", runs(tr["rec"], 3), runs(tr["post"], 3), "indexes, symbols, checkpoint",
             runs(tr["total"], 3), runs(tr["samples"], 0)],
            ["**perf / tprof**", f(ratio(median(pr["rec"]), median(tr["rec"]))),
             f(ratio(median(pr["post"]), median(tr["post"]))), "",
             f(ratio(median(pr["total"]), median(tr["total"]))), ""],
        ])
        out("perf's exported `samples` table has one more row than perf recorded: the script's placeholder row 0.")
        out()
        r = ratio(median(pr["post"]), median(tr["post"]))
        self.target("Time to a queryable database: tprof's post-processing ≥ 20× sooner than perf's",
                    f"{f(r, 1)}× ({f(median(tr['post']), 3)} s vs {f(median(pr['post']), 3)} s)",
                    r is not None and r >= 20)

    # -- 4. report latency

    def report_latency(self):
        a = self.args
        sizes = [1_000_000, 2_000_000] if self.quick else [1_000_000, 10_000_000]
        if a.report_sizes:
            sizes = [int(s) for s in a.report_sizes.split(",")]
        perf_seconds = a.perf_report_seconds or (5 if self.quick else 25)
        perf_rate = 20_000
        out("## 4. Report latency")
        out()
        out(f"Synthetic databases from `tprof-bench make-db` (flat for `--by-pid` and `--by-symbol`; "
            f"`--stack-depth 16` for `--folded` and `--flamegraph`), output to /dev/null or a file. perf: "
            f"`perf report --stdio --sort sym` on a perf.data recorded with `perf record -e cpu-clock -a "
            f"-F {perf_rate}` for {perf_seconds} s while a spinner ran on each of the {self.ncpu} CPUs. Runs "
            f"alternate between the tools.")
        out()
        dbs = {}
        for n in sizes:
            for depth in (0, 16):
                path = self.path(f"synthetic-{n}-{depth}.db")
                log(f"make-db {n} samples, stack depth {depth}")
                run([self.bench, "make-db", "-o", path, "--samples", str(n), "--stack-depth", str(depth)])
                dbs[(n, depth)] = path
        log(f"perf record -a -F {perf_rate} for {perf_seconds} s")
        big = self.path("report.data")
        remove(big)
        self.start_spinners(perf_seconds + 30)
        try:
            p, _, _, _ = run(["perf", "record", "-e", "cpu-clock", "-a", "-F", str(perf_rate), "-o", big, "--",
                              "sleep", str(perf_seconds)])
        finally:
            self.stop_spinners()
        perf_n = perf_samples(p.stderr)
        reports = [("--by-pid", 0, ["--by-pid"]), ("--by-symbol", 0, ["--by-symbol"]),
                   ("--folded", 16, ["--folded"]), ("--flamegraph", 16, ["--flamegraph", self.path("fg.svg")])]
        times = {(label, n): [] for label, _, _ in reports for n in sizes}
        perf_times = []
        for i in range(self.repeats):
            log(f"reports {i + 1}/{self.repeats}")
            p, wall, _, _ = run(["perf", "report", "-i", big, "--stdio", "--sort", "sym"])
            perf_times.append(wall)
            for label, depth, extra in reports:
                for n in sizes:
                    _, wall, _, _ = run([self.report, dbs[(n, depth)]] + extra)
                    times[(label, n)].append(wall)
        big_bytes = os.path.getsize(big)
        remove(big, self.path("fg.svg"))
        rows = []
        for label, depth, _ in reports:
            rows.append([f"`tprof-report {label}`" + (" (16-frame stacks)" if depth else "")]
                        + [runs(times[(label, n)], 3) for n in sizes])
        rows.append([f"`perf report --stdio --sort sym` ({perf_n:,} samples, {big_bytes / MB:.0f} MB perf.data)"
                     if perf_n else "`perf report --stdio --sort sym`", runs(perf_times, 3)]
                    + [f"not measured: {n / 1e6:g} M samples take {n / (perf_rate * self.ncpu) / 60:.1f} minutes of "
                       f"`perf record -a -F {perf_rate}` on {self.ncpu} CPUs (and a perf.data of about "
                       f"{big_bytes / perf_n * n / MB:,.0f} MB), beyond this suite's time" if perf_n else "not measured"
                       for n in sizes[1:]])
        table(["report"] + [f"{n / 1e6:g} M samples (s)" for n in sizes], rows)
        sizes_row = []
        for n in sizes:
            sizes_row.append(f"{n / 1e6:g} M: {file_bytes(dbs[(n, 0)]) / MB:.0f} MB flat, "
                             f"{file_bytes(dbs[(n, 16)]) / MB:.0f} MB with stacks")
        out("Databases: " + "; ".join(sizes_row) + ".")
        out()
        largest = sizes[-1]
        t = median(times[("--by-pid", largest)])
        self.target(f"`tprof-report --by-pid` under 1 s at {largest / 1e6:g} M samples"
                    + ("" if largest >= 10_000_000 else " (--quick; the target is at 10 M)"),
                    f"{f(t, 3)} s", t is not None and t < 1)
        for path in dbs.values():
            remove(path)

    # -- 5. size

    def size(self):
        out("## 5. Size of the finished files")
        out()
        out("The recordings of section 1 (`-g`) and flat recordings of the same `spin -n` at 4000 Hz, one pair "
            "per repetition: whole finished files (a tprof database with its symbols, call chains and indexes; "
            "perf.data with its headers) over the samples each holds. 'Fixed' is the size of a recording of "
            "`/bin/true` (tprof: the schema's pages, the run's metadata; perf: headers, features); 'per added "
            "sample' is (bytes − fixed) / samples, what each further sample costs.")
        out()
        rows = []
        per = {}
        for label, files, flags in (("flat", self.flat_files, []), ("-g", self.overhead_files, ["-g"])):
            if not files["perf"] or not files["tprof"]:
                raise RuntimeError("section 1 did not run")
            empty_data, empty_db = self.path("empty.data"), self.path("empty.db")
            remove(empty_data, empty_db)
            run(["perf", "record", "-e", "cpu-clock", "-F", "4000", "-o", empty_data] + flags + ["--", "/bin/true"])
            run([self.record, "-q", "-e", "cpu-clock", "-F", "4000", "-o", empty_db] + flags + ["--", "/bin/true"])
            p_fixed, t_fixed = file_bytes(empty_data), file_bytes(empty_db)
            remove(empty_data, empty_db)
            pb = [file_bytes(p) for p, _ in files["perf"]]
            ps = [n for _, n in files["perf"]]
            tb = [file_bytes(p) for p, _ in files["tprof"]]
            ts = [n for _, n in files["tprof"]]
            p_per = median([b / n for b, n in zip(pb, ps) if n])
            t_per = median([b / n for b, n in zip(tb, ts) if n])
            p_add = median([(b - p_fixed) / n for b, n in zip(pb, ps) if n])
            t_add = median([(b - t_fixed) / n for b, n in zip(tb, ts) if n])
            per[label] = (p_per, t_per)
            rows.append([f"perf.data, {label}", f(median(pb), 0), f(median(ps), 0), f(p_per, 1), f(p_fixed, 0),
                         f(p_add, 1)])
            rows.append([f"tprof database, {label}", f(median(tb), 0), f(median(ts), 0), f(t_per, 1), f(t_fixed, 0),
                         f(t_add, 1)])
            rows.append([f"**tprof / perf, {label}**", "", "", f(ratio(t_per, p_per), 2), "", f(ratio(t_add, p_add), 2)])
        table(["file", "bytes", "samples", "bytes/sample", "fixed bytes", "bytes per added sample"], rows)
        for label in ("flat", "-g"):
            p_per, t_per = per[label]
            self.target(f"Size: database bytes/sample no larger than perf.data's ({label}, whole files)",
                        f"{f(t_per, 1)} vs {f(p_per, 1)}", t_per is not None and p_per is not None and t_per <= p_per)

    # -- DWARF call graphs (issue 9)

    def dwarf(self):
        out("## DWARF call graphs: overhead and bytes per sample")
        out()
        iterations = self.calibrate(1.0 if self.quick else 2.0)
        out(f"`spin -n {iterations}` alone, under `perf record -e cpu-clock -F 999 --call-graph dwarf` and under "
            f"`tprof-record -e cpu-clock -F 999 --call-graph dwarf` (both copy 8192 bytes of user stack a sample), in "
            f"turn. perf keeps the stack copies in perf.data and unwinds at report time; tprof unwinds when recording "
            f"ends and keeps only the stacks (its post-processing is in the command wall time).")
        out()
        configs = [
            ("alone", lambda i: [self.spin, "-n", str(iterations)]),
            ("perf", lambda i: ["perf", "record", "-e", "cpu-clock", "-F", "999", "--call-graph", "dwarf", "-o",
                                self.path(f"dwarf-{i}.data"), "--", self.spin, "-n", str(iterations)]),
            ("tprof", lambda i: [self.record, "-e", "cpu-clock", "-F", "999", "--call-graph", "dwarf", "-o",
                                 self.path(f"dwarf-{i}.db"), "--", self.spin, "-n", str(iterations)]),
        ]
        results = {name: {"wall": [], "command": [], "bytes": []} for name, _ in configs}
        for i in range(self.repeats):
            for name, cmd in configs:
                log(f"dwarf {i + 1}/{self.repeats}: {name}")
                remove(self.path(f"dwarf-{i}.data"), self.path(f"dwarf-{i}.db"))
                p, wall, _, _ = run(cmd(i))
                w, _, _ = spin_times(p.stdout)
                results[name]["wall"].append(w)
                results[name]["command"].append(wall)
                if name == "perf":
                    n = perf_samples(p.stderr)
                    results[name]["bytes"].append(file_bytes(self.path(f"dwarf-{i}.data")) / n if n else None)
                elif name == "tprof":
                    db = self.path(f"dwarf-{i}.db")
                    n = db_query(db, "SELECT count(*) FROM samples")
                    results[name]["bytes"].append(file_bytes(db) / n if n else None)
        alone = median(results["alone"]["wall"])
        rows = []
        for name, label in (("alone", "alone"), ("perf", "`perf record --call-graph dwarf`"),
                            ("tprof", "`tprof-record --call-graph dwarf`")):
            r = results[name]
            rows.append([label, runs(r["wall"], 3), runs(r["command"], 3),
                         "" if name == "alone" else f"×{f(ratio(median(r['wall']), alone), 3)}",
                         "" if name == "alone" else f(median([b for b in r["bytes"] if b]), 0)])
        table(["run", "workload wall (s)", "command wall (s)", "slowdown, workload wall", "bytes/sample in the file"],
              rows)
        t_slow = ratio(median(results["tprof"]["wall"]), alone)
        p_slow = ratio(median(results["perf"]["wall"]), alone)
        self.target("DWARF overhead: tprof-record's slowdown no more than perf record's (--call-graph dwarf, 999 Hz)",
                    f"tprof ×{f(t_slow, 3)}, perf ×{f(p_slow, 3)}",
                    t_slow is not None and p_slow is not None and t_slow <= p_slow)
        t_bytes = median([b for b in results["tprof"]["bytes"] if b])
        p_bytes = median([b for b in results["perf"]["bytes"] if b])
        self.target("DWARF size: database bytes/sample no larger than perf.data's (--call-graph dwarf)",
                    f"{f(t_bytes, 0)} vs {f(p_bytes, 0)}", t_bytes is not None and p_bytes is not None
                    and t_bytes <= p_bytes)

    # -- symbol resolution (issue 4)

    def symbols(self):
        out("## Symbol resolution after a system-wide recording")
        out()
        out("`tprof-record -a -d D` while a compiler runs in a loop (gcc and g++ on small sources: many processes, "
            "many libraries), for several D. The recorder's summary gives the distinct (process, address) pairs it "
            "resolved and the seconds it took (ELF symbol tables, DWARF lines, kallsyms).")
        out()
        source = self.path("compile-me.cc")
        with open(source, "w") as handle:
            handle.write("#include <map>\n#include <string>\n#include <vector>\n"
                         "int main() { std::map<std::string, std::vector<int>> m; m[\"a\"].push_back(1); "
                         "return (int)m.size(); }\n")
        loop = subprocess.Popen(["bash", "-c", f"while true; do g++ -O1 -c {source} -o {self.path('x.o')}; "
                                 f"gcc -O1 -c {SPIN_SOURCE} -o {self.path('y.o')}; done"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows = []
        pattern = re.compile(r"resolved (\d+) addresses \((\d+) to symbols.*in ([\d.]+) s")
        try:
            for seconds in ((1, 3) if self.quick else (2, 5, 10)):
                db = self.path(f"symbols-{seconds}.db")
                remove(db)
                log(f"symbols: -a -d {seconds}")
                p, wall, _, _ = run([self.record, "-e", "cpu-clock", "-a", "-d", str(seconds), "-o", db])
                m = pattern.search(p.stderr)
                if not m:
                    raise RuntimeError("tprof-record printed no resolution line")
                addresses, symbols, took = int(m.group(1)), int(m.group(2)), float(m.group(3))
                dsos = db_query(db, "SELECT count(*) FROM dsos")
                pids = db_query(db, "SELECT count(DISTINCT pid) FROM addresses")
                rows.append([str(seconds), str(pids), str(dsos), str(addresses), str(symbols), f(took, 2),
                             f(took / addresses * 1e6, 0) if addresses else "", f(wall - seconds, 2)])
        finally:
            loop.kill()
            loop.wait()
        table(["-d (s)", "processes", "libraries", "distinct addresses", "to symbols", "resolution (s)",
               "µs per address", "recorder's time after -d (s)"], rows)

    # -- 7. accuracy

    def accuracy(self):
        out("## 6. Accuracy: per-symbol shares of spin")
        out()
        out("spin's hot_a does 2000 steps for each 1000 of hot_b: designed 2:1, 66.7% / 33.3% of the two. "
            "Shares of all samples from `tprof-report --by-symbol --format json` and `perf report --sort sym "
            "--stdio --no-children` on the recordings of section 1 (medians over repetitions); the last rows "
            "give hot_a's share of hot_a + hot_b.")
        out()
        cols = []
        for label, files in (("flat", self.flat_files), ("-g (self)", self.overhead_files)):
            perf_shares = [self.perf_shares(p) for p, _ in files["perf"]]
            tprof_shares = [self.tprof_shares(p) for p, _ in files["tprof"]]
            cols.append((f"perf, {label}", perf_shares))
            cols.append((f"tprof, {label}", tprof_shares))
        rows = []
        for sym, designed in (("hot_a", 200 / 3), ("hot_b", 100 / 3)):
            rows.append([sym, f"({designed:.1f} of the two)"]
                        + [f(median([s.get(sym, 0.0) for s in shares]), 2, "%") for _, shares in cols])
        rows.append(["hot_a / (hot_a + hot_b)", "66.7%"]
                    + [f(median([100 * s.get("hot_a", 0) / (s.get("hot_a", 0) + s.get("hot_b", 0))
                                 for s in shares if s.get("hot_a", 0) + s.get("hot_b", 0) > 0]), 2, "%")
                       for _, shares in cols])
        table(["symbol", "designed"] + [c for c, _ in cols], rows)
        diffs = []
        for i in (0, 2):
            for sym in ("hot_a", "hot_b"):
                p = median([s.get(sym, 0) for s in cols[i][1]])
                t = median([s.get(sym, 0) for s in cols[i + 1][1]])
                if p is not None and t is not None:
                    diffs.append(abs(p - t))
        out(f"Largest difference between tprof's and perf's share of a hot function: "
            f"{f(max(diffs, default=None), 2)} percentage points.")
        out()

    def perf_shares(self, data):
        p, _, _, _ = run(["perf", "report", "-i", data, "--stdio", "--sort", "sym", "--no-children"])
        shares = {}
        for m in re.finditer(r"^\s+([\d.]+)%\s+\[.\]\s+(\S+)", p.stdout, re.M):
            shares[m.group(2)] = shares.get(m.group(2), 0.0) + float(m.group(1))
        return shares

    def tprof_shares(self, db):
        p, _, _, _ = run([self.report, db, "--by-symbol", "--format", "json"])
        shares = {}
        for row in json.loads(p.stdout):
            shares[row["symbol"]] = shares.get(row["symbol"], 0.0) + float(row["percent"])
        return shares

    # -- 6. memory

    def start_background(self, seconds):
        path = self.path("long.db")
        remove(path)
        cmd = [self.record, "-q", "-e", "cpu-clock", "-a", "-F", "999", "-d", str(seconds), "-o", path]
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.background = {"process": process, "watch": RSSWatch(process.pid), "seconds": seconds, "path": path,
                           "cmd": cmd}
        out(f"*Running in the background from the start, while every other measurement runs: `tprof-record -a "
            f"-F 999 -d {seconds}` (section 7, memory over a long recording). It samples the other measurements too; "
            f"it costs each of them the same, perf or tprof.*")
        out()

    def memory(self):
        a = self.args
        seconds = a.max_rate_seconds or (10 if self.quick else 60)
        rate = read_int("/proc/sys/kernel/perf_event_max_sample_rate")
        out("## 7. Memory of tprof-record")
        out()
        out(f"Peak RSS (VmHWM of the tprof-record process, polled from /proc every 0.25 s, including the end of "
            f"recording: indexes and symbols) and VmRSS at points in the recording. At the maximum rate: "
            f"`tprof-record -e cpu-clock -a -F {rate} -d {seconds}` (`kernel.perf_event_max_sample_rate` now: "
            f"{rate}; at the start of the suite: {self.max_rate_at_start}) with a spinner on each of the "
            f"{self.ncpu} CPUs. Long: the background recording at 999 Hz.")
        out()
        path = self.path("maxrate.db")
        remove(path)
        self.start_spinners(seconds + 60)
        try:
            log(f"max-rate recording, {seconds} s at {rate} Hz")
            cmd = [self.record, "-q", "-e", "cpu-clock", "-a", "-F", str(rate), "-d", str(seconds), "-o", path]
            process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            watch = RSSWatch(process.pid)
            _, err = process.communicate()
            watch.join()
        finally:
            self.stop_spinners()
        if process.returncode != 0:
            raise RuntimeError(f"tprof-record at {rate} Hz exited {process.returncode}: {err[-1000:]}")
        rows = [self.memory_row(f"{rate} Hz, -a, {seconds} s", watch, seconds, path)]
        b = self.background
        if b["process"].poll() is None:
            left = b["seconds"] - (time.monotonic() - b["watch"].started)
            log(f"waiting {max(0, left):.0f} s for the background recording to end")
            out(f"(Waited {max(0, left):.0f} s for the background recording to end.)")
            out()
        _, err = b["process"].communicate()
        b["watch"].join()
        if b["process"].returncode != 0:
            raise RuntimeError(f"the background tprof-record exited {b['process'].returncode}: {err[-1000:]}")
        rows.append(self.memory_row(f"999 Hz, -a, {b['seconds']} s, in the background", b["watch"], b["seconds"],
                                    b["path"]))
        points = ["10%", "25%", "50%", "75%", "100%"]
        table(["recording", "samples written", "dropped by tprof", "lost by the kernel", "peak RSS while recording (MB)",
               "peak RSS overall (MB)", "of it anonymous, at most (MB)", "finishing (s)"] + [f"RSS at {p} (MB)" for p in points]
              + ["growth 50% → 100% (MB)"], [r["cells"] for r in rows])
        out("Peak overall includes the end of recording (indexes, then symbol resolution of every sampled "
            "binary: with `-a` that is every program that ran, so it depends on what else the machine ran; the "
            "files it maps count in RSS, so the largest RssAnon polled is given beside it). At the maximum rate the "
            "kernel and the writer may not keep up: the drop columns count what was lost.")
        out()
        for r in rows:
            self.target(f"Memory: peak RSS under 64 MB ({r['label']})",
                        f"{f(r['peak'] / MB if r['peak'] else None, 1)} MB overall "
                        f"({f(r['anonymous'] / MB if r['anonymous'] else None, 1)} MB anonymous at most); "
                        f"{f(r['recording_peak'] / MB if r['recording_peak'] else None, 1)} MB while recording",
                        r["peak"] is not None and r["peak"] < 64 * MB)
            self.target(f"Memory: RSS not growing with duration ({r['label']}; growth from 50% to 100% of the "
                        f"recording ≤ 4 MB)", f"{f(r['growth'] / MB if r['growth'] is not None else None, 1)} MB",
                        r["growth"] is not None and r["growth"] <= 4 * MB)
        remove(path, b["path"])
        self.background = None

    def memory_row(self, label, watch, seconds, path):
        fractions = [0.10, 0.25, 0.50, 0.75, 1.0]
        rss = [watch.rss_at(seconds * x) for x in fractions]
        growth = rss[4] - rss[2] if rss[4] is not None and rss[2] is not None else None
        recording_peak = max((s[2] for s in watch.samples if s[0] <= seconds), default=None)
        try:
            written, dropped, kernel = [db_query(path, f"SELECT {c} FROM counter_totals")
                                        for c in ("written", "dropped", "kernel_dropped")]
        except sqlite3.Error:
            written, dropped, kernel = None, None, None
        peak = watch.peak
        # The process ends within one poll interval of the last poll that found it.
        finishing = watch.samples[-1][0] + watch.interval - seconds if watch.samples else None
        cells = [label, f(written, 0), f(dropped, 0), f(kernel, 0),
                 f(recording_peak / MB if recording_peak else None, 1), f(peak / MB if peak else None, 1),
                 f(watch.peak_anonymous / MB if watch.peak_anonymous else None, 1), f(finishing, 1)] \
            + [f(r / MB if r else None, 1) for r in rss] + [f(growth / MB if growth is not None else None, 1)]
        return {"label": label, "peak": peak, "recording_peak": recording_peak, "growth": growth, "cells": cells,
                "anonymous": watch.peak_anonymous}

    # -- targets

    def print_targets(self):
        out("## Targets")
        out()
        rows = [[name, measured, "**met**" if met else ("not measured" if met is None else "**missed**")]
                for name, measured, met in self.targets]
        table(["target", "measured", ""], rows, right=[])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return os.uname().machine


def mem_gib():
    try:
        with open("/proc/meminfo") as fh:
            kb = int(re.search(r"MemTotal:\s+(\d+)", fh.read()).group(1))
        return round(kb / 1024 / 1024)
    except (OSError, AttributeError):
        return "?"


def tool_versions(suite):
    versions = []
    try:
        versions.append(subprocess.run(["perf", "--version"], capture_output=True, text=True).stdout.strip())
    except OSError:
        pass
    versions.append(f"SQLite {sqlite3.sqlite_version} (Python's)")
    return ", ".join(versions)


def main():
    parser = argparse.ArgumentParser(description="tprof against perf: markdown tables (run scripts/bench.sh).")
    parser.add_argument("--bin", required=True, help="directory of the release binaries")
    parser.add_argument("--spin", required=True, help="Examples/spin built with -O1 -g -fno-omit-frame-pointer")
    parser.add_argument("--work", required=True, help="scratch directory for recordings and databases")
    parser.add_argument("--quick", action="store_true", help="a ~3 minute smoke run: short runs, 1 repetition")
    parser.add_argument("--repeats", type=int, help="repetitions of each comparison (default 3, 1 with --quick)")
    parser.add_argument("--only", nargs="*", help="sections: overhead pipeline time report size accuracy dwarf "
                        "symbols memory finishing systemwide count top offcpu annotate (size and accuracy need overhead)")
    parser.add_argument("--iterations", type=int, help="spin -n for overhead, size and accuracy (default: "
                        "calibrated to about 3 s of CPU, 1 s with --quick)")
    parser.add_argument("--spin-seconds", type=float, help="CPU seconds of the workload (default 3, 1 with --quick)")
    parser.add_argument("--pipeline-samples", type=int, help="pipeline samples per CPU (default 3,000,000)")
    parser.add_argument("--report-sizes", help="comma-separated sample counts of the report databases")
    parser.add_argument("--perf-report-seconds", type=int, help="seconds of the perf.data for perf report")
    parser.add_argument("--max-rate-seconds", type=int, help="seconds of the maximum-rate recording (default 60)")
    parser.add_argument("--long-seconds", type=int, help="seconds of the background 999 Hz recording (default 600)")
    parser.add_argument("--finishing-points", help="rates and durations of the finishing curve, HZ:SECONDS,... "
                        "(default 150:2,1000:2,4000:2,20000:2,20000:8,20000:20,20000:60; with "
                        "--quick 150:2,1000:2,20000:2)")
    args = parser.parse_args()
    suite = Suite(args)
    try:
        suite.main()
    finally:
        suite.stop_spinners()
        if suite.background and suite.background["process"].poll() is None:
            suite.background["process"].send_signal(signal.SIGINT)
            suite.background["process"].wait()


if __name__ == "__main__":
    main()
