"""Time a step of the browser app and its redraw, at the default scale and at full scale.

    python benchmarks/bench_app.py [--steps N] [--browser] [--ensemble]

Without --browser: the page is rendered in this process (solara.render) and the Step button is
clicked; the time covers the model step, every view's recomputation and the widget updates the
server sends. With --browser it also serves the app and times, in headless Chromium, the click
on Step until the new date is on screen (server, websocket and browser drawing together).
With --ensemble it times the app's ensemble button: 20 paired replicates of the baseline and of
one changed lever at the default scale, then the same again from the cache.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def in_process(steps: int, scales=(0.1, 1.0)) -> dict:
    """Per scale: seconds for Reset (build and redraw) and the median wall and CPU seconds of a
    Step click (step and redraw)."""
    import ipyvuetify as v
    import solara

    from sim.app import page as app
    from sim.app.levers import SCALES

    _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    out = {}
    for scale in scales:
        rc.find(v.Select, label="规模 Scale").widget.v_model = SCALES[scale]
        t = time.perf_counter()
        rc.find(v.Btn, children=["Reset"]).widget.click()
        build = time.perf_counter() - t
        times, cpu = [], []
        step = rc.find(v.Btn, children=["Step"]).widget
        for _ in range(steps):
            t, c = time.perf_counter(), time.process_time()
            step.click()
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        out[scale] = dict(build=build, step=statistics.median(times), step_cpu=statistics.median(cpu), step_max=max(times))
        # CPU time too: on a shared machine the wall time includes waiting for a core
        print(f"scale {scale:<4} server side: build+redraw {build:.3f} s; step+redraw median {out[scale]['step']:.3f} s "
              f"(CPU {out[scale]['step_cpu']:.3f} s), max {max(times):.3f} s over {steps} steps", flush=True)
    rc.close()
    return out


def in_browser(steps: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "run.py", "ui", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-quic"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url)
            date = page.locator(".run-date")
            expect(date).to_have_text("2022 Q4", timeout=60_000)
            for scale in ("0.1", "1.0"):
                page.locator(".v-select", has_text="规模 Scale").locator(".v-select__slot").click()
                page.locator(".v-menu__content .v-list-item", has_text=f"{scale} ").click()
                page.get_by_role("button", name="Reset", exact=True).click()
                expect(page.locator(".pending-levers")).to_have_count(0, timeout=30_000)
                times = []
                for _ in range(steps):
                    before = date.inner_text()
                    t = time.perf_counter()
                    page.get_by_role("button", name="Step", exact=True).click()
                    expect(date).not_to_have_text(before, timeout=30_000)
                    times.append(time.perf_counter() - t)
                print(f"scale {scale:<4} in Chromium: click Step → new date on screen, median "
                      f"{statistics.median(times):.3f} s, max {max(times):.3f} s over {steps} steps")
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def ensemble() -> None:
    from sim.app import ensemble as app_ensemble
    from sim.app.levers import default_config

    config = default_config().with_lever("paired.enabled", False)
    replicates = app_ensemble.DEFAULT_REPLICATES
    req = app_ensemble.request(config, replicates)
    for label in ("run", "again (cache)"):
        t = time.perf_counter()
        view = app_ensemble.run(req)
        print(f"ensemble {label}: {replicates} paired replicates x {len(req.runs)} at scale {config.scale:g}, "
              f"backend {app_ensemble.BACKEND}: {time.perf_counter() - t:.2f} s (from cache: {view.from_cache})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=8, help="steps timed per scale (default 8; the horizon is 12)")
    ap.add_argument("--browser", action="store_true", help="also time the round trip in headless Chromium")
    ap.add_argument("--ensemble", action="store_true", help="also time the ensemble button (20 paired replicates)")
    a = ap.parse_args()
    print(f"{os.cpu_count()} CPUs")
    in_process(a.steps)
    if a.browser:
        in_browser(a.steps)
    if a.ensemble:
        ensemble()
