"""``python run.py ui``: serve the browser app (``sim/app/page.py``) with Solara on this machine.

Every asset is served locally (``solara-assets``), so the app works without internet."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("page.py")
SCENARIOS_ENV = "CQ_SIM_SCENARIOS"     # read by the scenario picker (sim/app/sidebar.py)
HELP = "serve the interactive browser app (levers, district map, network, target charts) on localhost"


def add_arguments(parser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="port to serve on (default 8765)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for the network)")
    parser.add_argument("--scenarios", type=Path, metavar="DIR",
                        help="folder of scenario files the picker offers (default: scenarios/)")


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


def main(args) -> int:
    problem = check_address(args.host, args.port)
    folder = getattr(args, "scenarios", None)
    if problem is None and folder is not None and not (folder.is_dir() and any(folder.glob("*.toml"))):
        problem = f"--scenarios {folder} is not a folder of scenario files (*.toml)"
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if folder is not None:
        env[SCENARIOS_ENV] = str(folder.resolve())
    print(f"serving the app at http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    cmd = [sys.executable, "-m", "solara", "run", str(APP), "--host", args.host, "--port", str(args.port),
           "--production", "--no-open", "--no-check-version"]  # no call to PyPI: the app runs offline
    server = subprocess.Popen(cmd, env=env)
    # A service manager or test stops us with SIGTERM: pass it on rather than orphan the server.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:   # Ctrl-C reached the server too (same process group)
        return server.wait()
