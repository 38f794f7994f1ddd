"""The report as a planner reads it: Chinese labels drawn on any machine with a CJK font, maps
whose labels do not collide, and a first paragraph in plain words."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CJK_MARKERS = ("CJK", "WenQuanYi", "Droid Sans Fallback", "UMing", "Source Han")

# Draws one of the report's figures (district names in Chinese) and lists matplotlib's warnings.
RENDER = textwrap.dedent("""
    import io, json, warnings
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import font_manager
    stale = not any(m in f.name for f in font_manager.fontManager.ttflist for m in {markers!r})
    import matplotlib.pyplot as plt
    from sim.report import maps as rf
    from sim.report.figures import style
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        style()
        fig, ax = plt.subplots(figsize=(4, 4))
        rf.draw_districts(ax)
        ax.set_title("重庆 38 区县")
        fig.savefig(io.BytesIO(), format="png")
    print(json.dumps(dict(stale=stale, family=list(plt.rcParams["font.family"]),
                          warnings=[str(w.message) for w in caught])))
""")


def _stale_font_cache(folder: Path, env: dict) -> None:
    """A matplotlib font cache as matplotlib writes it on a machine without a CJK font: built,
    then stripped of every CJK entry (the fonts were installed after it)."""
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True, timeout=300)
    (cache,) = folder.glob("fontlist-*.json")
    data = json.loads(cache.read_text())
    data["ttflist"] = [f for f in data["ttflist"] if not any(m in f["name"] for m in CJK_MARKERS)]
    cache.write_text(json.dumps(data))


@pytest.mark.skipif(not os.path.isdir("/usr/share/fonts/opentype/noto"), reason="needs Debian's fonts-noto-cjk")
@pytest.mark.parametrize("finder", ["fontconfig", "debian paths"])
def test_chinese_labels_draw_with_a_font_cache_older_than_the_font(tmp_path, finder):
    env = dict(os.environ, MPLCONFIGDIR=str(tmp_path), PYTHONPATH=str(ROOT))
    _stale_font_cache(tmp_path, env)
    if finder == "debian paths":
        env["PATH"] = str(tmp_path)        # no fc-list on this machine
    res = subprocess.run([sys.executable, "-c", RENDER.format(markers=CJK_MARKERS)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["stale"], "the cache should not list the CJK font at the start"
    assert any(m in out["family"][0] for m in CJK_MARKERS), out["family"]
    missing = [w for w in out["warnings"] if "missing from font" in w or "no CJK font" in w]
    assert not missing, missing[:3]


# ---- figures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def result():
    from sim.experiments.ensemble import run_ensemble
    return run_ensemble("baseline", replicates=3, scale=0.03, backend="serial")


def _district_labels(ax):
    return [t for t in ax.texts if str(t.get_gid() or "").startswith("district-label-")]


def _text_box(label, renderer):
    """A name's own extent, without its leader line."""
    from matplotlib.text import Text
    label.update_positions(renderer)
    return Text.get_window_extent(label, renderer)


def _all_axes(fig):
    return [a for top in fig.axes for a in (top, *top.child_axes)]


@pytest.mark.parametrize("figure", ["choropleths", "network_map"])
def test_map_labels_do_not_collide_and_name_every_district_once(result, figure):
    from sim.report import maps as rf
    fig = getattr(rf, figure)(result)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    maps = [ax for ax in _all_axes(fig) if _district_labels(ax)]
    assert maps
    named = []
    for ax in maps:
        frame = ax.get_window_extent(renderer)
        boxes = [(t.get_text(), _text_box(t, renderer)) for t in _district_labels(ax)]
        for i, (name, box) in enumerate(boxes):
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, name
            for other, box2 in boxes[:i]:
                assert not box.overlaps(box2), f"{figure}: {name} overlaps {other}"
        named += [t.get_gid() for t in _district_labels(ax)]
    # every district is named once per map: the central urban ones in the inset, the others on the map
    per_map = len(named) / (6 if figure == "choropleths" else 1)
    assert per_map == 38 and len(set(named)) == 38
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_tier_map_has_a_categorical_legend_and_every_scale_has_a_unit(result):
    from sim.programmes.evaluation import TIER_NAMES
    from sim.report import figures as rf, maps
    fig = maps.choropleths(result)
    tier_ax = next(ax for ax in fig.axes if "tier" in ax.get_title(loc="left"))
    legend = [t.get_text() for t in tier_ax.get_legend().get_texts()]
    assert legend == [TIER_NAMES[t] for t in (1, 2, 3)]
    bars = [ax for ax in _all_axes(fig) if hasattr(ax, "_colorbar")]
    assert len(bars) == 5 and all(b.get_xlabel() for b in bars)   # the other five maps, each with its unit
    assert not any(b in tier_ax.child_axes for b in bars)
    for make in (rf.fan_charts, rf.inequality_chart):
        fig = make([result])
        for ax in fig.axes:
            if ax.axison:
                assert ax.get_xlabel() and ax.get_ylabel(), (make.__name__, ax.get_title())


