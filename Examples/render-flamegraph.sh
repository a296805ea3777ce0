#!/usr/bin/env bash
# Renders a flame graph SVG written by `tprof-report run.db --flamegraph fg.svg` to a PNG with headless Chromium,
# to look at it without a desktop:   Examples/render-flamegraph.sh fg.svg fg.png
# Installs Debian's chromium package when it is missing.
set -euo pipefail
svg=$(realpath "$1")
png=${2:-${1%.svg}.png}
if ! command -v chromium >/dev/null; then
    [ "$(id -u)" -eq 0 ] && SUDO= || SUDO=sudo
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
width=$(grep -o 'width="[0-9.]*"' "$svg" | head -1 | grep -o '[0-9]*' | head -1)
height=$(grep -o 'height="[0-9.]*"' "$svg" | head -1 | grep -o '[0-9]*' | head -1)
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="${width:-1200},${height:-600}" --screenshot="$png" "file://$svg" 2>/dev/null
echo "wrote $png"
