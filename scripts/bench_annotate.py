"""Section "annotate" of scripts/bench.py (issue 18): tprof-report --annotate's shares per instruction against perf
annotate's, over several executions.

On one execution the two tools' timers fire at different instants, and on a tight loop each timer aliases with the
loop differently (one run measured 72.5/27.5 against perf's 63.3/36.7), so single runs are compared by the set of
instructions holding samples (TprofAnnotateTests). Here the shares are averaged over `--repeats` executions (at
least 5), each recorded by both tools at once (`tprof-record -- perf record -- ./hot`), and the means compared.

bench.py calls `annotate(suite, bench)` with its Suite and its own module (log, out, table, f, run, ...).
Standard library only.
"""

import json
import os
import statistics

HOT_SOURCE = r"""
#include <stdlib.h>

static volatile unsigned sink;

__attribute__((noinline)) unsigned hot_loop(unsigned n) {
    unsigned x = 1;
    for (unsigned i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        x ^= x >> 7;
    }
    return x;
}

int main(int argc, char **argv) {
    sink = hot_loop(argc > 1 ? (unsigned)atoi(argv[1]) : 400000000u);
    return 0;
}
"""

# Executions averaged; the difference of the means is the target's measure.
MIN_RUNS = 5
# The largest difference of mean shares, in percentage points, on any instruction.
TOLERANCE = 5.0


def perf_shares(b, perf_data):
    """perf annotate --stdio's share of each instruction of hot_loop, by address."""
    p, _, _, _ = b.run(["perf", "annotate", "--stdio", "-i", perf_data, "-s", "hot_loop"])
    shares = {}
    for line in p.stdout.splitlines():
        # "   47.64 :   1153:   mov    %ecx,%eax"
        fields = [x.strip() for x in line.split(":", 2)]
        if len(fields) != 3:
            continue
        try:
            shares[int(fields[1], 16)] = float(fields[0])
        except ValueError:
            continue
    return shares


def tprof_shares(suite, b, database):
    """tprof-report --annotate's share of each instruction of hot_loop, by address."""
    p, _, _, _ = b.run([suite.report, database, "--annotate", "^hot_loop$", "--format", "json"])
    return {int(row["address"], 16): row["percent"] for row in json.loads(p.stdout)}


def annotate(suite, b):
    """The section: mean shares per instruction of both tools, and a target into suite.targets."""
    source = suite.path("hot_loop.c")
    program = suite.path("hot_loop")
    with open(source, "w") as handle:
        handle.write(HOT_SOURCE)
    b.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-o", program, source])
    database = suite.path("annotate.db")
    perf_data = suite.path("annotate.perf.data")
    runs = max(MIN_RUNS, suite.repeats)
    tprof_runs, perf_runs = [], []
    for i in range(runs):
        b.log(f"annotate {i + 1}/{runs}")
        b.remove(database, perf_data)
        b.run([suite.record, "-q", "-e", "cpu-clock", "-F", "999", "-o", database, "--",
               "perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-o", perf_data, "--", program])
        tprof_runs.append(tprof_shares(suite, b, database))
        perf_runs.append(perf_shares(b, perf_data))
    addresses = sorted(set().union(*tprof_runs, *perf_runs))

    def mean(runs_, address):
        return statistics.mean(r.get(address, 0.0) for r in runs_)

    rows, worst = [], 0.0
    for address in addresses:
        t, p = mean(tprof_runs, address), mean(perf_runs, address)
        if t < 0.5 and p < 0.5:
            continue
        worst = max(worst, abs(t - p))
        singles = ", ".join(f"{r.get(address, 0.0):.1f}/{q.get(address, 0.0):.1f}"
                            for r, q in zip(tprof_runs, perf_runs))
        rows.append([f"0x{address:x}", b.f(t, 1), b.f(p, 1), b.f(t - p, 1), singles])
    b.out("## Annotate: shares per instruction against perf annotate (issue 18)")
    b.out()
    b.out(f"A -O1 loop (`hot_loop`, about 0.8 s) recorded {runs} times by both tools at once (`tprof-record -e "
          f"cpu-clock -F 999 -- perf record -e cpu-clock -F 999 -- ./hot_loop`); each instruction's share of the "
          f"function from `tprof-report --annotate ^hot_loop$ --format json` and `perf annotate --stdio -s "
          f"hot_loop`, averaged over the runs (instructions under 0.5% in both left out).")
    b.out()
    b.table(["instruction", "tprof mean %", "perf mean %", "difference", "each run tprof/perf"], rows,
            right=[1, 2, 3])
    suite.target(f"Annotate: mean share of every instruction within {TOLERANCE:.0f} points of perf annotate's "
                 f"over {runs} executions", f"{worst:.1f} points at most", worst <= TOLERANCE)
