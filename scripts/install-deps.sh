#!/usr/bin/env bash
# Installs the Debian 12 packages tprof builds, tests and compares against; quiet when all are present.
set -euo pipefail
packages=(libsqlite3-dev libelf-dev libdw-dev libiberty-dev zlib1g-dev sqlite3 gcc g++ binutils linux-perf python3 util-linux
          procps libncurses-dev libcapstone-dev tmux libdebuginfod-dev debuginfod nodejs ${EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
