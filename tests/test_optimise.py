"""The search for the cheapest mix: its search space, statistics, stored study, outputs and
command line (subprocesses on tiny settings: scale 0.03, 2–4 trials)."""

import copy
import math
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments import ensemble
from sim.experiments.scenarios import ScenarioError, load
from sim.optimise import mixes, problem, search as optimise, study as stored_study
from sim.params.fields import KEEP
from sim.params.parameters import Params, levers

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--scale", "0.03", "--replicates", "2", "--check-replicates", "3", "--backend", "serial", "--quiet"]


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "run.py", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


# ---- the search space comes from the lever declarations ---------------------------------------
def test_only_priced_levers_and_splits_of_priced_money_are_searched():
    space = problem.searchable()
    assert "guiding_fund.annual_budget" in space and "paired.intensity" not in space
    for key, sp in space.items():
        lv = levers()[key]
        assert lv.money is not None or lv.cost.startswith("none: splits"), key
        if sp[0] == "float":
            _, lo, hi, step = sp
            meta = {r["key"]: r for r in __import__("sim.params", fromlist=["describe"]).describe()}[key]
            assert meta["lo"] <= lo < hi <= meta["hi"], key
            assert math.isclose(round((hi - lo) / step), (hi - lo) / step), key     # Optuna's step grid ends at hi


def test_a_lever_that_is_not_searched_or_not_a_lever_is_refused_by_name():
    with pytest.raises(ScenarioError, match="paired.intensity is a lever but not searchable"):
        problem.lever_space(["paired.intensity"])
    with pytest.raises(ScenarioError, match="'nope' is not a lever"):
        problem.lever_space(["nope"])
    assert list(problem.lever_space(["finance.risk_pool_topup"])) == ["finance.risk_pool_topup"]


def test_cost_is_the_declared_public_money_and_grows_with_the_budget():
    p = Params()
    base = problem.cost(p, 2025)
    more = problem.cost(p.with_overrides(guiding_fund__annual_budget=p.guiding_fund.annual_budget + 5), 2025)
    assert more == pytest.approx(base + 5)
    # rules that split the fund's money cost nothing new
    assert problem.cost(p.with_overrides(guiding_fund__allocation="need"), 2025) == pytest.approx(base)


# ---- statistics ------------------------------------------------------------------------------
def test_wilson_interval():
    lo, hi = mixes.wilson(8, 10)
    assert (round(lo, 3), round(hi, 3)) == (0.490, 0.943)       # the textbook values
    assert mixes.wilson(0, 5)[0] == 0.0 and mixes.wilson(5, 5)[1] == 1.0
    assert mixes.wilson(0, 5)[1] == pytest.approx(0.4345, abs=1e-3)


def test_the_front_and_the_chosen_mixes():
    t = pd.DataFrame(dict(trial=[0, 1, 2, 3, 4], cost=[10.0, 5.0, 20.0, 7.0, 30.0], p_all=[0.5, 0.5, 0.9, 0.8, 0.9]))
    t["feasible"] = t["p_all"] >= 0.8
    t["pareto"] = optimise.front(t)
    assert list(t.loc[t["pareto"], "trial"]) == [1, 2, 3]      # 0 and 4 are dominated
    chosen = optimise.choose_mixes(t, 0.8, 3)
    assert chosen[0][0] == "cheapest" and chosen[0][1]["trial"] == 3
    assert [int(r["trial"]) for _, r in chosen[1:]] == [1, 2]
    none = optimise.choose_mixes(t.assign(feasible=False), 0.95, 1)
    assert none[0][0] == "most_likely" and none[0][1]["trial"] == 2


def test_reach_names_the_target_no_trial_meets():
    from sim.experiments.targets import Target
    targets = (Target("A", "a", "x", 1, 2025), Target("B", "b", "y", 1, 2025))
    t = pd.DataFrame(dict(trial=[0, 1, 2], cost=[3.0, 1.0, 2.0], p_A=[0.9, 0.9, 0.2], p_B=[0.0, 0.0, 0.0],
                          mean_A=[2.0, 1.5, 0.5], mean_B=[0.1, 0.3, 0.2]))
    r = optimise.reach(t, targets).set_index("target")
    assert r.loc["A", "best_p"] == 0.9 and r.loc["A", "trial"] == 1 and r.loc["A", "cost"] == 1.0
    assert r.loc["B", "best_p"] == 0.0 and r.loc["B", "best_mean"] == 0.3 and pd.isna(r.loc["B", "trial"])


