"""The bound on a run's firm rows (sim/core/resolution.py): a run past it continues at a coarser
resolution, with its weighted totals kept, and a run within it is the same run as without it."""

from __future__ import annotations

import numpy as np
import pytest

from sim import InnovationModel
from sim.core import resolution
from sim.experiments import scenarios
from sim.params.parameters import Params

SCALE = 0.05


def _params(bound: int, scale: float = SCALE, **behaviour) -> Params:
    p = scenarios.load("baseline").params.with_overrides(scale=scale, max_firm_rows=bound)
    return p.with_overrides(behaviour=behaviour) if behaviour else p


def _totals(model) -> np.ndarray:
    pop = model.firms
    w = pop.col("weight") * pop.col("alive")
    return np.array([w.sum(), (w * pop.col("registered")).sum(), (w * pop.col("certified")).sum(),
                     (w * pop.col("rd")).sum()])


def test_a_run_within_its_bound_is_the_run_without_one():
    frames = []
    for bound in (0, 10_000_000):
        model = InnovationModel(_params(bound), seed=3)
        model.run_until(2025)
        assert model.resolution == SCALE
        frames.append(model.datacollector.get_model_vars_dataframe())
        model.release()
    assert frames[0].equals(frames[1])


def test_a_fast_growing_run_stays_under_its_bound_and_keeps_its_totals():
    """A pool refilled fast (entry_rate 0.9) under a bound of 60,000 rows (15,000 at a quarter
    scale): the table never passes the bound, the run coarsens more than once, each time to a whole
    number of rows per row it had, and each coarsening keeps the weighted totals (live, registered
    and certified firms, R&D) to within their sampling error at these rows (2 %: the rows are
    chosen down each district's rungs in order of R&D)."""
    scale = 0.25
    model = InnovationModel(_params(60_000, scale, entry_rate=0.9), seed=5)
    bound = model.row_bound
    assert bound == pytest.approx(60_000 * scale)
    resolutions, largest = [model.resolution], model.firms.n
    original = resolution.coarsen
    checked = []

    def watched(m):
        before = _totals(m)
        lost = original(m)
        if lost:
            checked.append((before, _totals(m)))
        return lost

    resolution.coarsen = watched
    try:
        while not model.reached(2030):
            model.step()
            largest = max(largest, model.firms.n)
            resolutions.append(model.resolution)
    finally:
        resolution.coarsen = original
    assert largest <= bound
    assert len(checked) >= 2 and resolutions[-1] < resolutions[0] < scale
    assert all(b >= a for a, b in zip(resolutions[1:], resolutions))   # only ever coarser
    assert set(np.round(scale / np.array(resolutions), 9)) <= {2.0, 4.0, 8.0, 16.0}
    for before, after in checked:
        assert np.allclose(after, before, rtol=0.02), (before, after)
    weight = model.firms.col("weight")
    assert weight[model.firms.col("leader")].max() == 1.0   # leading firms stay single firms
    others = weight[~model.firms.col("leader")] * scale
    assert np.array_equal(others, np.round(others))   # each row stands for a whole number of the rows it started as
    model.release()


def test_a_start_past_the_bound_is_built_coarser_and_the_same_for_every_scenario():
    """candidate_ratio 6 would start a quarter over the bound: the start is built at the resolution
    that fills TARGET of it, from the seed alone, so replicate k starts alike in every scenario."""
    p = _params(100_000, candidate_ratio=6.0)
    a = InnovationModel(p, seed=8)
    b = InnovationModel(p.with_overrides(guiding_fund={"annual_budget": 40}), seed=8)
    assert a.resolution < SCALE and a.resolution == b.resolution
    assert a.firms.n <= resolution.TRIGGER * a.row_bound * 1.05
    assert np.array_equal(a.firms.col("weight"), b.firms.col("weight"))
    a.release(), b.release()


def test_the_calibrations_hindcast_is_never_coarsened():
    model = InnovationModel(_params(20_000).with_overrides(start_year=2017), seed=2)
    assert model.row_bound == float("inf")
    model.run_until(2019)
    assert model.resolution == SCALE
    model.release()


def test_a_bound_is_an_integer_of_rows():
    with pytest.raises(Exception, match="max_firm_rows"):
        Params.from_dict({"max_firm_rows": -5})


def test_an_ensemble_says_which_runs_ran_coarser(tmp_path):
    """A scenario whose bound its start passes: every run records how much coarser than its scale
    it ended, and the terminal's table and the report's closing words say how many runs thinned."""
    from sim.cli import summary_table
    from sim.experiments.ensemble import run_ensemble
    from sim.report.uncertainty import coarsening_sentence, footnote
    f = tmp_path / "tight.toml"
    f.write_text('name = "tight"\ndescription = "a bound the start passes"\nextends = "baseline"\n'
                 "max_firm_rows = 20000\n", encoding="utf-8")
    tight = run_ensemble(scenarios.load(f), replicates=2, scale=SCALE, until=2025)
    per_run = tight.targets.groupby("replicate")["coarsening"].agg(["min", "max"])
    assert (per_run["min"] == per_run["max"]).all() and (per_run["max"] >= 2).all()
    assert tight.targets["coarsening"].dtype.kind == "i"
    most = int(per_run["max"].max())
    said = coarsening_sentence(tight.targets)
    assert said.startswith("2 of 2 runs") and f"up to {most} of the rows" in said
    assert "2 of 2 runs" in " ".join(summary_table(tight).split()) and said in footnote([tight])
    assert "2 次运行中有 2 次" in coarsening_sentence(tight.targets, "zh")
    # a table without any coarser run, or from before the column, says nothing
    assert coarsening_sentence(tight.targets.assign(coarsening=1)) == ""
    assert coarsening_sentence(tight.targets.drop(columns="coarsening")) == ""
