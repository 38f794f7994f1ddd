"""Scenario discovery (sim/experiments/discovery.py): PRIM finds the box a synthetic ensemble
was made with, its numbers and sentences are true of the runs, the command runs (and resumes) a
tiny real ensemble, and a missing extra is one line saying how to install it."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import discover_cli
from sim.experiments.discovery import (DiscoveryError, ExtraMissing, discover, discover_frame, in_box,
                                       replicate_inputs, require_prim)
from sim.experiments.targets import Target

ROOT = Path(__file__).resolve().parents[1]
SMES_2027 = Target("DD27-TS", "more than 86,000 tech-based SMEs", "tech_enterprises", 86000, 2027, "firms")
TINY = ["--replicates", "24", "--scale", "0.02", "--backend", "processes", "--workers", "2", "--quiet"]


def synthetic(n=240, seed=7):
    """Posterior-like draws; the 2027 SMEs goal is missed in 90 % of the runs with bass_q < 0.31
    and in 5 % of the others, whatever the other inputs."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"behaviour.bass_q": rng.uniform(0.05, 1.0, n), "behaviour.entry_rate": rng.uniform(0.02, 0.6, n),
                      "behaviour.apply_rate": rng.uniform(0.05, 1.0, n), "behaviour.growth_base": rng.uniform(-0.1, 0.12, n)})
    low = X["behaviour.bass_q"].to_numpy() < 0.31
    missed = np.where(low, rng.random(n) < 0.9, rng.random(n) < 0.05)
    return X, missed


def test_prim_finds_the_box_the_ensemble_was_made_with():
    X, missed = synthetic()
    d = discover_frame(X, missed, SMES_2027)
    assert len(d.boxes) == 1
    box = d.boxes[0]
    assert box.meets
    (cond,) = box.conditions
    assert cond.input == "behaviour.bass_q" and cond.lo is None and cond.values is None
    assert 0.27 <= cond.hi <= 0.37           # the true edge, 0.31, give or take the background misses near it
    assert cond.quasi_p < 1e-6
    # coverage and density are counted on all the runs, with the bound as printed
    inside = X["behaviour.bass_q"].to_numpy() <= cond.hi
    assert (box.runs, box.cases) == (inside.sum(), (inside & missed).sum())
    assert box.coverage == pytest.approx((inside & missed).sum() / missed.sum())
    assert box.density == pytest.approx((inside & missed).sum() / inside.sum())
    assert box.density >= 0.75 and box.coverage >= 0.7
    # the sentences say exactly those numbers
    hi = f"{cond.hi:g}"
    assert (f"The 2027 goal DD27-TS (tech-based SMEs ≥ 86,000) is missed in {100 * box.density:.0f} % of the runs where "
            f"the imitation rate (bass_q) is below {hi} ({box.cases} of {box.runs}); these runs hold "
            f"{100 * box.coverage:.0f} % of all misses ({box.cases} of {missed.sum()}).") == box.en
    assert f"在模仿系数（bass_q）低于 {hi} 的模拟中，2027年目标 DD27-TS（科技型企业≥86,000家）有 {100 * box.density:.0f}% 未达成" in box.zh
    assert f"Over all {len(X)} runs" in d.en and f"missed in {missed.sum()} ({100 * missed.mean():.0f} %)" in d.en
    # the same seed gives the same answer
    assert discover_frame(X, missed, SMES_2027).boxes[0].en == box.en


