"""Parameter uncertainty in ensembles: replicate k runs posterior draw k, paired across scenarios."""

from pathlib import Path

import pytest

from sim.experiments import ensemble, posterior
from sim.experiments.scenarios import ScenarioError, load

CAL = """[parameters.behaviour]
bass_q = 0.5
growth_base = 0.05

[posterior.behaviour]
bass_q = [0.2, 0.4, 0.6]
growth_base = [0.01, 0.02, 0.03]
"""


def scenario_file(tmp_path: Path, extra: str = "", cal: str = CAL) -> Path:
    (tmp_path / "cal.toml").write_text(cal, "utf-8")
    f = tmp_path / "s.toml"
    f.write_text(f'name = "s"\ndescription = "d"\ncalibration = "cal.toml"\n{extra}', "utf-8")
    return f


def test_replicate_k_runs_draw_k_cycling_and_keeping_what_the_scenario_sets(tmp_path):
    s = load(scenario_file(tmp_path, "[behaviour]\ngrowth_base = 0.07\n"))
    assert s.parameters == "posterior" and len(s.draws) == 3
    got = [(s.replicate_params(k).behaviour.bass_q, s.replicate_params(k).behaviour.growth_base) for k in range(5)]
    # draws repeat in order; the scenario's own growth_base is a choice, never replaced by a draw
    assert got == [(0.2, 0.07), (0.4, 0.07), (0.6, 0.07), (0.2, 0.07), (0.4, 0.07)]
    assert s.params.behaviour.bass_q == 0.5        # the point estimate stays the scenario's params


def test_fixed_parameters_runs_the_point_and_changes_the_fingerprint(tmp_path):
    s = load(scenario_file(tmp_path))
    fixed = load(scenario_file(tmp_path, "fixed_parameters = true\n"))
    assert fixed.parameters == "fixed" and fixed.replicate_params(1) == fixed.params
    assert s.with_run(fixed_parameters=True).fingerprint() == fixed.fingerprint() != s.fingerprint()
    assert "fixed" in fixed.parameters_note and "3 draws" in s.parameters_note


@pytest.mark.parametrize("extra, cal, key, words", [
    ("fixed_parameters = 1\n", CAL, "fixed_parameters", "expected true"),
    ("", CAL.replace("[0.01, 0.02, 0.03]", "[0.01, 0.02]"), "posterior.behaviour", "lengths differ"),
    ("", CAL.replace("[0.01, 0.02, 0.03]", "[0.01, 0.02, 9.0]"), "posterior.behaviour.growth_base", "allowed"),
    ("", CAL + "[posterior.finance]\nticket = [1]\n", "posterior.finance", "only [posterior.behaviour]"),
    ("", CAL.replace("growth_base = [", "mixing = ["), "posterior.behaviour.mixing", "numeric behaviour"),
])
def test_bad_fixed_parameters_or_posterior_is_a_clear_error(tmp_path, extra, cal, key, words):
    with pytest.raises(ScenarioError) as e:
        load(scenario_file(tmp_path, extra, cal))
    assert e.value.key == key and words in e.value.detail


def test_the_shipped_baseline_runs_its_calibration_posterior_by_default():
    s = load("baseline")
    assert s.parameters == "posterior" and len(s.draws) >= 2
    assert s.replicate_params(0) != s.replicate_params(1)
    assert all(k.startswith("behaviour.") for d in s.draws for k in d)


def test_evaluate_params_gives_a_scenario_its_draws(tmp_path):
    s = load(scenario_file(tmp_path)).with_run(scale=0.01)
    kw = dict(replicates=2, until=2025, indicators=("tech_enterprises",))
    by_scenario = ensemble.evaluate_params([s], **kw)
    by_draws = ensemble.evaluate_params([s.params], draws=s.draws, **kw)
    fixed = ensemble.evaluate_params([s.with_run(fixed_parameters=True)], **kw)
    assert by_scenario.equals(by_draws)
    assert not by_scenario["tech_enterprises"].equals(fixed["tech_enterprises"])


def test_draw_index_cycles():
    assert [posterior.draw_index(k, 3) for k in range(7)] == [0, 1, 2, 0, 1, 2, 0]


def test_the_command_line_runs_the_point_estimate_with_fixed_parameters_and_says_so(tmp_path):
    import subprocess
    import sys

    import pandas as pd
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "run.py", "run", "baseline", "--scale", "0.01", "--replicates", "2",
                          "--backend", "serial", "--no-report", "--quiet", "--fixed-parameters", "--out",
                          str(tmp_path / "out")], cwd=root, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert set(summary["parameters"]) == {"fixed"} and set(summary["parameter_draws"]) == {0}
    assert "parameters: fixed (calibrated point estimate)" in res.stdout
