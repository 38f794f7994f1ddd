"""What a planner reads, in a real headless Chromium at the widths of common screens: served by
``python run.py ui`` as a user would, the page at 1280, 1600 and 1920 px wide, every card title
wrapped between words (never inside one), a small paired ensemble's panel with its units,
percentage points and "why might we miss", and a server that prints no warning while it starts
and serves them. Screenshots (one per width, and the ensemble's) go to
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

import pytest
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "app"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]
WIDTHS = (1280, 1600, 1920)
LOG = ARTIFACTS / "layout-server.log"

# For every card title: its characters in order, each with the top of the line box it sits on
# (a Range around the character), and whether white space came just before it. A line break
# inside a title is where the next visible character sits lower than the one before; it is
# allowed at white space, or between two Chinese characters (where Chinese text may wrap).
TITLE_BREAKS = """
() => {
  const cjk = c => /[\\u2e80-\\u9fff\\uf900-\\ufaff\\u3000-\\u303f\\uff00-\\uffef]/.test(c);
  const out = [];
  for (const title of document.querySelectorAll('.v-card__title')) {
    if (!title.offsetParent) continue;                       // hidden
    const walker = document.createTreeWalker(title, NodeFilter.SHOW_TEXT);
    const chars = [];
    let space = false;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) {
        const c = node.data[i];
        if (/\\s/.test(c)) { space = true; continue; }
        const r = document.createRange();
        r.setStart(node, i); r.setEnd(node, i + 1);
        const box = r.getClientRects()[0];
        if (box) chars.push({c, top: box.top, height: box.height, space});
        space = false;
      }
    }
    const text = title.textContent.trim();
    const lines = 1 + chars.filter((x, i) => i > 0 && x.top > chars[i - 1].top + chars[i - 1].height / 2).length;
    const bad = [];
    chars.forEach((x, i) => {
      if (i === 0 || x.top <= chars[i - 1].top + chars[i - 1].height / 2) return;
      const before = chars[i - 1].c;
      if (!x.space && !(cjk(before) && cjk(x.c)))
        bad.push(chars.slice(Math.max(0, i - 6), i).map(y => y.c).join('') + '|' + chars.slice(i, i + 6).map(y => y.c).join(''));
    });
    out.push({text, lines, bad, overflow: title.scrollWidth > title.clientWidth + 1});
  }
  return out;
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(LOG, "w")
    # this checkout's code, whatever is installed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    proc = subprocess.Popen([sys.executable, "run.py", "ui", "--port", str(port)], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
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
                raise RuntimeError(f"the app did not start; see {LOG}")
            time.sleep(0.3)
        yield url
    finally:
        # The server runs in its own session: stop the command and the Solara server it started as
        # Ctrl-C does. (On SIGTERM the Solara server dies without Python's exit handlers, leaving the
        # ensemble's replicate folder in /tmp and a multiprocessing lock the resource tracker warns of.)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def server_warnings() -> str:
    """What the server printed that is a warning, so far. Mesa's hook warning (at start) and
    Solara's cookie warning (at each page load) are silenced at their source, sim/app/components.py."""
    printed = LOG.read_text(errors="replace")
    assert "serving the app at" in printed
    return printed if re.search(r"Warning|warn\(", printed) else ""


def tall(page, width: int, height: int) -> None:
    """A viewport tall enough for a screenshot of the whole page: the app scrolls inside its main
    area, not the document, so a full-page screenshot shows only the first screen."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(300)


def wrapped_inside_a_word(page) -> list[str]:
    found = page.evaluate(TITLE_BREAKS)
    assert len(found) >= 8, found                    # the sidebar's cards and the main area's
    return [f"{t['text']!r}: {b}" for t in found for b in t["bad"]] + \
        [f"{t['text']!r} overflows its card" for t in found if t["overflow"]]


def test_card_titles_wrap_between_words_at_common_widths(server):
    problems, console = {}, []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 1000})
                page.set_default_timeout(30_000)
                page.on("pageerror", lambda e: console.append(str(e)))
                page.goto(server)
                expect(page.locator("table.scoreboard")).to_be_visible(timeout=60_000)
                expect(page.locator("svg.district-map > path")).to_have_count(38)
                expect(page.locator("svg.target-chart")).to_have_count(6)
                # the map's colour bar says what it measures, at round values
                legend = page.locator("svg.map-legend")
                expect(legend.locator(".legend-unit")).to_have_text("家/万人 firms per 10,000 people")
                for tick in legend.locator("text[text-anchor=middle]").all_text_contents():
                    assert re.fullmatch(r"0|[125](0|,000)*|0\.0*[125]", tick), tick
                problems[width] = wrapped_inside_a_word(page)
                tall(page, width, 2400)
                page.screenshot(path=str(ARTIFACTS / f"layout-{width}.png"))
                page.close()
        finally:
            browser.close()
    assert not console, console
    assert not any(problems.values()), problems
    assert not server_warnings(), server_warnings()[-3000:]


def test_ensemble_panel_says_what_its_numbers_are(server):
    """A paired ensemble of 10 runs (a lever changed): counts and units in the table, ΔP in
    percentage points naming the lever, the note on what the spread holds (posterior draws),
    "why might we miss", and still no title broken inside a word."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTHS[0], "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(server)
            expect(page.locator("table.scoreboard")).to_be_visible(timeout=60_000)
            page.locator(".lever-groups .v-expansion-panel-header", has_text="对口协同 Paired assistance").click()
            page.locator(".v-input--checkbox", has_text="对口协同 paired assistance on").locator("label").click()
            replicates = page.get_by_label("重复次数 Replicates")
            replicates.fill("10")
            replicates.press("Enter")
            expect(page.locator(".ensemble-panel")).to_contain_text("Runs 10 replicates")
            page.get_by_role("button", name=re.compile("Run ensemble")).click()
            table = page.locator("table.ensemble-scoreboard")
            expect(table).to_be_visible(timeout=120_000)
            expect(table.locator("td.p-diff")).to_have_count(6)
            for cell in table.locator("td.p-diff").all_text_contents():
                assert re.fullmatch(r"[+-]\d+ pp \([+-]\d+ to [+-]\d+\)", cell.strip()), cell
            expect(table.locator(".diff-caption")).to_contain_text("对口协同 paired assistance on: 是 yes → 否 no")
            t3 = table.locator('tr[data-target="T3"] .spread').first.text_content()
            assert re.fullmatch(r"\d+(\.5)? \(\d+–\d+\) districts", t3), t3
            note = page.locator(".ensemble-panel .reading-note")
            expect(note).to_contain_text("calibrated parameters' uncertainty")
            expect(note).not_to_contain_text("not uncertainty in the model's parameters")
            expect(page.locator(".ensemble-summary")).not_to_contain_text("no scenario")
            expect(page.locator(".why-miss")).to_contain_text("Why might we miss?")
            problems = wrapped_inside_a_word(page)
            tall(page, WIDTHS[0], 4000)
            page.locator(".ensemble-panel").screenshot(path=str(ARTIFACTS / f"layout-{WIDTHS[0]}-ensemble.png"))
        finally:
            browser.close()
    assert not problems, problems
    assert not server_warnings(), server_warnings()[-3000:]
