"""Section "count" of scripts/bench.py (issue 16): what counting costs, tprof-count against perf stat.

Each tool counts the same fixed work (`spin -n N`, about 2 s of CPU), in turn, `--repeats` times: the counter's own
CPU is its user + sys (its child's included) less the CPU the spin reports for itself. Then each counts the whole
system for 10 s (`-a -I 100 -- sleep 10`, every CPU, an interval every 100 ms), where the sleep's CPU is nothing: the
counter's own CPU is all of it. User + sys are the child's rusage from wait4, which `/usr/bin/time -f '%U %S'` prints
too, but only to 10 ms: read here to the microsecond, since each tool's own CPU is a few tens of milliseconds.

bench.py calls `count(suite, bench)` with its Suite and its own module (log, out, table, f, run, ...).
Standard library only.
"""

import os
import resource

SPIN_CPU = 2.0
SYSTEM_SECONDS = 10


def timed(b, cmd):
    """(process, user + sys CPU seconds of cmd and its children), from the change in the children's rusage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p, _, _, _ = b.run(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return p, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def count(suite, b):
    """The section: a table of each tool's own CPU, and a target into suite.targets."""
    iterations = suite.calibrate(SPIN_CPU)
    b.out("## Counting cost: tprof-count against perf stat (issue 16)")
    b.out()
    b.out(f"The counter's own CPU (user + sys of the child's rusage, as `/usr/bin/time -f '%U %S'` prints it but to "
          f"the microsecond), each tool alone, in turn, "
          f"{suite.repeats} times (medians, single runs in parentheses). Command: perf stat's default events on "
          f"`spin -n {iterations}` (about {b.f(SPIN_CPU, 1)} s of CPU; the counter's CPU is the measured total less "
          f"the CPU spin reports for itself). System-wide: `-a -I 100 -- sleep {SYSTEM_SECONDS}` (every CPU, "
          f"the default events, an interval printed every 100 ms), all of whose CPU is the counter's.")
    b.out()
    count_tool = os.path.join(suite.bin, "tprof-count")
    tools = {"perf": ["perf", "stat"], "tprof": [count_tool]}
    own = {name: {"command": [], "system": []} for name in tools}
    for i in range(suite.repeats):
        for name, prefix in tools.items():
            b.log(f"count {i + 1}/{suite.repeats}: {name}, command")
            p, cpu = timed(b, prefix + ["--", suite.spin, "-n", str(iterations)])
            _, spin_cpu, _ = b.spin_times(p.stdout)
            own[name]["command"].append(max(0.0, cpu - spin_cpu) * 1000)
            b.log(f"count {i + 1}/{suite.repeats}: {name}, system-wide")
            _, cpu = timed(b, prefix + ["-a", "-I", "100", "--", "sleep", str(SYSTEM_SECONDS)])
            own[name]["system"].append(cpu * 1000)
    rows = []
    for name, label in (("perf", "`perf stat`"), ("tprof", "`tprof-count`")):
        rows.append([label, b.runs(own[name]["command"], 1), b.runs(own[name]["system"], 1)])
    medians = {name: {k: b.median(v) for k, v in own[name].items()} for name in own}
    rows.append(["**tprof / perf**", b.f(b.ratio(medians["tprof"]["command"], medians["perf"]["command"]), 2),
                 b.f(b.ratio(medians["tprof"]["system"], medians["perf"]["system"]), 2)])
    b.table(["counter", f"own CPU, command (ms)", f"own CPU, -a -I 100 for {SYSTEM_SECONDS} s (ms)"], rows)
    b.out("On a command, both tools' own CPU is mostly their start-up (about 12 ms each here); the system-wide row "
          "adds reading and printing every counter at each interval.")
    b.out()
    t, p = medians["tprof"]["system"], medians["perf"]["system"]
    suite.target("Counting: tprof-count's own CPU system-wide (-a -I 100) no more than twice perf stat's",
                 f"tprof {b.f(t, 1)} ms, perf {b.f(p, 1)} ms", t is not None and p is not None and t <= 2 * p)
