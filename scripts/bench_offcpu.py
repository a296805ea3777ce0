"""Section "offcpu" of scripts/bench.py (issue 17): what recording off-CPU time costs a program that switches
context all the time, tprof-record --off-cpu against perf record -e sched:sched_switch.

The program is a pipe ping-pong (two processes passing a byte back and forth, each blocking in read: two context
switches a round). It runs alone, under `tprof-record --off-cpu -g -e cpu-clock`, and under
`perf record -e sched:sched_switch -g`, in turn, `--repeats` times; the slowdown is the ping-pong's own time (which
it prints) under a tool over its time alone in the same round. perf records the switch-outs with their call chains
only; tprof also records each switch-in (PERF_RECORD_SWITCH) and each wake-up (sched:sched_waking), which turn the
switch-outs into intervals with their wakers: it pairs them in memory as they come and writes one interval and its
sample a switch into SQLite.

bench.py calls `offcpu(suite, bench)` with its Suite and its own module (log, out, table, f, run, ...).
Standard library only.
"""

import os
import re
import resource

ROUNDS = 200000

PINGPONG_SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 100000;
    int ping[2], pong[2];
    if (pipe(ping) || pipe(pong)) return 2;
    double start = now();
    pid_t child = fork();
    char c = 0;
    if (child == 0) {
        for (long i = 0; i < rounds; i++)
            if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1) _exit(3);
        _exit(0);
    }
    for (long i = 0; i < rounds; i++)
        if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) return 4;
    waitpid(child, NULL, 0);
    printf("pingpong: %ld rounds in %.6f s\n", rounds, now() - start);
    return 0;
}
"""

PINGPONG_LINE = re.compile(r"pingpong: \d+ rounds in ([\d.]+) s")


def seconds(text):
    m = PINGPONG_LINE.search(text)
    if not m:
        raise RuntimeError(f"the ping-pong did not print its time:\n{text[-2000:]}")
    return float(m.group(1))


def children_cpu():
    """CPU seconds (user + system) of every child waited for so far, and of theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def offcpu(suite, b):
    """The section: a table of the ping-pong's time alone and under each tool, and a target into suite.targets."""
    source = suite.path("pingpong.c")
    program = suite.path("pingpong")
    with open(source, "w") as f:
        f.write(PINGPONG_SOURCE)
    b.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-o", program, source])
    database = suite.path("offcpu.db")
    perf_data = suite.path("offcpu.perf.data")
    record = os.path.join(suite.bin, "tprof-record")
    tools = {
        "alone": [],
        "perf": ["perf", "record", "-q", "-e", "sched:sched_switch", "-g", "-o", perf_data, "--"],
        "tprof": [record, "--off-cpu", "-g", "-e", "cpu-clock", "-q", "--force", "-o", database, "--"],
    }
    times = {name: [] for name in tools}
    slowdowns = {"perf": [], "tprof": []}
    # Wall time of the whole command (the tool's finishing included) and CPU time of the tool and the program.
    walls = {name: [] for name in tools}
    cpus = {name: [] for name in tools}
    lost = []
    for i in range(suite.repeats):
        for name, prefix in tools.items():
            b.log(f"offcpu {i + 1}/{suite.repeats}: {name}")
            before = children_cpu()
            p, wall, _, _ = b.run(prefix + [program, str(ROUNDS)])
            cpus[name].append(children_cpu() - before)
            walls[name].append(wall)
            times[name].append(seconds(p.stdout))
        for name in slowdowns:
            slowdowns[name].append(times[name][-1] / times["alone"][-1])
        lost.append(b.db_query(database, "SELECT kernel_dropped + dropped + sideband_dropped FROM counter_totals"))
    switches = b.db_query(database, "SELECT samples FROM events WHERE base_name = 'off-cpu'")
    b.out("## Off-CPU recording: tprof-record --off-cpu against perf record -e sched:sched_switch (issue 17)")
    b.out()
    b.out(f"A pipe ping-pong of {ROUNDS} rounds (two processes, two context switches a round; "
          f"{b.f(2 * ROUNDS / b.median(times['alone']) / 1000, 0)}k switches/s alone) alone, under "
          f"`perf record -e sched:sched_switch -g` and under `tprof-record --off-cpu -g -e cpu-clock`, in turn, "
          f"{suite.repeats} times (medians, single runs in parentheses). The slowdown is the ping-pong's own time "
          f"under the tool over its time alone in the same round. tprof's last recording: {switches} switch-outs "
          f"with their switch-ins and wake-ups; records lost or dropped per run: {', '.join(map(str, lost))}.")
    b.out()
    rows = [["alone", b.runs(times["alone"], 3), "", b.runs(walls["alone"], 2), b.runs(cpus["alone"], 2)],
            ["`perf record -e sched:sched_switch -g`", b.runs(times["perf"], 3), b.runs(slowdowns["perf"], 2),
             b.runs(walls["perf"], 2), b.runs(cpus["perf"], 2)],
            ["`tprof-record --off-cpu -g`", b.runs(times["tprof"], 3), b.runs(slowdowns["tprof"], 2),
             b.runs(walls["tprof"], 2), b.runs(cpus["tprof"], 2)]]
    b.table(["ping-pong", "seconds", "slowdown", "command wall s", "CPU s (tool and program)"], rows)
    b.out("perf records the switch-outs and their call chains only; tprof also records each switch-in and wake-up "
          "(three records a switch rather than one), pairs them in memory while the program runs and writes one "
          "interval and one sample a switch into SQLite. The command's wall time includes the tool's finishing "
          "(perf's writing of its file, tprof's indexes and symbols).")
    b.out()
    t, p = b.median(slowdowns["tprof"]), b.median(slowdowns["perf"])
    suite.target("Off-CPU: tprof-record --off-cpu -g slows a 100k-switches/s ping-pong no more than "
                 "perf record -e sched:sched_switch -g", f"tprof x{b.f(t, 2)}, perf x{b.f(p, 2)}",
                 t is not None and p is not None and t <= p)
