"""The rolling-origin backtest against a plain trend: held-out points and horizons per origin,
their CRPS and the trend beside them, the calibration file's [backtest] tables and the report's
verdict. No search and no simulation runs: the search is replaced by a hand-made posterior and
the update's paths by hand-made quarterly frames."""

import argparse
import html
import importlib
import re
import types

import numpy as np
import pandas as pd
import pytest

from sim import calibration as C
from sim.calibration import update as upd
from sim.calibration.file import scored_backtest
from sim.calibration.skill import trend_forecast
from sim.data import actors
from sim.experiments.calibration_file import CalibrationError
from sim.experiments.district_observations import district_observations
from sim.experiments.observations import observations
from sim.report.html import forecast_quality_html

bt = importlib.import_module("sim.calibration.backtest")     # the package's `backtest` is the function

TOO_HIGH = "rd_expenditure"     # the hand-made posterior puts it twice too high: the model must lose there


def posterior():
    """Two particles for every published point, the history's and the later figures' (the runs
    carried on to 2024): at the value (weight 0.75) and 20 % above it (0.25); R&D at twice and
    2.4 times the value."""
    cols = {}
    later = [(f"later:{o.indicator}:{o.year}:{o.kind}", o.indicator, o.value) for o in observations(through=2024)]
    later += [(f"later:{o.key}", o.series, o.value) for o in district_observations()]
    for key, series, value in [(f"{r.series}:{r.year}", r.series, r.value) for r in C.observed().itertuples()] + later:
        base = 2.0 * value if series == TOO_HIGH else value
        cols[f"stat:{key}"] = [base, 1.2 * base]
    return pd.DataFrame({"weight": [0.75, 0.25], **cols})


@pytest.fixture
def exact(monkeypatch):
    """The model's own sample, without the published figure's error, so that hand-computed
    quantiles and CRPS hold exactly (the error is tested on its own below)."""
    monkeypatch.setattr(bt, "predictive", lambda values, weights, sigma, key: (values, weights))


@pytest.fixture
def searched(monkeypatch):
    calls = []

    def fake_search(**kw):
        calls.append((kw["last_year"], kw["forecast_through"]))
        return types.SimpleNamespace(posterior=posterior(),
                                     settings=dict(generations_run=3, simulations=120, posterior_generation=1))
    monkeypatch.setattr(bt, "search", fake_search)
    return calls


def frame(f: float) -> dict:
    """One path's quarterly city frame 2023–2024, every stock and flow ``f`` times a plausible one."""
    years, quarters = [2023] * 4 + [2024] * 4, [1, 2, 3, 4] * 2
    step = np.arange(1, 9) / 8
    stocks = {"tech_enterprises": (50000, 62000), "high_tech_enterprises": (6500, 9200),
              "rd_expenditure": (700, 820), "rd_intensity": (2.4, 2.56)}
    out = {"year": years, "quarter": quarters}
    out.update({k: list(f * (a + (b - a) * step)) for k, (a, b) in stocks.items()})
    out.update({k: [f * v] * 8 for k, v in (("registrations_q", 3500.0), ("certifications_q", 800.0),
                                            ("renewals_q", 300.0), ("specialised_q", 50.0))})
    return out


def districts(f: float) -> dict:
    """One path's district stocks at every quarter's end 2023–2024: ``f`` times each published
    district figure (``district_recent.csv``) at every quarter, 1 elsewhere."""
    known = {(o.adcode, o.indicator): o.value for o in district_observations()}
    codes = sorted({a for a, _ in known} | {500101})
    rows = [(y, q, a) for y in (2023, 2024) for q in (1, 2, 3, 4) for a in codes]
    out = {"year": [y for y, _, _ in rows], "quarter": [q for _, q, _ in rows], "adcode": [a for *_, a in rows]}
    for ind in ("tech_enterprises", "high_tech_enterprises"):
        out[ind] = [f * known.get((a, ind), 1.0) for *_, a in rows]
    return out


PATHS = [dict(draw=i, seed=i, frame=frame(f), districts=districts(f)) for i, f in enumerate((0.9, 0.95, 1.0, 1.05, 1.1, 1.15))]