def test_check_seeds_are_another_stream():
    assert mixes.check_seed(42) != 42 and mixes.check_seed(42) == mixes.check_seed(42) != mixes.check_seed(43)


def test_bad_probability_and_targets():
    s = load("baseline")
    for bad in (0, -0.1, 1.01, float("nan")):
        with pytest.raises(ScenarioError, match="--prob"):
            problem.check_prob(bad)
    assert problem.check_prob(1) == 1.0
    with pytest.raises(ScenarioError, match="'DD27-HT' is not a target of the scenario's set 'policy_2025'"):
        problem.choose_targets(s, ["DD27-HT"])
    assert [t.id for t in problem.choose_targets(s, ["T6", "T2"])] == ["T6", "T2"]


# ---- one small search, through the command line ---------------------------------------------
@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("opt") / "search"
    res = run_cli("optimise", "baseline", "--targets", "T1,T2", "--prob", "0.5", "--trials", "3", "--mixes", "2",
                  *TINY, "--out", out)
    assert res.returncode == 0, res.stderr
    return out, res


def test_search_writes_trials_front_mixes_and_report(searched):
    out, res = searched
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 3 and list(trials["trial"]) == [0, 1, 2]
    assert {"cost", "p_all", "p_T1", "p_T2", "feasible", "pareto", "guiding_fund.annual_budget"} <= set(trials.columns)
    assert trials.loc[0, "input"]                                      # the first trial is the input's own mix
    assert trials.loc[0, "cost"] == pytest.approx(problem.cost(load("baseline").params, 2025))
    front = pd.read_csv(out / "pareto.csv")
    assert set(front["trial"]) <= set(trials["trial"]) and len(front) >= 1
    assert front["cost"].is_monotonic_increasing
    files = sorted((out / "mixes").glob("*.toml"))
    assert files and all(f.stem.startswith("baseline_mix") for f in files)
    page = (out / "report.html").read_text("utf-8")
    for words in ("Cost against probability", "fresh replicates", "How far each target is within reach", "Districts that still lag", "3 trials evaluated",
                  "standard error", "data:image/png;base64"):
        assert words in page
    assert "trial" in res.stdout and "check P" in res.stdout


def test_trials_use_common_random_numbers(searched):
    """Trial 0 is the input's mix: its P(met) and mean values are those of evaluate_params with
    the search's seeds and posterior draws (replicate k gets the same seed and draw in every
    trial), not those of the fitted point."""
    out, _ = searched
    t0 = pd.read_csv(out / "trials.csv").iloc[0]
    s = load("baseline").with_run(scale=0.03)
    assert s.parameters == "posterior"
    rows = ensemble.evaluate_params([s], replicates=2, seed=s.seed, until=s.until, targets=s.targets[:2])
    assert t0["mean_T2"] == pytest.approx(rows["T2"].mean())
    assert t0["p_T1"] == pytest.approx((rows["T1"] >= s.targets[0].threshold).mean())
    fixed = ensemble.evaluate_params([s.params], replicates=2, seed=s.seed, until=s.until, targets=s.targets[:2])
    assert t0["mean_T2"] != pytest.approx(fixed["T2"].mean())


def test_a_mix_file_is_a_scenario_that_run_and_compare_take_as_it_is(searched, tmp_path):
    out, _ = searched
    mix = sorted((out / "mixes").glob("*.toml"))[0]
    raw = tomllib.loads(mix.read_text("utf-8"))
    s = load(mix)
    assert raw["extends"] == "baseline" and s.chain[1].endswith("baseline.toml")
    trial = pd.read_csv(out / "trials.csv").set_index("trial").loc[int(mix.stem[-4:])]
    for key in problem.searchable():
        section, leaf = key.split(".")
        assert raw[section][leaf] == trial[key]
    assert "checked P" in s.description
    # the check ran on fresh replicates: another root seed, recorded in the check folder
    manifest = (out / "checks" / s.name / "manifest.json").read_text()
    assert str(mixes.check_seed(42)) in manifest
    res = run_cli("run", mix, "--scale", "0.03", "--replicates", "1", "--backend", "serial", "--quiet", "--no-report",
                  "--out", tmp_path / "run")
    assert res.returncode == 0, res.stderr
    res = run_cli("compare", "baseline", mix, "--scale", "0.03", "--replicates", "1", "--backend", "serial", "--quiet",
                  "--no-report", "--out", tmp_path / "cmp")
    assert res.returncode == 0, res.stderr


