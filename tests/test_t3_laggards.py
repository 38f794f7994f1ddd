"""One count of T3's laggards: the report's sentence, its district table and the scoreboard count
them run by run (the median and 5–95 % band of the replicates' counts; each district named by the
share of the runs in which it lags), never by each district's own median."""

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from sim.data.datasets import load_districts
from sim.experiments.laggards import count_laggards, t3_laggards, t3_year

ADCODES = load_districts()["adcode"].tolist()
NAMES = load_districts().set_index("adcode")["name_zh"]


def rotating(replicates: int, lagging: int, start: int = 2022, year: int = 2025, period: int | None = None) -> pd.DataFrame:
    """A hand-made ensemble's year-end R&D: every district grows 20 %/yr, except that district i <
    ``lagging`` stands still in the runs k with (i + k) % period == 0: each lags in one run of
    ``period`` and every run has lagging/period laggards, yet no district lags in its own median."""
    period = period or replicates
    rows = []
    for k in range(replicates):
        for i, code in enumerate(ADCODES):
            late = 1.0 if i < lagging and (i + k) % period == 0 else 1.2 ** (year - start)
            for y, v in ((start, 1.0), (year, late)):
                rows.append(dict(replicate=k, step=4 * (y - start), year=y, quarter=4, adcode=code,
                                 name_zh=NAMES[code], indicator="rd_expenditure", value=v))
    return pd.DataFrame(rows)


def test_laggards_are_counted_run_by_run_not_by_each_districts_median():
    frame = rotating(replicates=5, lagging=10, period=5)
    lag = count_laggards(frame, 2022, 2025)
    # two districts lag in each run...
    assert lag.per_replicate.tolist() == [2.0] * 5 and (lag.median, lag.p05, lag.p95) == (2.0, 2.0, 2.0)
    # ...though none lags in its own median run (each in one run of five)
    late = frame[frame["year"] == 2025].groupby("adcode")["value"].median()
    assert (late >= 1.1 ** 3).all()
    shares = lag.districts.set_index("adcode")["lag_share"]
    assert (shares[ADCODES[:10]] == 0.2).all() and (shares[ADCODES[10:]] == 0).all()
    assert lag.mostly().empty and set(lag.ever()["adcode"]) == set(ADCODES[:10])
    assert lag.districts["adcode"].tolist()[:10] == sorted(ADCODES[:10])     # most often first, then by adcode


def test_the_band_is_the_runs_percentiles_and_a_district_lagging_in_most_runs_is_named_first():
    frame = rotating(replicates=4, lagging=0)
    grow = (frame["adcode"] == ADCODES[0]) & (frame["year"] == 2025) & (frame["replicate"] < 3)
    frame.loc[grow, "value"] = 1.0                                    # lags in 3 of 4 runs
    frame.loc[(frame["adcode"].isin(ADCODES[1:6])) & (frame["year"] == 2025) & (frame["replicate"] == 0), "value"] = 0.5
    lag = count_laggards(frame, 2022, 2025)
    counts = [6.0, 1.0, 1.0, 0.0]
    assert lag.per_replicate.tolist() == counts
    assert (lag.median, lag.p05, lag.p95) == tuple(float(np.percentile(counts, q)) for q in (50, 5, 95))
    assert lag.mostly()["adcode"].tolist() == [ADCODES[0]] and lag.districts.iloc[0]["lag_share"] == 0.75
    assert lag.districts.iloc[1]["rd_cagr"] == pytest.approx(100 * (1.2 - 1))   # the median run's growth


def test_t3_is_counted_at_its_target_year_within_the_horizon():
    from sim.experiments.scenarios import load
    s = load("baseline")
    assert t3_year(s) == 2025 and t3_year(s.with_run(until=2027)) == 2025
    assert t3_year(load("double_doubling")) == 2027          # a set without T3: the horizon


@pytest.fixture(scope="module")
def drawn():
    from sim.experiments.ensemble import run_ensemble
    return run_ensemble("baseline", replicates=3, scale=0.02, backend="serial")


def _text(page: str) -> str:
    import html
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_sentence_the_table_and_the_scoreboard_say_the_same_count(drawn):
    from sim.report import numbers as num
    from sim.report.district_table import ranking_html
    from sim.report.text import result_summary
    lag = t3_laggards(drawn)
    met = drawn.targets[drawn.targets["target"] == "T3"].set_index("replicate")["value"]
    assert lag.per_replicate.sort_index().tolist() == (38 - met.sort_index()).tolist()
    t3 = drawn.summary.set_index("target").loc["T3"]
    assert lag.median == pytest.approx(38 - t3["median"])
    assert (lag.p05, lag.p95) == pytest.approx((38 - t3["p95"], 38 - t3["p05"]))
    # the fan chart's T3 line counts the same districts in each run
    from sim.report.figures import yearly
    fan = yearly(drawn.city, drawn.districts, drawn.scenario.params.start_year)
    at = fan[fan["year"] == lag.year].set_index("replicate")["districts_rd_cagr_10"].sort_index()
    assert at.tolist() == met.sort_index().tolist()
    median, band = num.value(lag.median, count=True), num.band(lag.p05, lag.p95, count=True, sep="–")
    table = ranking_html(drawn)
    assert f"In the median run, {median} of the 38 districts" in table and f"(5–95 % of the runs: {band})" in table
    assert len(re.findall(r"<tr class=miss>", table)) == len(lag.mostly())
    text = result_summary(drawn)
    assert f"On T3, {median} of the 38 districts" in text["en"] and f"{band} in 5–95 % of the runs" in text["en"]
    assert f"中位运行中有 {median} 个区县" in text["zh"]
    assert lag.scored and "the scoreboard's T3 counts the others, run by run" in text["en"] + table


def test_a_run_where_the_district_medians_and_the_runs_disagree_is_told_by_the_runs(drawn):
    """Nine districts each lag in one run of three: three laggards in every run, though each
    district's median (and so a count by district medians) meets T3."""
    from sim.report.district_table import ranking_html
    from sim.report.text import result_summary
    lag0 = t3_laggards(drawn)
    start, year = lag0.start_year, lag0.year
    d = drawn.districts.copy()
    hand = rotating(replicates=3, lagging=9, start=start, year=year).set_index(["replicate", "year", "adcode"])["value"]
    rd = (d["indicator"] == "rd_expenditure") & (d["quarter"] == 4) & d["year"].isin([start, year])
    d.loc[rd, "value"] = [hand[(r, y, a)] for r, y, a in zip(d.loc[rd, "replicate"], d.loc[rd, "year"], d.loc[rd, "adcode"])]
    result = dataclasses.replace(drawn, districts=d)
    lag = t3_laggards(result)
    assert lag.per_replicate.tolist() == [3.0, 3.0, 3.0] and lag.mostly().empty
    table = _text(ranking_html(result))
    assert f"In the median run, 3 of the 38 districts grow their R&D by less than 10%/yr on average from {start} to {year}" in table
    assert "(5–95 % of the runs: 3–3)" in table and "class=miss" not in ranking_html(result)
    assert table.count(" 33% ") == 9                         # "lags on T3": one run in three
    text = result_summary(result)
    en = text["en"]
    assert "中位运行中有 3 个区县" in text["zh"] and "没有区县在至少半数的运行中落后" in text["zh"]
    assert f"On T3, 3 of the 38 districts grow their R&D by less than 10%/yr on average from {start} to {year}" in en
    assert "none lags in half of the runs or more, the most often:" in en and "(in 33 % of the runs)" in en
