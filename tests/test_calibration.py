"""Hindcast from 2017 and calibration against the published 2017–2022 series."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import InnovationModel, ParamError, Params, calibration as C
from sim.data import actors, identity

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(population=6, budget=40, generations=2, accept=0.5, scale=0.03, eval_scale=0.03, replicates=2, top=2,
            refine=6, refine_replicates=1, progress=False)


def hindcast_model(scale=0.02, seed=1, **behaviour):
    return InnovationModel(Params().with_overrides({"start_year": 2017, "behaviour": behaviour}), seed=seed, scale=scale)


def test_hindcast_starts_from_the_published_2017_city_totals():
    model = hindcast_model(scale=1.0)
    df = model.datacollector.get_model_vars_dataframe()
    assert (model.year, model.quarter) == (2017, 4)
    assert df["tech_enterprises"].iloc[0] == 6725
    assert df["high_tech_enterprises"].iloc[0] == 2027
    assert df["rd_expenditure"].iloc[0] == pytest.approx(361.0)
    assert df["rd_intensity"].iloc[0] == pytest.approx(1.88, abs=0.005)
    # research units opened after 2017 are not there yet; 永川 and 荣昌 zones were municipal
    assert all(u.name_zh != "金凤实验室" for u in model.universities)
    zones = {d.short_zh: d.hightech_zone for d in model.district_list}
    assert zones["永川"] == zones["荣昌"] == "municipal" and zones["綦江"] == "none"
    assert model.innovative_counties_start == 0
    model.release()


def test_hindcast_runs_under_the_policy_environment_of_each_year_then_the_scenario():
    model = hindcast_model()
    seen = {}
    for _ in range(24):
        model.step()
        if model.quarter == 1:
            p = model.params
            seen[model.year] = (p.paired.enabled, p.platforms.programme, p.guiding_fund.annual_budget,
                                p.finance.credit_annual_lending, p.consortia.enabled)
    assert seen[2018] == (False, False, 5.0, 9.46, False)
    assert seen[2020][0] is True and seen[2020][3] == 86.6
    assert seen[2021][2] == 10.0 and seen[2022][4] is True
    assert seen[2023] == (True, True, 10.0, 72.0, True)  # from 2023 on, the scenario's own levers
    zones = {d.short_zh: d.hightech_zone for d in model.district_list}
    assert zones["永川"] == zones["荣昌"] == "national" and zones["綦江"] == "municipal"
    model.release()


def test_super_deduction_history_raises_rd_relative_to_2017_prices():
    """The 2018 rise of the rate for non-SME firms (50 % -> 75 %) lowers their R&D cost, so the
    hindcast's R&D price factor of those firms is above one in 2018."""
    model = hindcast_model(scale=0.05)
    for _ in range(4):
        model.step()
    pop = model.firms
    other = pop.col("alive") & ~pop.col("registered")
    factor = pop.col("rd_rate")[other] / pop.col("rd_base")[other]
    assert np.median(factor) > 1.0
    model.release()


def test_a_start_year_without_a_start_state_is_named():
    with pytest.raises(ParamError, match="start_year.*up to the latest, 2024; got 2019"):
        InnovationModel(Params().with_overrides(start_year=2019), scale=0.02)


def test_observed_points_stop_in_2022():
    obs = C.observed()
    assert obs["year"].max() == 2022 and obs["year"].min() >= 2018
    district = obs.series.str.contains("@")
    assert set(obs.series[~district]) == set(C.FIT_SERIES) | {"tier_agreement"}
    # Every district figure is compared in its year, in its indicator's unit.
    hist = actors.load_district_history()
    assert district.sum() == len(hist) and hist.year.max() <= 2022
    assert obs.set_index(["series", "year"]).loc[("high_tech_enterprises@500107", 2020), "value"] == 432
    tech = obs[obs.series == "tech_enterprises"].set_index("year")["value"]
    assert tech[2022] == 42989 and tech[2018] == 11026
    added = obs[obs.series == "tech_enterprises_added"].set_index("year")["value"]
    assert added[2022] == 42989 - 36939 and added[2018] == 11026 - 6725      # the slowdown the distance sees
    early = C.observed(last_year=2020)                 # a backtest's fit: nothing after its origin
    assert early["year"].max() == 2020 and not {"rd_share_central_urban", "tier_agreement"} & set(early.series)
    assert "tech_enterprises@500113" in set(early.series) and "rd_intensity@500106" not in set(early.series)
    with pytest.raises(C.CalibrationError, match="2018 to 2022"):
        C.observed(last_year=2023)


