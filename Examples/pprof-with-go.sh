#!/usr/bin/env bash
# Shows a tprof recording read by a real pprof reader: `go tool pprof` from Debian's golang-go package
# (installed here when missing). Usage: Examples/pprof-with-go.sh run.db
set -euo pipefail
db=${1:?usage: $0 run.db}
bin=$(cd "$(dirname "$0")/.." && swift build -c release --show-bin-path)
if ! command -v go >/dev/null; then
    [ "$(id -u)" -eq 0 ] && SUDO= || SUDO=sudo
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq golang-go >/dev/null
fi
out=$(mktemp /tmp/tprof-XXXXXX.pb.gz)
"$bin/tprof-report" "$db" --pprof "$out"
echo "== go tool pprof -top (Go $(go version | awk '{print $3}'))"
go tool pprof -top "$out"
echo "== go tool pprof -traces (first lines)"
go tool pprof -traces "$out" | head -40