def test_the_peeling_trajectory_runs_from_everything_to_a_dense_box():
    X, missed = synthetic()
    t = discover_frame(X, missed, SMES_2027).trajectory
    assert t.loc[0, "coverage"] == 1 and t.loc[0, "density"] == pytest.approx(missed.mean()) and t.loc[0, "dims"] == 0
    assert t["density"].iloc[-1] > 0.8 and t["chosen"].sum() == 1
    peel = t["mass"].diff().dropna()
    assert (peel.iloc[:len(peel) // 2] < 0).all()           # peeling: every step gives up some runs
    chosen = t[t["chosen"]].iloc[0]
    assert chosen["dims_simple"] == 1 and chosen["density_simple"] >= 0.75


def test_two_boxes_on_choices_and_switches_together_hold_every_miss():
    rng = np.random.default_rng(3)
    n = 300
    X = pd.DataFrame({"behaviour.bass_q": rng.uniform(0.05, 1.0, n), "behaviour.entry_rate": rng.uniform(0.02, 0.6, n),
                      "guiding_fund.allocation": rng.choice(["need", "gdp", "equal", "mix"], n),
                      "paired.enabled": rng.random(n) < 0.5, "behaviour.growth_base": rng.uniform(-0.1, 0.12, n)})
    missed = (((X["behaviour.bass_q"] < 0.3) & ~X["paired.enabled"])
              | ((X["behaviour.entry_rate"] > 0.5) & X["guiding_fund.allocation"].isin(["need", "gdp"])))
    d = discover_frame(X, missed, SMES_2027, boxes=3)
    assert len(d.boxes) == 2 and all(b.meets and b.density == 1 for b in d.boxes)
    assert {c.input for c in d.boxes[0].conditions} == {"behaviour.bass_q", "paired.enabled"}
    assert {c.input for c in d.boxes[1].conditions} == {"behaviour.entry_rate", "guiding_fund.allocation"}
    alloc = next(c for c in d.boxes[1].conditions if c.values is not None)
    assert set(alloc.values) == {"need", "gdp"}
    assert d.together == 1 and "Together these conditions hold 100 % of all misses." in d.en
    assert "paired assistance on (paired.enabled) is false" in d.boxes[0].en
    assert all(in_box(X, b.conditions).sum() == b.runs for b in d.boxes)


def test_no_box_is_invented():
    X, _ = synthetic()
    rng = np.random.default_rng(11)
    noise = discover_frame(X, rng.random(len(X)) < 0.3, SMES_2027)
    assert not noise.boxes and "No condition on at most 3 inputs is clearly linked" in noise.en
    assert len(noise.trajectory) > 1 and not noise.trajectory["chosen"].any()     # kept, to be looked at
    never = discover_frame(X, np.zeros(len(X), bool), SMES_2027)
    assert not never.boxes and "never missed" in never.en and "每次都达成" in never.zh
    always = discover_frame(X, np.ones(len(X), bool), SMES_2027)
    assert not always.boxes and "missed in every run" in always.en
    # a box the rule does not accept is given only as the closest, and said to be so
    _, missed = synthetic()
    weak = discover_frame(X, missed, SMES_2027, min_density=0.999)
    assert not weak.boxes[0].meets and weak.boxes[0].en.startswith("No condition on at most 3 inputs makes")
    with pytest.raises(DiscoveryError, match="at least 10 runs"):
        discover_frame(X.head(5), np.arange(5) < 2, SMES_2027)


def test_a_missing_extra_is_one_line_saying_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "prim", None)          # `import prim` now fails as if not installed
    with pytest.raises(ExtraMissing) as e:
        require_prim()
    message = str(e.value)
    assert "'discovery'" in message and "pip install -e '.[discovery]'" in message and "\n" not in message
    X, missed = synthetic()
    with pytest.raises(ExtraMissing):
        discover_frame(X, missed, SMES_2027)
    # the command says so before it simulates anything
    assert discover_cli.main(_args("double_doubling", "--target", "DD27-TS", "--out", tmp_path / "r", *TINY)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: scenario discovery needs the optional extra 'discovery'") and "\n" not in err
    assert not (tmp_path / "r").exists()


def _args(*argv):
    p = argparse.ArgumentParser()
    discover_cli.add_arguments(p)
    return p.parse_args([str(a) for a in argv])


def test_the_command_on_a_tiny_real_ensemble_resumes_and_keeps_each_target(tmp_path, capsys):
    out = tmp_path / "dd"
    assert discover_cli.main(_args("double_doubling", "--target", "DD27-TS", "--out", out, *TINY)) == 0
    printed = capsys.readouterr().out
    assert "the 2027 goal DD27-TS (tech-based SMEs ≥ 86,000)" in printed and "2027年目标 DD27-TS" in printed
    assert "Only 24 runs" in printed and f"{out}/discovery.csv" in printed
    markers = sorted(p.name for p in (out / "done").iterdir())
    # a second target in the same folder reuses the replicates and keeps the first target's rows
    assert discover_cli.main(_args("double_doubling", "--target", "DD27-HT", "--met", "--out", out, *TINY)) == 0
    assert sorted(p.name for p in (out / "done").iterdir()) == markers
    table = pd.read_csv(out / "discovery.csv")
    assert set(zip(table["target"], table["case"])) == {("DD27-TS", "missed"), ("DD27-HT", "met")}
    assert (table["runs"] == 24).all() and (table.loc[table["box"] == 0, "runs_in_box"] == 24).all()
    text = (out / "discovery.txt").read_text("utf-8")
    assert "DD27-TS: what goes with it being missed" in text and "DD27-HT: what goes with it being met" in text
    # the inputs are each replicate's posterior draw (the 2017 pool, unused by a 2022 start, left out)
    d = discover(out, "DD27-TS")
    from sim.experiments.scenarios import load
    s = load("double_doubling")
    draws = d.outcome.index.map(lambda k: k % len(s.draws))     # replicate k runs conditioned particle k
    assert "behaviour.bass_q" in d.inputs and "behaviour.candidate_ratio_2017" not in d.inputs
    assert d.inputs["behaviour.bass_q"].tolist() == [s.draws[i]["behaviour.bass_q"] for i in draws]
    assert set(d.inputs.columns) <= {f"behaviour.{k.split('.', 1)[1]}" for k in s.draws[0]}


def test_the_command_refuses_what_it_cannot_answer(tmp_path, capsys):
    assert discover_cli.main(_args("double_doubling", "--target", "T9", "--out", tmp_path / "a", *TINY)) == 2
    err = capsys.readouterr().err
    assert "--target" in err and "choose one of: DD27-HT, DD27-TS, DD27-HT-CENTRAL, DD27-TS-CENTRAL," in err
    fixed = tmp_path / "fixed.toml"
    fixed.write_text(f'name = "fixed"\ndescription = "fixed point"\nextends = "{ROOT / "scenarios" / "baseline.toml"}"\n'
                     "fixed_parameters = true\n")
    assert discover_cli.main(_args(fixed, "--target", "T2", "--out", tmp_path / "b", *TINY)) == 2
    assert "no condition can explain a miss" in capsys.readouterr().err
    assert discover_cli.main(_args("baseline", "--target", "T2", "--min-density", "1.5", *TINY)) == 2
    assert "--min-density" in capsys.readouterr().err
    assert discover_cli.main(_args("baseline", "--target", "T2", "--out", tmp_path / "a", *TINY, "--replicates", "5")) == 2
    assert "needs at least 10 runs" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_replicate_inputs_keep_only_what_varies(tmp_path):
    from sim.experiments.ensemble import run_ensemble
    r = run_ensemble("baseline", replicates=3, scale=0.005, out=tmp_path / "b")
    X = replicate_inputs(r)
    assert list(X.index) == [0, 1, 2] and all(c.startswith("behaviour.") for c in X.columns)
    extra = pd.DataFrame({"paired.intensity": [0.5, 1.0, 2.0]}, index=pd.Index([0, 1, 2], name="replicate"))
    assert replicate_inputs(r, extra)["paired.intensity"].tolist() == [0.5, 1.0, 2.0]


def test_the_report_says_why_we_might_miss(monkeypatch):
    """The report's section explains each target some runs meet and others miss, in both
    languages, skips the ones every run meets or misses, and says why when nothing can be said."""
    from types import SimpleNamespace

    import pandas as pd

    from sim.report import misses

    summary = pd.DataFrame({"target": ["T1", "T2", "T3"], "prob_met": [1.0, 0.4, 0.0]})
    asked = []

    def fake(result, target):
        asked.append(target)
        return SimpleNamespace(sentences=lambda lang: [f"{target} missed where x < 1 ({lang})"])
    monkeypatch.setattr(misses, "discover", fake)
    section = misses.why_we_might_miss_html(SimpleNamespace(summary=summary))
    assert asked == ["T2"] and "T2 missed where x &lt; 1 (en)" in section and "(zh)" in section

    def too_few(result, target):
        raise misses.DiscoveryError("--replicates: scenario discovery needs at least 30 runs, got 3")
    monkeypatch.setattr(misses, "discover", too_few)
    assert "needs at least 30 runs" in misses.why_we_might_miss_html(SimpleNamespace(summary=summary))