def test_a_larger_trials_continues_and_another_set_up_is_refused(searched, tmp_path):
    out, _ = searched
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = pd.read_csv(copy / "trials.csv")
    res = run_cli("optimise", "baseline", "--targets", "T1,T2", "--prob", "0.5", "--trials", "4", "--mixes", "1",
                  *TINY, "--out", copy)
    assert res.returncode == 0, res.stderr
    after = pd.read_csv(copy / "trials.csv")
    assert len(after) == 4
    pd.testing.assert_frame_equal(after.iloc[:3][["trial", "cost", "p_all"]], before[["trial", "cost", "p_all"]])
    for args, key in ((["--targets", "T1", "--prob", "0.5"], "--targets"), (["--targets", "T1,T2", "--prob", "0.6"], "--prob")):
        res = run_cli("optimise", "baseline", *args, "--trials", "4", *TINY, "--out", copy)
        assert res.returncode == 2 and f"key '{key}'" in res.stderr and "optuna.db" in res.stderr
        assert "Traceback" not in res.stderr


@pytest.mark.parametrize("change, key, words", [
    (["--scale", "0.05"], "--scale", "this folder's search ran at 0.03, this command asks for 0.05"),
    (["--seed", "7"], "--seed", "this folder's search ran with root seed 42, this command asks for 7"),
    (["--fixed-parameters"], "--fixed-parameters", "this folder's search ran each replicate at its posterior draw "
                                                   "(without --fixed-parameters), this command asks for the calibrated "
                                                   "point estimate (--fixed-parameters)"),
])
def test_another_scale_seed_or_parameters_is_refused_naming_the_setting_and_both_values(searched, change, key, words):
    """The refusal names the option that differs, not the scenario's fingerprint they all change."""
    out, _ = searched
    args = ["--scale", "0.03", "--replicates", "2", "--backend", "serial", "--quiet"]
    res = run_cli("optimise", "baseline", "--targets", "T1,T2", "--prob", "0.5", "--trials", "4", *args, *change,
                  "--out", out)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"key '{key}'" in res.stderr and words in res.stderr and "optuna.db" in res.stderr, res.stderr
    assert "fingerprint" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_the_setup_difference_names_a_changed_scenario_parameter_or_lever_range():
    record = problem.Setup.build(load("baseline"), scale=0.03).record()
    assert stored_study.setup_difference(record, record) is None
    edited = copy.deepcopy(record)
    edited["params"]["guiding_fund"]["annual_budget"] = 99.0
    edited["fingerprint"] = "0123456789abcdef"
    key, message = stored_study.setup_difference(edited, record)
    assert key == "SCENARIO" and "guiding_fund.annual_budget was 99" in message and "fingerprint" not in message
    old = {k: v for k, v in edited.items() if k != "params"}     # a study stored before records held the parameters
    key, message = stored_study.setup_difference(old, record)
    assert key == "SCENARIO" and "fingerprint 0123456789abcdef then" in message
    ranges = copy.deepcopy(record)
    ranges["levers"]["finance.risk_pool_topup"] = ["float", 0.0, 5.0, 0.5]
    key, message = stored_study.setup_difference(ranges, record)
    assert key == "levers" and "finance.risk_pool_topup was searched over" in message
    key, message = stored_study.setup_difference({k: v for k, v in record.items() if k != "sampler"}, record)
    assert key == "--sampler" and "did not record" in message


# ---- a stopped and resumed search repeats the uninterrupted one -------------------------------
def test_a_search_stopped_and_resumed_gives_the_trials_of_one_run(tmp_path):
    """--trials 5 then --trials 8 into the same folder: the trials (settings and results) of --trials 8 at once."""
    args = ["optimise", "baseline", "--targets", "T1,T2", "--prob", "0.5", "--mixes", "1", "--scale", "0.03",
            "--replicates", "2", "--check-replicates", "2", "--backend", "serial", "--quiet", "--no-report"]
    for trials, out in ((5, "resumed"), (8, "resumed"), (8, "at_once")):
        res = run_cli(*args, "--trials", trials, "--out", tmp_path / out)
        assert res.returncode == 0, res.stderr
    resumed, at_once = (pd.read_csv(tmp_path / out / "trials.csv") for out in ("resumed", "at_once"))
    assert len(at_once) == 8 and at_once["trial"].tolist() == list(range(8))
    pd.testing.assert_frame_equal(resumed, at_once)
    levers = [c for c in at_once.columns if "." in c]
    assert len(at_once[levers].drop_duplicates()) == 8        # the sampler did vary them


