#!/usr/bin/env bash
# Install everything the test suite needs on a Debian machine (into ./.venv, see tools/install.sh;
# Chromium for the browser tests), then run the whole suite:
#   bash tests/run.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install.sh test,notebooks,discovery chromium
.venv/bin/python -m pytest "$@"