def test_the_origins_in_the_history_forecast_its_held_out_points_from_the_weighted_particles(searched, exact):
    pts = bt.backtest(origins=(2019, 2021), progress=False)
    # origin 2021's runs go on to 2024, three years after it; 2019's three years end in 2022
    assert searched == [(2021, 2024), (2019, 2022)] and list(pts.origin.unique()) == [2021, 2019]
    obs = C.observed()
    later = observations(through=2024)
    dlater = [o for o in district_observations() if o.year <= 2024]
    for origin, years in ((2021, {2022, 2023, 2024}), (2019, {2020, 2021, 2022})):
        got = pts[pts.origin == origin]
        assert set(got.year) == years and (got.horizon == got.year - origin).all()
        assert len(got) == int(((obs.year > origin) & (obs.year <= origin + 3)).sum()) + (
            len(later) + len(dlater) if origin == 2021 else 0)
    history = pts[pts.year <= 2022]
    assert set(history.kind) == {"level"} and history.trend_comparable.all()
    # the figures published since are forecast as the update's paths forecast them: each of its
    # own kind, a gross flow or a district figure without a trend
    after = pts[pts.year > 2022]
    assert sorted(after[~after.series.str.contains("@")].kind) == sorted(o.kind for o in later)
    assert set(after[~after.trend_comparable].series) >= {o.series for o in dlater}
    city = pts[pts.series != TOO_HIGH]
    assert np.allclose(city.p50, city.observed) and city.in90.all()
    assert np.allclose(pts.ess, 1 / (0.75 ** 2 + 0.25 ** 2)) and (pts.simulations == 120).all()
    assert pts.source.str.contains("generation 2 of 3: the last whose ESS is at least 10 %").all()
    with pytest.raises(CalibrationError, match="origin 2018"):
        bt.backtest(origins=(2018,))
    with pytest.raises(CalibrationError, match="update's paths"):
        bt.backtest(origins=(2022,))


def test_each_point_gets_its_weighted_crps_and_the_trend_of_its_published_history(searched, exact):
    p, table, words, used = scored_backtest(bt.backtest(origins=(2019, 2021), progress=False))
    # at the value with weight 0.75, 20 % above with 0.25: E|X−y| − ½E|X−X'| = 0.05·y − 0.0375·y
    city = p[p.series != TOO_HIGH]
    assert np.allclose(city.crps, 0.0125 * city.observed)
    hist = actors.load_city_history().query("indicator == 'tech_enterprises' and year <= 2019")
    tf = trend_forecast(hist.set_index("year")["value"], 2019, horizons=(1, 2, 3))
    got = p[(p.origin == 2019) & (p.series == "tech_enterprises")].sort_values("year")
    assert got.trend_p50.to_numpy() == pytest.approx(tf.p50.to_numpy())
    assert got.trend_p05.to_numpy() == pytest.approx(tf.p05.to_numpy())
    assert (got.trend_crps > 0).all()
    # a district figure with one or two published years has no trend: counted, not scored
    district = p[p.series.str.contains("@")]
    assert len(district) and district.trend_p50.isna().all()
    assert set(table.series) >= {"district figures", "tech_enterprises", "all"}
    assert any(f"loses to the trend at horizon 1 for {TOO_HIGH}" in s for s in words)
    assert used == ["rd_expenditure 2023 = 750 (preliminary)", "rd_intensity 2023 = 2.45 (preliminary)"]


