#!/usr/bin/env bash
# Benchmarks (not tests): tprof against perf on this machine, in one run, as markdown tables on stdout
# (progress on stderr). Installs what it needs, builds in release mode, compiles Examples/spin, then runs
# scripts/bench.py: overhead on fixed work, pipeline throughput against SQLite's insert ceiling, time to a
# queryable database, report latency, file size, accuracy and memory, finishing time and memory against distinct
# addresses (scripts/bench_finishing.py), system-wide cost (bench_systemwide.py), the cost of counting against
# perf stat (bench_count.py), tprof-top against perf top (bench_top.py), and a table of the targets of issues 7, 13,
# 14 and 16.
# Run it as root (perf -a, the kernel's maximum sample rate) on an otherwise quiet machine: about 25 minutes.
# The finishing section alone: scripts/bench.sh --only finishing (about 6 minutes while finishing takes 90 s at
# -a -g -F 20000 -d 60, 2 with --quick; swiftc, the toolchain that builds tprof, is one of its workloads).
#
# Usage: scripts/bench.sh [--quick] [--repeats N] [--scratch-path DIR] [more scripts/bench.py options]
#   --quick              a smoke run of a few minutes: shorter runs, 1 repetition (numbers not worth keeping)
#   --repeats N          repetitions of each comparison (default 3); medians are reported
#   --scratch-path DIR   swift build's build folder (default .build)
#   scripts/bench.py --help lists the rest (--only SECTION..., durations, sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
build=()
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scratch-path) build=(--scratch-path "$2"); shift 2 ;;
        --scratch-path=*) build=(--scratch-path "${1#*=}"); shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done

# xz: a workload of the finishing section.
EXTRA_PACKAGES="${EXTRA_PACKAGES:-} xz-utils" scripts/install-deps.sh >&2
# perf's export-to-sqlite.py (section 3) needs PySide2's QtSql.
if ! dpkg-query -W -f='${Status}' python3-pyside2.qtsql 2>/dev/null | grep -q "install ok installed"; then
    echo "installing: python3-pyside2.qtsql" >&2
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pyside2.qtsql >/dev/null
fi

swift build -c release "${build[@]}" >&2
bin=$(swift build -c release "${build[@]}" --show-bin-path)
work=$(mktemp -d /tmp/tprof-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O1 -g -fno-omit-frame-pointer -fno-inline -o "$work/spin" Examples/spin/spin.c
# Debian's python3, whose sqlite3 module is the system SQLite's (a python3 earlier on the PATH may not be).
/usr/bin/python3 scripts/bench.py --bin "$bin" --spin "$work/spin" --work "$work" ${args[@]+"${args[@]}"}