def _fake_evaluate(fail_on_call=None):
    """A stand-in for ensemble.evaluate_params whose results follow the levers (no simulation);
    ``fail_on_call``: the call (0, 1, …) that is interrupted as Ctrl-C would."""
    calls = []

    def evaluate(scenarios, replicates, targets, indicators=(), **_):
        if fail_on_call is not None and len(calls) == fail_on_call:
            raise KeyboardInterrupt
        calls.append(len(scenarios))
        rows = []
        for i, s in enumerate(scenarios):
            g = s.params.guiding_fund
            level = g.annual_budget / 40 + g.share_rd_subsidy + s.params.finance.risk_pool_topup / 20 - 0.3
            for k in range(replicates):
                row = {"run": i, "replicate": k, **{t.id: t.threshold * (level + 0.15 * k - 0.1 * j)
                                                     for j, t in enumerate(targets)}}
                row.update({ind: level / 4 for ind in indicators})
                rows.append(row)
        return pd.DataFrame(rows)
    return evaluate


def _trials(out):
    """Every trial but those a stop left unfinished, in order: state, settings, results."""
    import optuna
    study = optuna.load_study(study_name=stored_study.STUDY, storage=stored_study.storage_url(out))
    return [(t.state.name, t.params, t.values) for t in study.get_trials() if not t.user_attrs.get("stopped")]