def test_fit_errors_are_zero_on_the_published_points_and_grow_with_the_gap():
    obs = C.observed()
    runs = pd.DataFrame({"replicate": 0, "year": obs.year, "series": obs.series, "value": obs.value})
    err = C.fit_errors(runs)
    assert np.allclose(err["mape"], 0.0) and C.distance(err) == pytest.approx(0.0)
    runs["value"] *= 1.1
    err = C.fit_errors(runs)
    assert np.allclose(err["mape"], 10.0)


def test_tiny_calibration_improves_the_fit_and_writes_a_loadable_file(tmp_path):
    result = C.calibrate(seed=5, workers=1, history=tmp_path / "abc.db", **TINY)
    assert result.distance < C.distance(result.start_errors), "the fit must improve on the starting parameters"
    assert len(result.generations) == TINY["generations"] and len(result.posterior) == TINY["population"]
    assert result.posterior["weight"].sum() == pytest.approx(1.0)
    assert set(result.parameters) == {f.key for f in C.FREE} | set(C.DERIVED)
    assert (tmp_path / "abc.db").stat().st_size > 0          # the SQLite history a notebook can read
    path = C.write_calibration(result, tmp_path / "cal.toml", posterior_draws=10)
    cal = C.load_calibration(path)
    assert cal["meta"]["seed"] == 5 and len(cal["meta"]["data_version"]["city_history.csv"]) == 64
    assert cal["fit"]["tech_enterprises"]["years"] == [2018, 2019, 2020, 2021, 2022]
    assert cal["fit"]["tech_enterprises"]["mape"] == pytest.approx(result.errors.loc["tech_enterprises", "mape"], rel=1e-5)
    for f in C.FREE:
        section, key = f.key.split(".")
        u = cal["uncertainty"][section][key]
        assert f.lo <= u["q05"] <= u["q50"] <= u["q95"] <= f.hi
    params = C.calibrated_params(path)
    assert params.behaviour.bass_q == pytest.approx(result.parameters["behaviour.bass_q"])
    draws = C.posterior_samples(path)
    assert len(draws) == 10 and set(draws[0]) == {f.key for f in C.FREE} | set(C.DERIVED)
    assert len(cal["search"]["ess"]) == TINY["generations"]
    # the generation the posterior is taken from, counted as [search] lists them, and its ESS
    chosen = cal["meta"]["posterior_generation"]
    assert cal["search"]["ess"][chosen - 1] == pytest.approx(result.ess, abs=0.01)
    assert result.ess >= 0.1 * TINY["population"]
    bad = path.read_text().replace(f"posterior_generation = {chosen}\n", "posterior_generation = 9\n")
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(C.CalibrationError, match="meta.posterior_generation"):
        C.load_calibration(tmp_path / "bad.toml")
    png = C.plot_hindcast(result.band, tmp_path / "hindcast.png", result.errors)
    assert png.stat().st_size > 10_000


def test_calibration_is_reproducible_from_its_seed_whatever_the_workers():
    small = {**TINY, "population": 4, "budget": 8, "generations": 1, "refine": 3, "top": 1, "replicates": 1}
    a = C.calibrate(seed=9, workers=1, **small)
    b = C.calibrate(seed=9, workers=2, **small)
    assert a.parameters == b.parameters
    pd.testing.assert_frame_equal(a.errors, b.errors)
    pd.testing.assert_frame_equal(a.posterior, b.posterior)


