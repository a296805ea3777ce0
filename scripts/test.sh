#!/usr/bin/env bash
# The test command: installs what the tests need, builds, and runs every test (as root they open real perf events).
set -euo pipefail
cd "$(dirname "$0")/.."
# The flame-graph tests render an SVG with headless Chromium.
EXTRA_PACKAGES=chromium scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing "$@"
