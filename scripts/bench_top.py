"""Section "top" of scripts/bench.py (issue 16): what the live view costs, tprof-top against perf top.

Both CPUs kept busy by spinners; each tool alone, at its defaults, shows the whole system refreshed every second
for REFRESHES seconds with its output thrown away:
  - `tprof-top -b -i 1 -n REFRESHES` (999 Hz, cpu-clock where the machine has no cycles), under
    `/usr/bin/time -f '%U %S'` (the process and all its threads: capture, writer, refreshes, finishing);
  - `perf top --stdio -d 1` at its default rate (4000 Hz) and at `-F 999`, tprof-top's, with the same event, its
    stdin an open pipe (perf top reads keys from it) and its CPU read from /proc/PID/stat before it is stopped.
The start-up of tprof-top (the /proc snapshot, opening the events, kallsyms) is in its number; `-n 2` is run too, so
the steady cost per second shows apart: (CPU of -n REFRESHES - CPU of -n 2) / (REFRESHES - 2) s.

bench.py calls `top(suite, bench)` with its Suite and its own module (log, out, table, f, target, ...).
Standard library only.
"""

import os
import subprocess
import time

REFRESHES = 20
# The target of issue 16: at defaults, at most this share of one CPU while both CPUs are busy.
TARGET_PERCENT = 2.0


def tprof_top(suite, b, refreshes, event):
    top = os.path.join(suite.bin, "tprof-top")
    began = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S", top, "-b", "-i", "1", "-n", str(refreshes), "-e", event],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - began
    if p.returncode != 0:
        raise RuntimeError(f"tprof-top exited {p.returncode}: {p.stderr[-300:]}")
    user, system = (float(x) for x in p.stderr.strip().splitlines()[-1].split())
    return user + system, wall


def perf_top(seconds, event, rate=None):
    command = ["perf", "top", "--stdio", "-d", "1", "-e", event] + (["-F", str(rate)] if rate else [])
    p = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began = time.monotonic()
    time.sleep(seconds)
    try:
        fields = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
    finally:
        wall = time.monotonic() - began
        p.terminate()
        p.wait(timeout=30)
    return ticks / os.sysconf("SC_CLK_TCK"), wall


def top(suite, b):
    """The section: the table of issue 16 and its target into suite.targets."""
    b.out("## The live view: tprof-top against perf top (issue 16)")
    b.out()
    b.out(f"Both CPUs busy (one spinner each); each tool alone shows the whole system, refreshed every second, for "
          f"{REFRESHES} s, its output to /dev/null. tprof-top: `tprof-top -b -i 1 -n {REFRESHES}` at its defaults "
          f"(999 Hz), CPU from `/usr/bin/time -f '%U %S'` (every thread: capture, writer, refreshes, finishing). "
          f"perf top: `perf top --stdio -d 1`, at its default 4000 Hz and at tprof-top's 999 Hz, stdin an open pipe, "
          f"CPU from /proc/PID/stat (utime + stime of all its threads) just before it is stopped. Same event for "
          f"both. Steady: tprof-top's CPU of -n {REFRESHES} less that of -n 2, per second of the difference "
          f"(start-up left out).")
    b.out()
    event = "cycles" if subprocess.run(["perf", "stat", "-e", "cycles", "true"], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True).stderr.find("<not supported>") < 0 \
        else "cpu-clock"
    suite.start_spinners(REFRESHES * 6 + 60)
    try:
        b.log("top: tprof-top")
        cpu, wall = tprof_top(suite, b, REFRESHES, event)
        short_cpu, short_wall = tprof_top(suite, b, 2, event)
        b.log("top: perf top")
        perf_default, perf_default_wall = perf_top(REFRESHES, event)
        perf_999, perf_999_wall = perf_top(REFRESHES, event, 999)
    finally:
        suite.stop_spinners()
    share = 100 * cpu / wall
    steady = 100 * (cpu - short_cpu) / max(wall - short_wall, 1e-9)
    rows = [
        [f"tprof-top -b -i 1 -n {REFRESHES} (999 Hz)", f"{b.f(cpu)} s", f"{b.f(wall, 1)} s", f"{b.f(share)}%",
         f"{b.f(steady)}%"],
        ["perf top --stdio -d 1 (4000 Hz)", f"{b.f(perf_default)} s", f"{b.f(perf_default_wall, 1)} s",
         f"{b.f(100 * perf_default / perf_default_wall)}%", "n/a"],
        ["perf top --stdio -d 1 -F 999", f"{b.f(perf_999)} s", f"{b.f(perf_999_wall, 1)} s",
         f"{b.f(100 * perf_999 / perf_999_wall)}%", "n/a"],
    ]
    b.table(["tool", "CPU (user + system)", "wall", "share of one CPU", "steady share"], rows)
    b.out(f"Event: {event}.")
    b.out()
    suite.target(f"tprof-top at defaults, both CPUs busy: at most {TARGET_PERCENT:g}% of one CPU",
                 f"{b.f(share)}% ({b.f(steady)}% steady); perf top {b.f(100 * perf_999 / perf_999_wall)}% at 999 Hz",
                 share <= TARGET_PERCENT)
