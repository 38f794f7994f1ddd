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
    from sim import report_figures as rf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rf._style()
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