def test_a_stopped_search_resumes_from_its_history_as_if_it_had_not_stopped(tmp_path):
    from sim.calibration.search import search
    kw = dict(population=4, budget=100, scale=0.02, seed=4, progress=False)
    whole = search(generations=2, **kw)
    search(generations=1, database=tmp_path / "h.db", **kw)            # stopped after one generation
    resumed = search(generations=2, database=tmp_path / "h.db", **kw)
    pd.testing.assert_frame_equal(whole.posterior, resumed.posterior)
    with pytest.raises(C.CalibrationError, match="other settings"):
        search(generations=2, database=tmp_path / "h.db", **{**kw, "scale": 0.03})


def test_the_posterior_is_the_last_generation_whose_weights_are_worth_a_tenth_of_its_particles():
    from sim.calibration.search import posterior_generation
    gens = lambda *ess: pd.DataFrame({"generation": range(len(ess)), "ess": ess})  # noqa: E731
    assert posterior_generation(gens(200.0, 30.0, 4.7), 200) == 1        # a collapsed last generation is passed over
    assert posterior_generation(gens(200.0, 7.1, 20.0), 200) == 2        # an earlier collapse does not matter
    assert posterior_generation(gens(200.0, 19.9, 3.0), 200) == 0
    assert posterior_generation(gens(4.0, 0.3), 4) == 0 and posterior_generation(gens(4.0, 0.4), 4) == 1


def test_a_backtests_search_carries_its_runs_on_past_2022_and_keeps_the_same_particles(tmp_path):
    from sim.calibration.search import search
    kw = dict(population=4, budget=100, generations=2, scale=0.02, seed=5, last_year=2021, progress=False)
    plain = search(**kw)
    on = search(database=tmp_path / "h.db", forecast_through=2024, **kw)
    later = [c for c in on.posterior.columns if c.startswith("stat:later:")]
    assert "stat:later:high_tech_enterprises:2024:level" in later and not any("later" in c for c in plain.posterior)
    # the statistics after 2022 are recorded, never fitted: the search keeps the same particles
    pd.testing.assert_frame_equal(on.posterior.drop(columns=later), plain.posterior)
    assert (on.posterior[later].to_numpy() > 0).any() and on.posterior[later].nunique().max() > 1
    with pytest.raises(C.CalibrationError, match="other settings"):    # a history without them is another search
        search(database=tmp_path / "h.db", **kw)


def test_the_committed_calibration_has_a_posterior_of_at_least_200_draws():
    draws = C.posterior_samples()
    assert len(draws) >= 200
    assert len({tuple(sorted(d.items())) for d in draws}) > 50, "the sample should not be a few particles repeated"


def test_the_committed_calibration_reproduces_its_stated_fit():
    cal = C.load_calibration()
    meta = cal["meta"]
    assert meta["fit_years"][-1] <= 2022 and meta["start_year"] == 2017
    assert meta["data_version"]["city_history.csv"] == C.data_version()["city_history.csv"], \
        "the history changed since the calibration: re-run `python run.py calibrate`"
    errors, stated = C.evaluate(workers=2)
    for series, row in errors.iterrows():
        assert row["mape"] == pytest.approx(stated[series]["mape"], abs=0.01), \
            f"{series}: stated MAPE {stated[series]['mape']}, re-evaluated {row['mape']:.4f}; re-run `python run.py calibrate`"


def test_the_baseline_scenario_uses_the_committed_calibration():
    from sim.experiments.scenarios import load

    cal = C.load_calibration()
    params = load("baseline").params
    for key, value in cal["parameters"]["behaviour"].items():
        assert getattr(params.behaviour, key) == pytest.approx(value), key


