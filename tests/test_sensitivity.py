"""Sensitivity analysis: SALib problems over the levers, their mapping to parameter sets, the
index computations (checked on functions whose indices are known), and real model runs."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sim import Params
from sim.experiments import sensitivity as sa
from sim.experiments.scenarios import load
from sim.params.parameters import describe

PARAMS = {r["key"]: r for r in describe()}


def test_default_problem_covers_the_study_levers_inside_their_allowed_ranges():
    pr = sa.problem()
    assert pr["num_vars"] == len(pr["names"]) == len(pr["bounds"]) == len(sa.STUDY_RANGES)
    for name, (lo, hi) in zip(pr["names"], pr["bounds"]):
        row = PARAMS[name]
        assert row["lever"], name
        if pr["kinds"][name] == "discrete":
            assert (lo, hi) == (0.0, 1.0) and set(pr["choices"][name]) <= set(row["choices"] or (False, True))
        else:
            assert lo < hi
            assert row["lo"] is None or lo >= row["lo"]
            assert row["hi"] is None or hi <= row["hi"]
            assert lo <= row["value"] <= hi, f"{name}: the documented default lies outside the study range"


@pytest.mark.parametrize("levers, message", [
    ({"guiding_fund.annual_budjet": (1, 2)}, "not a parameter"),
    ({"guiding_fund.annual_budget": (10, 500)}, "leaves the allowed"),
    ({"guiding_fund.annual_budget": (10, 5)}, "lo must be below hi"),
    ({"guiding_fund.allocation": ("equal", "lottery")}, "choices must come from"),
    ({"platforms.zone_upgrades": ((),)}, "only numbers, rules and switches"),
    (["behaviour.link_decay"], "no study range"),
    ({}, "at least one lever"),
])
def test_bad_problems_are_refused_with_the_reason(levers, message):
    with pytest.raises(sa.SensitivityError, match=message):
        sa.problem(levers)


def test_sample_points_become_validated_params():
    pr = sa.problem({"guiding_fund.allocation": ("equal", "need", "competitive"), "paired.enabled": (False, True),
                     "platforms.zone_upgrade_year": (2023, 2030), "paired.intensity": (0.0, 3.0)})
    X = np.array([[0.0, 0.0, 2023.4, 0.0],
                  [0.34, 0.49, 2026.6, 1.5],
                  [0.999, 0.51, 2030.0, 3.0]])
    ps = sa.to_params(pr, X, scale=0.1)
    assert [p.guiding_fund.allocation for p in ps] == ["equal", "need", "competitive"]
    assert [p.paired.enabled for p in ps] == [False, False, True]
    assert [p.platforms.zone_upgrade_year for p in ps] == [2023, 2027, 2030]
    assert [p.paired.intensity for p in ps] == [0.0, 1.5, 3.0]
    assert all(p.scale == 0.1 for p in ps)
    # everything else stays at the base
    assert ps[0].finance == Params().finance
    values = sa.factor_values(pr, X)
    assert list(values.columns) == pr["names"] and values.iloc[1, 0] == "need"
    with pytest.raises(sa.SensitivityError, match="columns"):
        sa.to_params(pr, X[:, :2])


def test_the_base_can_be_a_scenario():
    pr = sa.problem(["paired.intensity"])
    (p,) = sa.to_params(pr, [[2.0]], base="finance_push", scale=0.05)
    finance_push = load("finance_push").params
    assert p.finance == finance_push.finance and p.finance != Params().finance
    assert p.paired.intensity == 2.0 and p.scale == 0.05
    assert sa.base_params(None) == Params()
    with pytest.raises(sa.SensitivityError, match="base"):
        sa.base_params(3)


# ---- the analyses on functions whose indices are known ----------------------------------------
def _unit(pr, X):
    lo, hi = np.array(pr["bounds"]).T
    return (X - lo) / (hi - lo)


def test_sobol_indices_of_a_linear_function_and_of_ishigami():
    pr = sa.problem({"guiding_fund.annual_budget": (5.0, 30.0), "paired.intensity": (0.0, 3.0),
                     "talent.commissioners": (0.0, 3.0)})
    X = sa.sample_sobol(pr, 1024)
    assert X.shape == (1024 * (3 + 2), 3)
    u = _unit(pr, X)
    # y = 4a + b (+ 0·c): S1 = ST = 16/17, 1/17, 0
    lin = sa.analyze_sobol(pr, pd.DataFrame({"lin": 4 * u[:, 0] + u[:, 1]})).set_index("factor")
    assert np.allclose(lin["S1"], [16 / 17, 1 / 17, 0], atol=0.05)
    assert np.allclose(lin["ST"], [16 / 17, 1 / 17, 0], atol=0.05)
    # Ishigami (a = 7, b = 0.1): S1 = .314, .442, 0; ST = .558, .442, .244
    a, b, c = (u * 2 * np.pi - np.pi).T
    ish = sa.analyze_sobol(pr, pd.DataFrame({"ish": np.sin(a) + 7 * np.sin(b) ** 2 + 0.1 * c ** 4 * np.sin(a)}))
    ish = ish.set_index("factor")
    assert np.allclose(ish["S1"], [0.314, 0.442, 0.0], atol=0.08)
    assert np.allclose(ish["ST"], [0.558, 0.442, 0.244], atol=0.08)
    # an output that does not vary has no indices rather than a division by zero
    flat = sa.analyze_sobol(pr, pd.DataFrame({"flat": np.ones(len(X))}))
    assert flat[["S1", "ST"]].isna().all().all()


def test_morris_effects_of_a_linear_function_span_each_factors_range():
    pr = sa.problem({"guiding_fund.annual_budget": (5.0, 30.0), "paired.intensity": (0.0, 3.0)})
    X = sa.sample_morris(pr, 10)
    assert X.shape == (10 * 3, 2)
    u = _unit(pr, X)
    m = sa.analyze_morris(pr, X, pd.DataFrame({"lin": 4 * u[:, 0] - u[:, 1]})).set_index("factor")
    assert np.allclose(m["mu"], [4, -1]) and np.allclose(m["mu_star"], [4, 1]) and np.allclose(m["sigma"], 0, atol=1e-9)
    assert list(m["mu_star_norm"]) == [1.0, 0.25]
    assert sa.important(m.reset_index(), k=1) == ["guiding_fund.annual_budget"]


def test_a_sobol_sample_size_that_is_not_a_power_of_two_is_warned_about():
    with pytest.warns(UserWarning, match="power of 2"):
        sa.sample_sobol(sa.problem(["paired.intensity"]), 12)


# ---- real model runs ---------------------------------------------------------------------------
SMALL = dict(scale=0.02, until=2025, seed=7)


def test_identical_sample_points_give_identical_outputs_and_factors_travel_with_the_runs():
    pr = sa.problem({"cultivation.super_deduction": (0.5, 1.5), "guiding_fund.allocation": ("equal", "need")})
    X = np.array([[1.0, 0.2], [1.0, 0.2], [1.5, 0.9]])
    runs = sa.evaluate(pr, X, outputs=("T2", "rd_per_capita_theil"), replicates=2, **SMALL)
    assert list(runs.columns[:4]) == ["run", "replicate", "T2", "rd_per_capita_theil"]
    assert len(runs) == 6
    a, b = (runs[runs["run"] == i].set_index("replicate")[["T2", "rd_per_capita_theil"]] for i in (0, 1))
    pd.testing.assert_frame_equal(a, b)                   # same point, same seeds: same result
    assert not a.equals(runs[runs["run"] == 2].set_index("replicate")[["T2", "rd_per_capita_theil"]])
    assert list(runs.loc[runs["run"] == 2, "guiding_fund.allocation"]) == ["need", "need"]
    with pytest.raises(sa.SensitivityError, match="unknown output"):
        sa.evaluate(pr, X, outputs=("T9",), **SMALL)


def test_morris_on_the_model_ranks_the_super_deduction_above_the_fund_of_funds_for_t2():
    """The lever table of docs/LIBRARY.md: the super-deduction lowers the cost of R&D and so raises
    certifications strongly; the cultivation fund-of-funds reaches few firms by 2025."""
    pr = sa.problem({"cultivation.super_deduction": (0.5, 1.5), "finance.fund_of_funds_size": (0.0, 60.0)})
    m = sa.morris(pr, outputs=("T2",), trajectories=3, **SMALL).set_index("factor")
    assert m.attrs["runs"] == 3 * 3
    assert m.loc["cultivation.super_deduction", "mu"] > 0
    assert m.loc["cultivation.super_deduction", "mu_star"] > 5 * m.loc["finance.fund_of_funds_size", "mu_star"]


def test_sobol_on_the_model_returns_indices_for_each_output():
    pr = sa.problem({"cultivation.super_deduction": (0.5, 1.5), "finance.fund_of_funds_size": (0.0, 60.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s, runs = sa.sobol(pr, outputs=("T2", "rd_per_capita_theil"), n=4, return_runs=True, **SMALL)
    assert len(runs) == 4 * (2 + 2)
    assert list(s["output"]) == ["T2", "T2", "rd_per_capita_theil", "rd_per_capita_theil"]
    t2 = s[s["output"] == "T2"].set_index("factor")
    assert t2.loc["cultivation.super_deduction", "ST"] > t2.loc["finance.fund_of_funds_size", "ST"]
    table = sa.ranking(s)
    assert list(table.columns) == ["T2", "rd_per_capita_theil", "overall"]
