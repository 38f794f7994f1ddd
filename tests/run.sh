#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run the whole suite.
#   bash tests/run.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: a CJK font for matplotlib's Chinese district names, Chromium for the browser tests.
need=()
for pkg in chromium fonts-noto-cjk; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

python -m pip install -q -e '.[test,notebooks]'
python -m pytest "$@"
