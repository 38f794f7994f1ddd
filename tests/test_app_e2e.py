"""The app in a real headless Chromium: served by ``python run.py ui`` as a user would, with
every request to another host refused (the app must work offline). Screenshots go to
``test-artifacts/app/``."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "app"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(ARTIFACTS / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "run.py", "ui", "--port", str(port)], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start; see {ARTIFACTS / 'server.log'}")
            time.sleep(0.3)
        yield url
    finally:
        # the server runs in its own session: stop the command and the Solara server it started
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_app_in_chromium(server):
    outside, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.set_default_timeout(30_000)

            def route(r):
                if urlparse(r.request.url).hostname not in ("127.0.0.1", "localhost"):
                    outside.append(r.request.url)
                    return r.abort()
                return r.continue_()

            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server)

            # the scoreboard of T1–T6 is there from the start, in Chinese and English
            board = page.locator("table.scoreboard")
            expect(board).to_be_visible(timeout=60_000)
            for t in ("T1", "T2", "T3", "T4", "T5", "T6"):
                expect(board.locator(f'tr[data-target="{t}"]')).to_have_count(1)
            expect(page.get_by_text("目标 Targets", exact=False).first).to_be_visible()
            date = page.locator(".run-date")
            expect(date).to_have_text("2022 Q4")
            expect(page.locator("svg.district-map path")).to_have_count(38)
            paired_links = page.locator("svg.district-map line[stroke='#ae3ec9']")
            assert paired_links.count() > 0 and page.locator("svg.district-map line").count() > paired_links.count()
            chart = page.locator("svg.target-chart").first
            chart_before = chart.inner_html()
            fills_before = [page.locator("svg.district-map path").nth(i).get_attribute("fill") for i in range(38)]
            page.screenshot(path=str(ARTIFACTS / "1-start.png"))

            # step several times: the date and the charts move
            for expected in ("2023 Q1", "2023 Q2", "2023 Q3", "2023 Q4"):
                page.get_by_role("button", name="Step", exact=True).click()
                expect(date).to_have_text(expected)
            # the parts of the page arrive one after the other: wait for the chart, not only the date
            expect(chart.locator("polyline")).to_have_attribute("points", re.compile(r"^(\S+ ){4}\S+$"))  # 5 quarters
            assert chart.inner_html() != chart_before
            fills = lambda: [page.locator("svg.district-map path").nth(i).get_attribute("fill") for i in range(38)]  # noqa: E731
            deadline = time.monotonic() + 10
            while fills() == fills_before and time.monotonic() < deadline:
                time.sleep(0.2)
            assert fills() != fills_before
            page.screenshot(path=str(ARTIFACTS / "2-stepped.png"))

            # hovering a district shows its figures; a click (忠县) opens its details
            assert "忠县 Zhongxian" in page.locator('svg.district-map path[data-code="500233"] title').text_content()
            page.locator('svg.district-map path[data-code="500233"]').click()
            expect(page.locator(".district-detail")).to_have_attribute("data-code", "500233")
            expect(page.get_by_text("区县详情 District: 忠县", exact=False)).to_be_visible()

            # a lever: paired assistance off, applied by Reset
            page.locator(".lever-groups .v-expansion-panel-header", has_text="对口协同 Paired assistance").click()
            page.locator(".v-input--checkbox", has_text="对口协同 paired assistance on").locator("label").click()
            expect(page.locator(".pending-levers")).to_be_visible()
            page.get_by_role("button", name="Reset", exact=True).click()
            expect(date).to_have_text("2022 Q4")
            expect(page.locator(".run-levers")).to_contain_text("paired.enabled = False")
            expect(page.locator(".pending-levers")).to_have_count(0)
            expect(paired_links).to_have_count(0)  # no paired-assistance links drawn
            page.screenshot(path=str(ARTIFACTS / "3-lever-reset.png"))

            # another scenario from scenarios/
            page.locator(".v-select", has_text="情景文件 Scenario file").locator(".v-select__slot").click()
            page.locator(".v-menu__content .v-list-item", has_text="paired_strong").click()
            expect(page.locator(".run-scenario")).to_contain_text("paired_strong")
            expect(page.get_by_text("协同强度 pairing intensity (×): 2.5")).to_be_visible()
            expect(page.locator(".run-levers")).to_contain_text("none")
            expect(date).to_have_text("2022 Q4")
            page.get_by_role("button", name="Step", exact=True).click()
            expect(date).to_have_text("2023 Q1")
            page.screenshot(path=str(ARTIFACTS / "4-scenario.png"))

            # play runs to the scenario's horizon and stops; the scoreboard then gives the verdicts
            page.get_by_role("button", name="▶", exact=True).click()
            expect(date).to_have_text("2025 Q4", timeout=60_000)
            expect(page.locator("text=已到期末 reached the horizon")).to_be_visible()
            expect(page.get_by_text("目标 Targets · 2025 Q4")).to_be_visible()
            expect(board.locator('tr[data-status="met"], tr[data-status="off_track"]')).to_have_count(6)
            page.screenshot(path=str(ARTIFACTS / "5-played-to-2025.png"))
        finally:
            browser.close()
    assert not outside, f"the page asked for outside resources: {outside[:5]}"
    assert not errors, errors
