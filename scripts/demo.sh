#!/usr/bin/env bash
# The main job on a fresh machine: install packages, build tprof in release mode, install the executables, man pages
# and shell completions (scripts/install.sh), record the bundled example into spin.db and print a report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
bin=$(swift build -c release --show-bin-path)
scripts/install.sh
mkdir -p .build/examples
gcc -O1 -g -fno-omit-frame-pointer -fno-inline -o .build/examples/spin Examples/spin/spin.c
"$bin/tprof-record" -F 999 -g -o spin.db --force -- .build/examples/spin 3.5
"$bin/tprof-report" spin.db --by-pid
"$bin/tprof-report" spin.db --by-symbol --limit 10 | sed -n '/^percent/,$p'
echo "More: $bin/tprof-report spin.db --tree, --flamegraph fg.svg, --stat; sqlite3 spin.db 'SELECT * FROM by_process'"
