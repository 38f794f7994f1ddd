"""The backtest's scoring: CRPS, the trend benchmark, the score table and its verdict."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from sim.calibration.skill import (ALL, REQUIRED, add_trend, crps_lognormal, crps_normal, crps_sample, score,
                                   trend_forecast, verdict)

Q = ("p05", "p25", "p50", "p75", "p95")


def crps_by_integral(cdf, y, lo, hi):
    """The definition: the integral of (F(x) − 1{x ≥ y})²."""
    below = integrate.quad(lambda x: cdf(x) ** 2, lo, y, limit=200)[0]
    above = integrate.quad(lambda x: (1.0 - cdf(x)) ** 2, y, hi, limit=200)[0]
    return below + above


def test_crps_of_a_point_mass_is_the_absolute_error():
    assert crps_sample(np.full(50, 5.0), 3.0) == pytest.approx(2.0, abs=1e-12)
    assert crps_sample([5.0], 7.5) == pytest.approx(2.5)
    assert crps_normal(5.0, 0.0, 3.0) == pytest.approx(2.0)
    assert crps_lognormal(math.log(5.0), 0.0, 3.0) == pytest.approx(2.0)


def test_sorted_crps_equals_the_pairwise_energy_form_with_weights():
    rng = np.random.default_rng(3)
    x, w = rng.gamma(2.0, 3.0, 40), rng.random(40)
    for y in (-1.0, 4.0, 6.5, 30.0):
        p = w / w.sum()
        brute = np.sum(p * np.abs(x - y)) - 0.5 * np.sum(np.outer(p, p) * np.abs(x[:, None] - x[None, :]))
        assert crps_sample(x, y, weights=w) == pytest.approx(brute, rel=1e-12)
        assert crps_sample(x, y) == pytest.approx(crps_sample(x, y, weights=np.ones(40)), rel=1e-12)


def test_crps_sample_stays_accurate_for_large_levels_with_a_narrow_spread():
    x = 43000.0 + np.linspace(-1.0, 1.0, 1001)
    assert crps_sample(x, 43000.0) == pytest.approx(crps_sample(x - 43000.0, 0.0), abs=1e-9)


@pytest.mark.parametrize("mu, sigma, y", [(0.0, 1.0, 0.0), (2.0, 0.5, 3.1), (-1.0, 3.0, 4.0)])
def test_normal_closed_form_matches_the_definition(mu, sigma, y):
    got = crps_normal(mu, sigma, y)
    want = crps_by_integral(stats.norm(mu, sigma).cdf, y, mu - 12 * sigma, mu + 12 * sigma)
    assert got == pytest.approx(want, rel=1e-6)
    if (mu, sigma, y) == (0.0, 1.0, 0.0):
        assert got == pytest.approx((math.sqrt(2.0) - 1.0) / math.sqrt(math.pi))


@pytest.mark.parametrize("mu, sigma, y", [(math.log(100.0), 0.2, 90.0), (0.0, 0.8, 3.0), (1.0, 0.05, 2.0)])
def test_lognormal_closed_form_matches_the_definition(mu, sigma, y):
    dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    want = crps_by_integral(dist.cdf, y, 0.0, dist.ppf(1 - 1e-12))
    assert crps_lognormal(mu, sigma, y) == pytest.approx(want, rel=1e-5)


def test_sample_crps_agrees_with_the_closed_forms_within_monte_carlo_error():
    rng = np.random.default_rng(7)
    n = 20000
    z = rng.standard_normal(n)
    for y in (-0.3, 1.7):
        # the error of a sample CRPS is about the sd of |X − y| over √n (≈ 0.005 here)
        assert crps_sample(2.0 * z + 0.5, y) == pytest.approx(crps_normal(0.5, 2.0, y), abs=0.03)
    mu, sigma = math.log(400.0), 0.15
    draws = np.exp(mu + sigma * z)
    for y in (330.0, 400.0, 520.0, -5.0):
        assert crps_sample(draws, y) == pytest.approx(crps_lognormal(mu, sigma, y), rel=0.02)


def test_crps_functions_broadcast_and_reject_bad_samples():
    v = crps_lognormal(np.array([0.0, 1.0]), 0.3, np.array([1.0, 2.0]))
    assert v.shape == (2,) and v[0] == pytest.approx(crps_lognormal(0.0, 0.3, 1.0))
    with pytest.raises(ValueError):
        crps_sample([], 1.0)
    with pytest.raises(ValueError):
        crps_sample([1.0, np.nan], 1.0)
    with pytest.raises(ValueError):
        crps_sample([1.0, 2.0], 1.0, weights=[1.0, -1.0])


def test_trend_on_an_exactly_geometric_series_has_the_right_median_and_a_narrow_band():
    years = [2015, 2017, 2018, 2019, 2020]          # a two-year gap is still the same yearly growth
    history = pd.Series([100.0 * 1.2 ** (y - 2015) for y in years], index=years)
    tf = trend_forecast(history, 2020)
    assert list(tf.columns) == ["origin", "year", "horizon", "mu", "sigma", *Q]
    assert list(tf.year) == [2021, 2022, 2023] and list(tf.horizon) == [1, 2, 3]
    for r in tf.itertuples():
        assert r.p50 == pytest.approx(100.0 * 1.2 ** (r.year - 2015), rel=1e-9)
        assert r.p95 / r.p05 - 1.0 < 1e-6
        assert crps_lognormal(r.mu, r.sigma, r.p50) < 1e-6 * r.p50


def test_trend_is_the_least_squares_line_of_the_window_and_the_spread_of_all_growth():
    # growth 0.1, 0.2, 0.3: sd 0.1; the last three years set the line
    logs = np.log(100.0) + np.cumsum([0.0, 0.1, 0.2, 0.3])
    history = pd.Series(np.exp(logs), index=[2017, 2018, 2019, 2020])
    tf = trend_forecast(history, 2020, horizons=(1, 2)).set_index("horizon")
    slope = (logs[3] - logs[1]) / 2.0
    at_origin = logs[1:].mean() + slope
    assert tf.loc[1, "mu"] == pytest.approx(at_origin + slope)
    assert tf.loc[2, "p50"] == pytest.approx(math.exp(at_origin + 2 * slope))
    assert tf.loc[1, "sigma"] == pytest.approx(0.1 * math.sqrt(1 + 1 / 2))
    assert tf.loc[2, "sigma"] == pytest.approx(0.1 * math.sqrt(2 + 4 / 2))
    assert tf.loc[1, "p95"] == pytest.approx(math.exp(tf.loc[1, "mu"] + 1.6448536 * tf.loc[1, "sigma"]), rel=1e-6)


def test_trend_on_a_noisy_series_has_ordered_bands_that_widen_with_the_horizon():
    rng = np.random.default_rng(11)
    years = np.arange(2010, 2021)
    history = pd.Series(50.0 * np.exp(np.cumsum(0.15 + 0.05 * rng.standard_normal(len(years)))), index=years)
    tf = trend_forecast(history, 2020, horizons=(1, 2, 3, 4))
    q = tf[list(Q)].to_numpy()
    assert (np.diff(q, axis=1) > 0).all()
    assert ((tf.p05 < tf.p50) & (tf.p50 < tf.p95)).all()
    assert (np.diff(tf.sigma) > 0).all() and (np.diff(tf.p95 - tf.p05) > 0).all()
    assert (np.diff(np.log(tf.p95 / tf.p05)) > 0).all()


def test_trend_reads_nothing_after_the_origin_and_needs_three_years():
    history = pd.Series([10.0, 12.0, 15.0, 17.0], index=[2017, 2018, 2019, 2020])
    later = pd.concat([history, pd.Series([1e6, 1.0], index=[2021, 2022])])
    pd.testing.assert_frame_equal(trend_forecast(history, 2020), trend_forecast(later, 2020))
    with pytest.raises(ValueError):
        trend_forecast(history, 2018)
    with pytest.raises(ValueError):
        trend_forecast(pd.Series([1.0, 0.0, 2.0], index=[2018, 2019, 2020]), 2020)


def test_add_trend_puts_the_trend_and_its_crps_beside_each_point():
    hist = pd.DataFrame(dict(series="x", year=[2017, 2018, 2019, 2020, 2021], value=[10.0, 12.0, 15.0, 17.0, 21.0]))
    pts = pd.DataFrame(dict(origin=[2019, 2019, 2018], series="x", year=[2020, 2021, 2020],
                            observed=[17.0, 21.0, 17.0]))
    out = add_trend(pts, hist)
    tf = trend_forecast(hist.set_index("year")["value"], 2019, horizons=(1, 2))
    assert list(out.horizon) == [1, 2, 2]
    assert out.trend_p50.iloc[:2].to_numpy() == pytest.approx(tf.p50.to_numpy())
    assert out.trend_crps.iloc[1] == pytest.approx(crps_lognormal(tf.mu[1], tf.sigma[1], 21.0))
    assert out.iloc[2][["trend_p50", "trend_crps"]].isna().all()      # two years before 2018: no trend


def point(series, horizon, kind, observed, model, crps, trend, trend_crps):
    return dict(origin=2020, series=series, year=2020 + horizon, horizon=horizon, kind=kind, observed=observed,
                **dict(zip(Q, model)), crps=crps, **{f"trend_{k}": v for k, v in zip(Q, trend)}, trend_crps=trend_crps)


def hand_table():
    return pd.DataFrame([
        point("tech", 1, "level", 100.0, (80, 95, 102, 105, 120), 2.0, (90, 98, 99, 101, 110), 4.0),
        point("tech", 1, "level", 200.0, (100, 150, 170, 190, 250), 20.0, (190, 195, 205, 210, 220), 4.0),
        point("rd", 2, "preliminary", 50.0, (40, 45, 50, 55, 60), 1.0, (30, 35, 38, 42, 48), 10.0),
        point("tech", 1, "expected_year_end_lower_bound", 300.0, (280, 300, 310, 320, 340), np.nan,
              (250, 270, 290, 300, 320), np.nan),
        point("rd", 2, "expected", 2.6, (2.3, 2.4, 2.5, 2.6, 2.7), 0.1, (2.3, 2.4, 2.5, 2.6, 2.7), 0.1),
    ])


def row(table, series=ALL, horizon=ALL, kind=ALL):
    hit = table[(table.series == series) & (table.horizon == horizon) & (table.kind == kind)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_score_gives_the_hand_computed_coverage_error_and_skill():
    t = score(hand_table())
    top = row(t)
    assert (top.n, top.n_scored, top.n_bounds) == (5, 3, 1)
    assert top.model_cover50 == pytest.approx(2 / 3) and top.model_cover90 == pytest.approx(1.0)
    assert top.trend_cover50 == pytest.approx(2 / 3) and top.trend_cover90 == pytest.approx(2 / 3)
    assert top.model_mdape == pytest.approx(2.0) and top.trend_mdape == pytest.approx(2.5)
    assert top.model_crps == pytest.approx((0.02 + 0.10 + 0.02) / 3)
    assert top.trend_crps == pytest.approx((0.04 + 0.02 + 0.20) / 3)
    assert top.skill == pytest.approx(1 - 0.14 / 0.26)
    assert (top.model_bound_met, top.trend_bound_met) == (1.0, 0.0)
    h1 = row(t, horizon=1)
    assert (h1.n, h1.n_scored) == (3, 2)
    assert h1.model_cover50 == pytest.approx(0.5) and h1.model_mdape == pytest.approx(8.5)
    assert h1.skill == pytest.approx(1 - 0.06 / 0.03)
    assert row(t, horizon=2).skill == pytest.approx(1 - 0.02 / 0.2)
    lv = row(t, kind="level")
    assert (lv.n, lv.n_scored) == (2, 2) and lv.trend_cover90 == pytest.approx(1.0)
    bound = row(t, "tech", 1, "expected_year_end_lower_bound")
    assert bound.n_scored == 0 and pd.isna(bound.model_cover90) and pd.isna(bound.skill)
    assert pd.isna(row(t, kind="expected").model_crps)
    assert list(t.columns[:6]) == ["series", "horizon", "kind", "n", "n_scored", "n_bounds"]


def test_score_leaves_unscored_a_point_the_trend_could_not_forecast_and_needs_its_columns():
    pts = hand_table()
    pts.loc[0, ["trend_p50", "trend_crps"]] = np.nan
    top = row(score(pts))
    assert top.n_scored == 2 and top.model_crps == pytest.approx((0.10 + 0.02) / 2)
    with pytest.raises(ValueError, match="trend_crps"):
        score(pts.drop(columns="trend_crps"))
    assert set(REQUIRED) <= set(pts.columns)


def test_verdict_names_the_losing_horizon_and_judges_the_aims():
    lines = verdict(score(hand_table()))
    text = "\n".join(lines)
    assert "the model loses to the trend at horizon 1 for tech" in text.lower()
    assert "horizon 2 for rd" not in text
    assert "Aim met: the 90 % bands cover at least 80 %" in text
    assert "Aim not met: the 50 % bands cover 67 %" in text and "too wide" in text
    assert "Aim not judged: no scored held-out point at horizon 3" in text
    assert "the model's median satisfies 1 and the trend's 0" in text
    assert any(s.startswith("At horizon 2 (1 points)") and "beats the trend" in s for s in lines)


def test_verdict_says_when_the_skill_aim_fails_and_when_it_is_met():
    pts = hand_table()
    three = pts.iloc[[2]].assign(horizon=3, year=2023)
    lose = three.assign(crps=20.0)
    text = "\n".join(verdict(score(pd.concat([pts, lose], ignore_index=True))))
    assert "Aim not met: skill is not above 0 at horizon 3" in text
    assert "the model loses to the trend at horizon 3 for rd" in text.lower()
    text = "\n".join(verdict(score(pd.concat([pts, three], ignore_index=True))))
    assert "Aim met: the model beats the trend (skill > 0) at 2 and 3 years." in text
    assert verdict(score(pts.iloc[[3]])) == [
        "No held-out point is exact enough to score (kinds level, preliminary)."]
