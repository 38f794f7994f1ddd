"""``python run.py ui``: serve the browser app (``sim/app/page.py``) with Solara on this machine.

Every asset is served locally (``solara-assets``), so the app works without internet."""

from __future__ import annotations

import errno
import math
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("page.py")
SCENARIOS_ENV = "CQ_SIM_SCENARIOS"     # read by the scenario picker (sim/app/sidebar.py)
# Solara's own setting: how long a kernel (a session) with no connected tab is kept for the tab to
# reconnect before Solara closes it. Its default, 24 hours, lets a server left running for days
# fill its memory with the sessions of tabs that crashed or lost their connection.
IDLE_ENV = "SOLARA_KERNEL_CULL_TIMEOUT"
IDLE_MINUTES = 10.0
# Memory the closed sessions freed goes back to the system (sim.app.model.return_freed_memory)
# only if it was allocated where a trim reaches: with Python's small-object arenas and Arrow's
# mimalloc pool (pandas' strings) a few live objects pin whole arenas, and a server that once
# held 40 sessions kept half their memory after they closed.
ALLOCATORS = {"PYTHONMALLOC": "malloc", "ARROW_DEFAULT_MEMORY_POOL": "system"}
HELP = "serve the interactive browser app (levers, district map, network, target charts) on localhost"


def add_arguments(parser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="port to serve on (default 8765)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for the network)")
    parser.add_argument("--scenarios", type=Path, metavar="DIR",
                        help="folder of scenario files the picker offers (default: scenarios/)")
    parser.add_argument("--idle-minutes", type=float, metavar="MIN",
                        help="release a session whose tab vanished without closing (a crashed tab, a dropped "
                             "connection, a laptop put to sleep) after it has been disconnected this many "
                             f"minutes; a tab that comes back later is asked to reload (default "
                             f"{IDLE_MINUTES:g}, or Solara's {IDLE_ENV} when that is set; Solara alone "
                             "keeps them 24 hours, so a server left running grows without bound). Keep it "
                             "above a minute: a browser whose connection dropped for a moment takes up to "
                             "about 20 s to reconnect")


def check_address(host: str, port: int) -> str | None:
    """Why the app cannot listen there, or None: found before starting the server so the user
    gets one clear line instead of a server traceback."""
    if not 1 <= port <= 65535:
        return f"--port must be from 1 to 65535, got {port}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return f"--host {host!r} is not an address or name this machine can resolve"
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use; choose another with --port"
            return f"cannot listen on {host}:{port}: {e.strerror}"
    return None


def idle_label(timeout: str) -> str:
    """Solara's cull timeout (``600s``, ``1h``, ``90``) for people: ``10 min``."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    try:
        seconds = float(timeout[:-1]) * units[timeout[-1]] if timeout[-1:] in units else float(timeout)
    except ValueError:
        return f"{IDLE_ENV}={timeout}"      # Solara refuses it at start, with its own message
    if seconds >= 7200:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def main(args) -> int:
    problem = check_address(args.host, args.port)
    folder = getattr(args, "scenarios", None)
    if problem is None and folder is not None and not (folder.is_dir() and any(folder.glob("*.toml"))):
        problem = f"--scenarios {folder} is not a folder of scenario files (*.toml)"
    idle = getattr(args, "idle_minutes", None)
    if problem is None and idle is not None and not (math.isfinite(idle) and idle > 0):
        problem = f"--idle-minutes must be a number of minutes above 0, got {idle:g}"
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if folder is not None:
        env[SCENARIOS_ENV] = str(folder.resolve())
    for name, value in ALLOCATORS.items():
        env.setdefault(name, value)
    if idle is not None or not env.get(IDLE_ENV):
        env[IDLE_ENV] = f"{(IDLE_MINUTES if idle is None else idle) * 60!r}s"
    print(f"serving the app at http://{args.host}:{args.port}/ (Ctrl-C stops it); a session whose tab vanished "
          f"without closing is released after {idle_label(env[IDLE_ENV])} disconnected (--idle-minutes)", flush=True)
    cmd = [sys.executable, "-m", "solara", "run", str(APP), "--host", args.host, "--port", str(args.port),
           "--production", "--no-open", "--no-check-version"]  # no call to PyPI: the app runs offline
    server = subprocess.Popen(cmd, env=env)
    # A service manager or test stops us with SIGTERM: pass it on rather than orphan the server.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:   # Ctrl-C reached the server too (same process group)
        return server.wait()
