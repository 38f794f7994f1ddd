#!/usr/bin/env bash
# Install the simulator into ./.venv on a Debian machine (12, whose python3 is the 3.11 the pins
# need), as root or with sudo:
#   bash tools/install.sh [EXTRAS [DEBIAN-PACKAGE ...]]      e.g.  bash tools/install.sh test,notebooks chromium
# Debian's own Python refuses pip installs into the system (PEP 668), so everything goes into a
# virtual environment this script makes. It does not borrow the system's packages: their data
# files (Jupyter's and Solara's configuration) live under the system's prefix, where the
# environment's own tools do not look.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
shift || true

# The CJK font for the Chinese district names in the report's figures, what the caller asks for,
# and the venv module where python3 comes without it.
need=()
for pkg in fonts-noto-cjk "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
python3 -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