def test_the_origins_after_the_fit_use_the_update_paths_equally_then_weighted_by_the_2023_figures(monkeypatch, exact):
    monkeypatch.setattr(bt, "search", lambda **kw: pytest.fail("no search after 2021"))
    pts = bt.backtest(origins=(2022, 2023), paths=PATHS, progress=False)
    published = [o for o in observations() if o.year <= 2024]
    dpublished = district_observations()
    late = pts[pts.origin == 2022]
    assert sorted(zip(late.series, late.year, late.kind)) == sorted(
        [(o.indicator, o.year, o.kind) for o in published] + [(o.series, o.year, "level") for o in dpublished])
    # a district figure is forecast as the paths' value at its quarter's end, not scored against a trend
    near = late[late.series == "tech_enterprises@500153"].iloc[0]
    assert near.p50 == pytest.approx(1557) and not near.trend_comparable
    assert set(late.horizon) == {1, 2} and late.ess.iloc[0] == pytest.approx(len(PATHS))
    last = pts[pts.origin == 2023]
    assert set(last.year) == {2024} and set(last.horizon) == {1}
    dknown = district_observations(through=2023)
    ll = upd.weigh(upd.frames_of(PATHS), observations(through=2023), upd.district_values_of(PATHS, dknown), dknown)
    assert (ll != upd.weigh(upd.frames_of(PATHS), observations(through=2023))).all()   # the districts count too
    w = np.exp(ll - ll.max())
    assert last.weights.iloc[0] == pytest.approx(w / w.sum()) and last.ess.iloc[0] < len(PATHS)
    flows = {(o.indicator, o.year) for o in published if o.is_flow}
    assert not pts[[(s, y) in flows for s, y in zip(pts.series, pts.year)]].trend_comparable.any()
    p, *_ = scored_backtest(pts)
    assert p[~p.trend_comparable].trend_p50.isna().all() and p[p.trend_comparable].trend_p50.notna().all()
    hi = p[(p.series == "high_tech_enterprises") & (p.year == 2024)].set_index("origin")
    assert hi.loc[2022, "p50"] == pytest.approx(9200)          # the middle path, f = 1.0 (equal weights)
    with pytest.raises(CalibrationError, match="end in 2023"):
        bt.backtest(origins=(2023,), paths=[dict(r, frame={k: v[:4] for k, v in r["frame"].items()}) for r in PATHS])
    with pytest.raises(CalibrationError, match="no district stocks"):
        bt.backtest(origins=(2022,), paths=[{k: v for k, v in r.items() if k != "districts"} for r in PATHS])


def test_a_published_figure_is_forecast_with_its_stated_error_around_the_models_value():
    # one simulated value, a level of a verified figure: the predictive is log-normal around it
    sigma = bt.history_sigma("high_tech_enterprises", "verified")
    assert sigma == pytest.approx(np.hypot(0.02, 0.04))
    assert bt.history_sigma("high_tech_enterprises_added", "verified") == pytest.approx(np.hypot(0.02, 0.12))
    assert bt.history_sigma("tech_enterprises@500113", "verified") > 0.25 and bt.history_sigma("tier_agreement", "verified") == 0
    values, weights = np.full(400, 1000.0), np.ones(400)
    v, w = bt.predictive(values, weights, sigma, "2022:x:2024:level")
    assert len(v) == len(w) == 400 * bt.ERROR_DRAWS
    q05, q50, q95 = (bt.weighted_quantile(v, w, q) for q in (0.05, 0.5, 0.95))
    assert q05 == pytest.approx(1000 * np.exp(-1.645 * sigma), rel=0.01) and q50 == pytest.approx(1000, rel=0.005)
    assert q95 == pytest.approx(1000 * np.exp(1.645 * sigma), rel=0.01)
    again, _ = bt.predictive(values, weights, sigma, "2022:x:2024:level")
    other, _ = bt.predictive(values, weights, sigma, "2023:x:2024:level")
    assert np.array_equal(v, again) and not np.array_equal(v, other)          # seeded by the point
    assert bt.predictive(values, weights, 0.0, "k")[0] is values
    # so a point's band is wider than its paths' own spread
    pts = bt.path_points([pd.DataFrame(p["frame"]) for p in PATHS], 2022, observations())
    hi = pts[(pts.series == "high_tech_enterprises") & (pts.year == 2024)].iloc[0]
    assert hi.p95 - hi.p05 > 1.15 * 9200 - 0.9 * 9200


def run_cli(args):
    parser = argparse.ArgumentParser()
    C.add_arguments(parser)
    return C.main(parser.parse_args(args))


