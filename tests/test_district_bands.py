"""Each district's band in every output (issue #26): ``district_quantiles.csv`` in a results folder,
the district table's medians with their 5–95 % bands and start markers, and the maps' outlines of
the districts whose start values are their own published figures."""

import html
import json
import dataclasses
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from sim import cli
from sim.data.district_start import start_status
from sim.experiments.district_bands import COLUMNS, STOCKS
from sim.experiments.ensemble import run_ensemble
from sim.experiments.outfolder import DISTRICT_QUANTILES, OWNER_FILE
from sim.experiments.results import load_results
from sim.experiments.scenarios import load

SMALL = ["--scale", "0.02", "--replicates", "3", "--backend", "serial", "--chunk", "1", "--quiet", "--no-report"]


def scenario():
    return load("baseline").with_run(replicates=3, scale=0.02)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("bands") / "baseline"
    assert cli.main(["run", "baseline", *SMALL, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def result(folder):
    return load_results(folder, scenario())


def test_a_finished_folder_carries_each_districts_band_and_start_status(folder):
    q = pd.read_csv(folder / DISTRICT_QUANTILES)
    assert list(q.columns) == COLUMNS
    d = pd.read_parquet(folder / "districts")
    years = list(range(int(d["year"].min()), scenario().until + 1))      # every year end, start to horizon
    assert len(q) == 38 * len(STOCKS) * len(years) and sorted(set(q["year"])) == years
    assert dict(zip(q["indicator"], q["unit"])) == {"tech_enterprises": "firms", "high_tech_enterprises": "firms",
                                                    "rd_expenditure": "100m yuan"}
    assert (q["p05"] <= q["median"]).all() and (q["median"] <= q["p95"]).all() and (q["p05"] < q["p95"]).any()
    assert (q["replicates"] == 3).all()
    # the replicates' interpolated percentiles at the year end, as the scoreboard's
    end = d[(d["year"] == years[-1]) & (d["quarter"] == 4)]
    for (adcode, indicator), v in end[end["indicator"].isin(list(STOCKS))].groupby(["adcode", "indicator"])["value"]:
        row = q[(q["adcode"] == adcode) & (q["indicator"] == indicator) & (q["year"] == years[-1])]
        assert len(row) == 1
        assert tuple(row[["p05", "median", "p95"]].iloc[0]) == pytest.approx(tuple(np.percentile(v, [5, 50, 95])))
    status = start_status().stack()
    assert q["start_status"].tolist() == [status[(a, i)] for a, i in zip(q["adcode"], q["indicator"])]
    assert set(q["start_status"]) == {"own", "estimated"}
    # recorded as written by this project: a resumed run and --overwrite may replace it
    assert DISTRICT_QUANTILES in json.loads((folder / OWNER_FILE).read_text())["written"]


def test_a_resumed_or_reread_folder_gets_the_same_file_and_keeps_the_users_files(tmp_path, capsys, folder):
    out = tmp_path / "out"
    shutil.copytree(folder, out)
    reference = (folder / DISTRICT_QUANTILES).read_bytes()
    (out / "my_quantiles.csv").write_text("mine")
    # read again without running: the file is left as it was
    kept = (out / DISTRICT_QUANTILES).stat().st_mtime_ns
    run_ensemble(scenario(), out=out)
    assert (out / DISTRICT_QUANTILES).stat().st_mtime_ns == kept
    # a folder without it (an earlier version's) gets it when read by a run
    (out / DISTRICT_QUANTILES).unlink()
    run_ensemble(scenario(), out=out)
    assert (out / DISTRICT_QUANTILES).read_bytes() == reference
    # a resumed run writes it again from all the replicates, not only the ones it ran
    (out / "done" / "r00001-00001.json").unlink()
    assert cli.main(["run", "baseline", *SMALL, "--out", str(out)]) == 0
    assert "1 run(s) to do, 2 already done" in capsys.readouterr().err
    assert (out / DISTRICT_QUANTILES).read_bytes() == reference
    assert cli.main(["run", "fund_need", *SMALL, "--out", str(out), "--overwrite"]) == 0
    assert set(pd.read_csv(out / DISTRICT_QUANTILES)["replicates"]) == {3}
    assert (out / DISTRICT_QUANTILES).read_bytes() != reference and (out / "my_quantiles.csv").read_text() == "mine"


def _cells(row: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_the_district_table_gives_each_stocks_band_and_whether_its_start_is_published(folder, result):
    from sim.report import numbers as num
    from sim.report.district_table import ranking_html
    table = ranking_html(result)
    q = pd.read_csv(folder / DISTRICT_QUANTILES)
    end = q[q["year"] == result.scenario.until].set_index(["adcode", "indicator"])
    adcode = q.drop_duplicates("adcode").set_index("name_zh")["adcode"]
    rows = re.findall(r"<tr(?: class=miss)?><td>\d+</td>(.*?)</tr>", table)
    assert len(rows) == 38
    marks = []
    for row in rows:
        cells = _cells(row)
        for stock, cell, count, digits in (("tech_enterprises", cells[2], True, 0),
                                           ("high_tech_enterprises", cells[4], True, 0),
                                           ("rd_expenditure", cells[5], False, 1)):
            r = end.loc[(adcode[cells[0]], stock)]
            mark = "●" if r["start_status"] == "own" else "○"
            assert cell == (f"{num.value(r['median'], count, digits)} "
                            f"({num.band(r['p05'], r['p95'], count, digits, sep='–')}) {mark}")
            marks.append(mark)
    assert marks.count("●") == int((start_status() == "own").sum().sum())
    text = html.unescape(re.sub(r"<[^>]+>", " ", table))
    assert "● marks a start value (end-2022) that is the district's own published figure" in text
    assert "the 5–95 % band of the runs" in text and DISTRICT_QUANTILES in text
    assert "In the median run," in text and "lags on T3" in text                 # T3's sentence and column stay
    # the runs drew where the districts start, and the note says so (not for a point start)
    assert "Each run starts from its own draw of the estimated values" in text
    scenario = dataclasses.replace(result.scenario, params=result.scenario.params.with_overrides(
        {"behaviour": {"district_start_spread": 0.0}}))
    point = dataclasses.replace(result, scenario=scenario)
    assert "its own draw" not in ranking_html(point)


def test_the_maps_outline_the_districts_that_start_from_their_own_figures_and_show_the_band(folder, result):
    import matplotlib.pyplot as plt
    from sim.report import maps
    fig = maps.choropleths(result)
    status = start_status()
    polygons = pd.Series(maps._polygons()[1]).value_counts()         # polygons per adcode
    titled = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_title(loc="left")}
    panels = {**{k: v[0] for k, v in maps.MAPS.items()}, **maps.BAND_MAPS}
    for key, title in panels.items():
        ax = titled[title]
        outline = [c for c in ax.collections if c.get_gid() == "own-start"]
        if key == "tier":
            assert not outline
            continue
        own = status.index[status[maps.START_STOCK[key]] == "own"]
        assert len(outline) == 1 and len(outline[0].get_paths()) == polygons[own].sum(), key
    legend = " ".join(t.get_text() for lg in fig.legends for t in lg.get_texts())
    assert "own published figure" in legend
    # the band maps: the width of each district's 5–95 % band as a share of its median
    q = pd.read_csv(folder / DISTRICT_QUANTILES)
    end = q[(q["year"] == result.scenario.until) & (q["indicator"] == "high_tech_enterprises")].set_index("adcode")
    width = (100 * (end["p95"] - end["p05"]) / end["median"]).where(end["median"] > 0)
    fill = next(c for c in titled[maps.BAND_MAPS["high_tech_enterprises"]].collections if c.get_gid() is None)
    drawn = np.ma.filled(fill.get_array().astype(float), np.nan)
    assert np.allclose(drawn, width.reindex(maps._polygons()[1]).to_numpy(), equal_nan=True)
    plt.close(fig)