def test_bad_options_exit_2_with_the_option_named(tmp_path):
    out = subprocess.run([sys.executable, "run.py", "calibrate", "--scale", "5", "--out", str(tmp_path / "c.toml")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--scale" in out.stderr and "0.001 to 1" in out.stderr
    assert "Traceback" not in out.stderr


def test_malformed_hindcast_data_is_named(tmp_path):
    import shutil

    from sim.core.hindcast import load_policy_environment
    from sim.data import datasets
    from sim.data.tables import DataError

    data = tmp_path / "data"
    shutil.copytree(identity.DATA_DIR, data, ignore=shutil.ignore_patterns("tools", "*.toml"))
    env = data / "policy_environment.csv"
    lines = env.read_text("utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if ",paired.enabled," in line)
    lines[row] = lines[row].replace(",paired.enabled,", ",paired.enabeld,")
    env.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(DataError, match=rf"policy_environment.csv, row {row + 1}, column key.*paired.enabeld"):
        load_policy_environment(data)
    hind = data / "hindcast_2017.csv"
    text = hind.read_text("utf-8").replace("500101,rd_expenditure,2017,4.6224", "500101,rd_expenditure,2017,40.6224")
    hind.write_text(text, "utf-8")
    with pytest.raises(DataError, match="rd_expenditure 2017 sums to .*city total is 361"):
        datasets.load_hindcast_indicators(data)


def test_backtest_coverage_is_counted_from_weighted_bands_and_reaches_file_and_report(tmp_path, monkeypatch):
    import importlib
    from sim.calibration.backtest import forecast_points, weighted_quantile
    from sim.report.html import forecast_quality_html
    # the particles' own values (the published figure's error is tested in test_backtest.py)
    monkeypatch.setattr(importlib.import_module("sim.calibration.backtest"), "predictive",
                        lambda values, weights, sigma, key: (values, weights))

    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.1, 0.8]), 0.5) == 3.0
    obs = C.observed()
    held = obs[obs.year > 2020]
    # Two particles: one at the published values (weight 0.9), one 50 % above them (weight 0.1).
    post = pd.DataFrame({"weight": [0.9, 0.1], **{f"stat:{r.series}:{r.year}": [r.value, 1.5 * r.value]
                                                   for r in held.itertuples()}})
    # a search that did not carry its runs past 2022 cannot forecast 2023 from 2020: named, not a KeyError
    with pytest.raises(C.CalibrationError, match="origin 2020: its search did not run on past 2022"):
        forecast_points(post, 2020)
    # the figures after 2022 are forecast as in test_backtest.py; here the history's points alone
    monkeypatch.setattr(importlib.import_module("sim.calibration.backtest"), "later_observations",
                        lambda through, data_dir=None: ([], []))
    pts = forecast_points(post, 2020)
    assert len(pts) == len(held) and set(pts.year) == {2021, 2022} and set(pts.horizon) == {1, 2}
    assert pts.in50.all() and pts.in90.all() and np.allclose(pts.ape, 0.0)
    path = tmp_path / "cal.toml"
    path.write_text('[parameters.behaviour]\nbass_q = 0.5\n', "utf-8")
    C.write_backtest(pts, dict(population=2, search_scale=0.1), path)
    C.write_backtest(pts, dict(population=2, search_scale=0.1), path)        # replaces, never appends twice
    bt = C.load_calibration(path)["backtest"]
    assert bt["origins"] == [2020] and bt["coverage90"] == 1.0 and bt["points"] == len(held)
    assert bt["aim_met"] is False            # no held-out point three years ahead: the skill aim is not judged
    assert bt["origin_2020"]["series"][0] == "tech_enterprises"
    # Held-out district figures and the 2022 tiers are counted, each as one group, but have no trend to score.
    sk = bt["skill"]
    assert sum(n for h, k, n in zip(sk["horizon"], sk["kind"], sk["n"]) if h == k == "all") == len(held)
    assert 0 < bt["scored"] < len(held)
    page = forecast_quality_html(path)
    assert "100%" in page and "does not meet" in page and "2020" in page
    assert "Aim not judged" in page and "渝北区" in page
    assert "holds no backtest" in forecast_quality_html(tmp_path / "missing.toml")
    assert "without a calibration file" in forecast_quality_html(None)