def test_calibrate_backtest_writes_tables_that_read_back_and_a_report_with_the_verdict(tmp_path, monkeypatch, capsys,
                                                                                       searched):
    monkeypatch.setattr(upd, "paths", lambda cal, through, scale, seed, per_draw, **kw: PATHS)
    path = tmp_path / "cal.toml"
    path.write_text("[parameters.behaviour]\nbass_q = 0.5\n", "utf-8")
    args = ["--backtest", "--out", str(path), "--workers", "1", "--quiet", "--origins", "2019,2022,2023",
            "--population", "50"]
    assert run_cli(args) == 0 and run_cli(args) == 0                 # a second run replaces the first
    text = path.read_text("utf-8")
    assert text.count("[backtest]") == 1 and "backtest written to" in capsys.readouterr().out
    b = C.load_calibration(path)["backtest"]
    assert b["origins"] == [2023, 2022, 2019] and b["population"] == 50 and b["update_per_draw"] == upd.DEFAULTS["per_draw"]
    assert b["update_paths"] == len(PATHS) and "750" in b["trend_history"]
    o = b["origin_2019"]
    assert set(o["horizon"]) == {1, 2, 3} and len(o["crps"]) == len(o["trend_p50"]) == o["points"]
    assert o["generations_run"] == 3 and "ABC-SMC" in o["source"]
    assert "equally weighted" in b["origin_2022"]["source"] and "2023" in b["origin_2023"]["source"]
    sk = b["skill"]
    assert "all" in sk["horizon"] and {1, 2, 3} <= set(sk["horizon"]) and len(sk["skill"]) == len(sk["kind"])
    assert b["aim_coverage50"] == [0.35, 0.65] and b["aim_met"] is False
    page = forecast_quality_html(path)
    for sentence in b["verdict"]:
        assert html.escape(sentence) in page
    assert re.search(r"<li class=miss>The model loses to the trend at horizon \d for rd_expenditure", page)
    assert "does not meet" in page and "2019, 2022, 2023" in page
    # the district bands' coverage: the hand-made district figures of 2019's points and the six of 2023-2024
    d_points = sum(s.count("@") for o in ("origin_2019", "origin_2022", "origin_2023") for s in b[o]["series"])
    assert b["district_points"] == d_points > 6 and 0 <= b["district_coverage90"] <= 1
    assert f"of the {d_points} districts' own figures held out" in page
    # a damaged table is named
    for old, new, key in (("\nverdict = [", "\nverdicts = [", "backtest.verdicts"),
                          ("\ntrend_crps = [", "\ntrend_crps = [1.0, ", "backtest.skill.trend_crps"),
                          ("\ncrps = [", "\ncrps = [1.0, ", "backtest.origin_2023.crps")):
        path.write_text(text.replace(old, new, 1), "utf-8")
        with pytest.raises(CalibrationError, match=re.escape(key)):
            C.load_calibration(path)
    path.write_text(text, "utf-8")
    assert run_cli(["--backtest", "--out", str(path), "--origins", "2018", "--quiet"]) == 2
    assert "--origins: allowed 2019, 2020, 2021, 2022, 2023" in capsys.readouterr().err


def test_a_backtest_written_before_the_trend_still_reads_and_says_so(tmp_path):
    path = tmp_path / "cal.toml"
    path.write_text("""[parameters.behaviour]
bass_q = 0.5

[backtest]
method = "old"
created = "2024-01-01T00:00:00Z"
origins = [2020]
points = 1
coverage50 = 1.0
coverage90 = 1.0
median_ape = 0.0
mean_ape = 0.0
aim_coverage90 = 0.85
aim_median_ape = 8.0
aim_met = true

[backtest.by_kind]
kind = ["city levels"]
points = [1]
coverage50 = [1.0]
coverage90 = [1.0]
median_ape = [0.0]
mean_ape = [0.0]

[backtest.origin_2020]
points = 1
coverage50 = 1.0
coverage90 = 1.0
median_ape = 0.0
mean_ape = 0.0
series = ["tech_enterprises"]
year = [2021]
observed = [1.0]
p05 = [1.0]
p25 = [1.0]
p50 = [1.0]
p75 = [1.0]
p95 = [1.0]
ape = [0.0]
in50 = [true]
in90 = [true]
""", "utf-8")
    assert C.load_calibration(path)["backtest"]["origins"] == [2020]
    assert "predates the comparison with a plain trend" in forecast_quality_html(path)