@pytest.mark.parametrize("sampler", ["tpe", "nsga2"])
def test_an_interrupted_search_resumed_repeats_the_uninterrupted_one(tmp_path, monkeypatch, sampler):
    """Ctrl-C while trials run, then the same command: the trials it was running run again with
    their settings, and every later trial is the one an uninterrupted search asks (past the TPE's
    random start-up trials too); so is a search stopped at the end of a batch of several workers."""
    setup = problem.Setup.build(load("baseline"), targets=["T1", "T2"], prob=0.5, replicates=2, scale=0.03,
                                sampler=sampler)
    n = stored_study.STARTUP_TRIALS + 4
    for name in ("at_once", "stopped", "batches", "batches_at_once"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(ensemble, "evaluate_params", _fake_evaluate())
    optimise.search(setup, tmp_path / "at_once", n)
    monkeypatch.setattr(ensemble, "evaluate_params", _fake_evaluate(fail_on_call=5))
    with pytest.raises(KeyboardInterrupt):
        optimise.search(setup, tmp_path / "stopped", n)
    monkeypatch.setattr(ensemble, "evaluate_params", _fake_evaluate())
    logged = []
    study = optimise.search(setup, tmp_path / "stopped", n, log=logged.append)
    assert any("left unfinished by a stopped search: it runs again" in m for m in logged)
    assert sum(bool(t.user_attrs.get("stopped")) for t in study.get_trials()) == 1
    at_once = _trials(tmp_path / "at_once")
    assert _trials(tmp_path / "stopped") == at_once
    assert sum(s == "COMPLETE" for s, _, _ in at_once) == n       # past the start-up trials
    assert len({v[1] for _, _, v in at_once}) > 1                    # some settings meet the targets, some not
    # several workers: stopped where a batch ends, the search goes on as if it had not stopped
    optimise.search(setup, tmp_path / "batches", 6, batch=3)
    optimise.search(setup, tmp_path / "batches", n, batch=3)
    optimise.search(setup, tmp_path / "batches_at_once", n, batch=3)
    assert _trials(tmp_path / "batches") == _trials(tmp_path / "batches_at_once")


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_new_study_in_an_old_folder_leaves_nothing_of_the_old_one(searched, tmp_path, how):
    """optuna.db deleted or emptied: the new search removes what the old one wrote (tables, report,
    mixes, their checks) and says so; files it did not write stay."""
    import shutil
    out, _ = searched
    copy_ = tmp_path / "copy"
    shutil.copytree(out, copy_)
    old_mixes = {p.stem for p in (copy_ / "mixes").glob("*.toml")}
    assert old_mixes and old_mixes == {p.name for p in (copy_ / "checks").iterdir()}
    foreign = [copy_ / "notes.txt", copy_ / "mixes" / "my_mix.toml", copy_ / "checks" / "mine" / "x.txt",
               copy_ / "checks" / "baseline_mix0999" / "x.txt"]
    for f in foreign:
        f.parent.mkdir(exist_ok=True)
        f.write_text("not the optimiser's")
    if how == "deleted":
        (copy_ / "optuna.db").unlink()
    else:
        (copy_ / "optuna.db").write_bytes(b"")
    res = run_cli("optimise", "baseline", "--targets", "T1", "--prob", "0.5", "--trials", "2", "--mixes", "1",
                  "--seed", "7", *TINY, "--no-report", "--out", copy_)
    assert res.returncode == 0, res.stderr
    assert "note: optuna.db held no search (deleted or emptied): a new search started" in res.stdout
    assert all(f.read_text() == "not the optimiser's" for f in foreign)
    assert not (copy_ / "report.html").exists()                    # the old report went, --no-report wrote none
    assert len(pd.read_csv(copy_ / "trials.csv")) == 2
    new_mixes = {p.stem for p in (copy_ / "mixes").glob("*.toml")} - {"my_mix"}
    assert new_mixes and all("root seed 7" in (copy_ / "mixes" / f"{m}.toml").read_text("utf-8") for m in new_mixes)
    assert {p.name for p in (copy_ / "checks").iterdir()} == new_mixes | {"mine", "baseline_mix0999"}
    for m in new_mixes:
        assert str(mixes.check_seed(7)) in (copy_ / "checks" / m / "manifest.json").read_text()
    assert [p.name for p in (copy_ / "checks" / "baseline_mix0999").iterdir()] == ["x.txt"]


@pytest.mark.parametrize("args, words", [
    (["--targets", "T9"], "'T9' is not a target"),
    (["--prob", "0"], "--prob"),
    (["--prob", "1.5"], "--prob"),
    (["--levers", "paired.intensity"], "paired.intensity is a lever but not searchable"),
    (["--trials", "0"], "--trials"),
])
def test_bad_input_exits_2_naming_it(args, words, tmp_path):
    res = run_cli("optimise", "baseline", *args, *TINY, "--out", tmp_path / "o")
    assert res.returncode == 2 and words in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()        # refused before any folder is made


def test_an_existing_dask_cluster_runs_the_same_trials(searched, tmp_path):
    from distributed import LocalCluster
    out, _ = searched
    args = ["optimise", "baseline", "--targets", "T1,T2", "--prob", "0.5", "--trials", "3", "--mixes", "1",
            "--scale", "0.03", "--replicates", "2", "--check-replicates", "2", "--quiet", "--workers", "1"]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        res = run_cli(*args, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "remote")
    assert res.returncode == 0, res.stderr
    cols = ["trial", "cost", "p_all", "mean_T1", "mean_T2"]
    pd.testing.assert_frame_equal(pd.read_csv(out / "trials.csv")[cols], pd.read_csv(tmp_path / "remote" / "trials.csv")[cols])
    res = run_cli(*args, "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path / "nowhere")
    assert res.returncode == 2 and "cannot use the Dask scheduler tcp://127.0.0.1:9" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_storage_file_that_is_not_a_search_is_refused(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "optuna.db").write_text("not a database")
    res = run_cli("optimise", "baseline", "--trials", "1", *TINY, "--out", out)
    assert res.returncode == 2 and "optuna.db" in res.stderr and "Traceback" not in res.stderr


def _finished_trials(db: Path) -> int:
    """Complete trials in a study another process is writing, read without touching it: opening it
    through Optuna would create its tables and version row, racing the search that is creating them."""
    import sqlite3
    from contextlib import closing
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
            return con.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.Error:  # not created yet, or its tables not yet
        return 0


def test_kill_9_loses_no_finished_trial(tmp_path):
    import optuna
    out = tmp_path / "o"
    cmd = [sys.executable, "run.py", "optimise", "baseline", "--targets", "T2", "--trials", "200", *TINY, "--out", str(out)]
    log = tmp_path / "search.err"
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    try:
        # Generous: under a loaded machine a fresh clone's first search process also compiles
        # its loops (about 25 s of CPU); two trials normally finish within 15 s.
        deadline = time.monotonic() + 300
        done = 0
        while time.monotonic() < deadline and done < 2 and proc.poll() is None:
            time.sleep(0.5)
            done = _finished_trials(out / "optuna.db")
        assert proc.poll() is None, f"the search stopped before it was killed:\n{log.read_text()[-2000:]}"
        assert done >= 2, f"the search did not finish two trials in time:\n{log.read_text()[-2000:]}"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    study = optuna.load_study(study_name=stored_study.STUDY, storage=stored_study.storage_url(out))
    kept = {t.number: t.values for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))}
    assert len(kept) >= 2
    n = len(kept) + 1
    res = run_cli("optimise", "baseline", "--targets", "T2", "--trials", n, *TINY, "--out", out)
    assert res.returncode == 0, res.stderr
    trials = pd.read_csv(out / "trials.csv").set_index("trial")
    assert len(trials) == n
    for number, values in kept.items():
        assert trials.loc[number, "cost"] == pytest.approx(values[0]) and trials.loc[number, "p_all"] == values[1]


