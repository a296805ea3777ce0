#!/usr/bin/env bash
# Benchmarks (not tests): builds in release mode and prints markdown tables.
#  1. the capture pipeline: synthetic samples through per-CPU buffers, buffer list and writer;
#  2. report latency on a synthetic database of 10 million samples.
# Usage: scripts/bench.sh [samples-for-report-db]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/tprof-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
samples=${1:-10000000}

echo "## Machine"
echo
echo "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r), $(date -u +%Y-%m-%d)"
echo
echo "## Pipeline throughput"
echo
"$bin/tprof-bench" pipeline --directory "$work"
echo
echo "## Report latency on $samples synthetic samples"
echo
"$bin/tprof-bench" make-db -o "$work/big.db" --samples "$samples" >/dev/null
size=$(stat -c %s "$work/big.db")
echo "Database: $size bytes, $((size / samples)) bytes per sample."
echo
echo "| report | run 1 (s) | run 2 (s) | run 3 (s) | median (s) |"
echo "|---|---:|---:|---:|---:|"
for args in "--by-pid" "--by-comm" "--by-cpu" "--by-tid --by-mode" "--by-pid --since 1 --until 2"; do
    times=()
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$bin/tprof-report" "$work/big.db" $args >/dev/null
        end=$(date +%s.%N)
        times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
    echo "| \`$args\` | ${times[0]} | ${times[1]} | ${times[2]} | $median |"
done