def test_names_that_would_collide_move_aside_with_a_leader_line():
    # A wider font or a smaller figure than the report's: names collide until declutter moves them.
    import matplotlib.pyplot as plt

    from sim.report import maps as rf
    from sim.report.figures import style
    style()
    fig, ax = plt.subplots(figsize=(6.5, 6))
    rf.draw_districts(ax, fontsize=7)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()

    def overlaps():
        boxes = [_text_box(t, renderer) for t in _district_labels(ax)]
        return sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[:i])

    assert overlaps() > 0
    rf.declutter(fig, pad=0)
    assert overlaps() == 0
    assert any(t.arrow_patch.get_visible() for t in _district_labels(ax))
    plt.close(fig)


# ---- the first paragraph -----------------------------------------------------------------------
def test_wilson_interval():
    from sim.report.uncertainty import wilson
    lo, hi = wilson(20, 20)
    assert lo == pytest.approx(0.839, abs=1e-3) and hi == 1.0
    lo, hi = wilson(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.161, abs=1e-3)
    lo, hi = wilson(10, 20)
    assert lo < 0.5 < hi and lo + hi == pytest.approx(1.0)


def test_first_paragraph_says_what_is_likely_how_sure_who_lags_and_what_changes_the_odds():
    import pandas as pd

    from sim.experiments.targets import POLICY_2025
    from sim.report.text import plain_summary
    probs = {"T1": 1.0, "T2": 0.95, "T3": 0.0, "T4": 0.5, "T5": 0.0, "T6": 0.05}
    summary = pd.DataFrame([dict(target=t.id, threshold=t.threshold, year=t.year, prob_met=probs[t.id]) for t in POLICY_2025])
    from sim.experiments.laggards import Laggards
    # T3's laggards, counted run by run: 2 or 3 laggards in each of the 20 runs
    lagging = Laggards(2022, 2025, 38, pd.Series([2.0] * 10 + [3.0] * 10),
                       pd.DataFrame(dict(adcode=[500229, 500238, 500101], name_zh=["城口县", "巫溪县", "万州区"],
                                         lag_share=[1.0, 0.95, 0.55], rd_cagr=[3.2, 5.1, 9.0])))
    diffs = pd.DataFrame([
        dict(target="T4", scenario="fund_need", reference="baseline", prob_met_diff=0.35, prob_met_diff_lo=0.15,
             prob_met_diff_hi=0.55, value_diff=1.0, value_diff_lo=0.5, value_diff_hi=1.5, value_reference=30.0),
        dict(target="T1", scenario="paired_off", reference="baseline", prob_met_diff=-0.05, prob_met_diff_lo=-0.15,
             prob_met_diff_hi=0.05, value_diff=-10.0, value_diff_lo=-20.0, value_diff_hi=0.0, value_reference=80000.0)])
    text = plain_summary(summary, 20, POLICY_2025, "baseline", lagging, diffs)
    en, zh = text["en"], text["zh"]
    likely = en[en.index("Likely:"):en.index("Could go either way")]
    assert "T1" in likely and "T2" in likely and "met in 20 of 20 runs; 84–100 %" in likely
    assert "T4" in en[en.index("Could go either way"):en.index("Unlikely:")]
    unlikely = en[en.index("Unlikely:"):en.index("In brackets")]
    assert all(t in unlikely for t in ("T3", "T5", "T6"))
    assert "Only 20 runs: each probability is known to within about ±20 points" in en   # 20 runs: rough odds
    assert "仅 20 次运行" in zh
    assert ("On T3, 2.5 of the 38 districts grow their R&D by less than 10%/yr on average from 2022 to 2025 in the "
            "median run (2–3 in 5–95 % of the runs" in en and "中位运行中有 2.5 个区县2022—2025年" in zh)
    assert ("Chengkou 城口 (in 100 % of the runs), Wuxi 巫溪 (95 %), Wanzhou 万州 (55 %)." in en
            and "城口（100%）、巫溪（95%）、万州（55%）" in zh)
    assert "«fund_need» on T4: +35 points (+15 to +55" in en and "「fund_need」对 T4：+35 个百分点" in zh
    assert "很可能达成" in zh and "不太可能达成" in zh


def test_the_report_opens_with_the_paragraph(result, tmp_path):
    from sim.report.html import write_report
    page = write_report(result, tmp_path).read_text("utf-8")
    assert page.index("class=summary") < page.index("<h2>Targets")
    summary = page[page.index("class=summary"):page.index("</div>", page.index("class=summary"))]
    assert "lang=zh-Hans" in summary and "lang=en" in summary and "T1" in summary and "T3" in summary