def test_the_app_loads_a_mix_as_the_lever_settings_of_its_input(searched):
    from sim.app.levers import AppConfig
    out, _ = searched
    found = mixes.list_mixes(out)
    assert found and all(m["ok"] for m in found)
    cfg = AppConfig.from_mix(found[0]["file"])
    mix = load(found[0]["file"])
    assert cfg.scenario == "baseline" and cfg.params == mix.params and cfg.scenario_params == load("baseline").params
    changed = dict(cfg.changed_levers())
    for key, value in changed.items():
        assert key in problem.searchable() and value != KEEP
    assert mixes.list_mixes(out / "mixes") == found


def test_the_app_card_lists_and_loads_the_mixes(searched):
    import ipyvuetify as v
    import solara

    from sim.app.levers import default_config
    from sim.app.mixes import MixPanel
    from sim.app.model import AppModel
    out, _ = searched
    config = solara.reactive(default_config())
    first = AppModel(config.value)
    model = solara.reactive(first)
    _, rc = solara.render(MixPanel(config, model), handle_error=False)
    try:
        rc.find(v.TextField, label="优化结果文件夹 Optimiser output folder").widget.v_model = str(out)
        select = rc.find(v.Select, label="组合 Mix (loads as the levers)").widget
        name = select.items[0]
        select.v_model = name
        assert "levers of the mix " + name in config.value.description
        assert model.value is not first and model.value.scenario_params == load(out / "mixes" / f"{name}.toml").params.with_overrides(
            {"scale": config.value.scale})
    finally:
        rc.close()
        first.release()
        model.value.release()


def test_inequality_is_a_third_objective_and_only_named_levers_are_searched(tmp_path):
    from sim.optimise import cheapest_mix
    answer = cheapest_mix.find("baseline", tmp_path / "o", targets=["T2"], prob=0.5, trials=2, replicates=2,
                               scale=0.03, levers=["guiding_fund.annual_budget"], inequality=True, check_replicates=2,
                               n_mixes=1, sampler="nsga2", report=True)
    import optuna
    study = optuna.load_study(study_name=stored_study.STUDY, storage=stored_study.storage_url(tmp_path / "o"))
    assert len(study.directions) == 3
    t = answer.trials
    assert problem.INEQUALITY in t.columns and t[problem.INEQUALITY].between(0, 1).all()
    assert [c for c in t.columns if "." in c] == ["guiding_fund.annual_budget"]
    assert "Gini across districts" in (tmp_path / "o" / "report.html").read_text("utf-8")


def test_a_search_at_the_fitted_point_says_so_and_its_mixes_run_there(tmp_path):
    """--fixed-parameters is part of the set-up (a stored posterior search refuses it) and the mix
    files it writes run at the fitted point too."""
    posterior = problem.Setup.build(load("baseline"), scale=0.03)
    fixed = problem.Setup.build(load("baseline"), scale=0.03, fixed_parameters=True)
    assert posterior.record()["parameters"] == "posterior" and fixed.record()["parameters"] == "fixed"
    row = pd.Series(dict(trial=3, cost=1.0, p_all=0.5, **{key: 1.0 for key in fixed.space}))
    text = mixes.mix_text(fixed, row, "cheapest", "optimise baseline", tmp_path)
    assert "fixed_parameters = true" in text
    assert "fixed_parameters" not in mixes.mix_text(posterior, row, "cheapest", "optimise baseline", tmp_path)
