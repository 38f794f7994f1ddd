"""The command line, run as a user would: a subprocess on small settings."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--scale", "0.03", "--replicates", "4", "--quiet"]


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "run.py", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "baseline"
    res = run_cli("run", "baseline", *SMALL, "--backend", "serial", "--out", out)
    assert res.returncode == 0, res.stderr
    return out, res


def tables(out: Path) -> dict[str, pd.DataFrame]:
    frames = {name: pd.read_parquet(out / name) for name in ("city", "districts", "targets", "links")}
    keys = ("replicate", "step", "adcode", "target", "indicator", "src", "dst")
    return {name: df.sort_values([c for c in keys if c in df.columns]).reset_index(drop=True)
            for name, df in frames.items()}


def test_every_subcommand_has_help():
    for sub in ("run", "compare", "validate", "ui", "calibrate"):
        res = run_cli(sub, "--help")
        assert res.returncode == 0 and "usage: run.py " + sub in res.stdout
    res = run_cli("--help")
    assert res.returncode == 0 and "baseline" in res.stdout


def test_run_writes_the_outputs_and_they_agree_with_their_definitions(serial_run):
    out, res = serial_run
    assert "T1" in res.stdout and "P(met)" in res.stdout          # the terminal summary table
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["target", "description", "threshold", "year", "median", "p05", "p95",
                                     "prob_met", "year_first_met", "parameters", "parameter_draws"]
    assert set(summary["parameters"]) == {"posterior"} and set(summary["parameter_draws"]) == {4}
    assert "parameters: posterior" in res.stdout
    assert list(summary["target"]) == ["T1", "T2", "T3", "T4", "T5", "T6"]
    t = tables(out)
    per = t["targets"]
    assert sorted(per["replicate"].unique()) == [0, 1, 2, 3]
    for row in summary.itertuples():
        r = per[per["target"] == row.target]
        assert row.prob_met == pytest.approx((r["value"] >= row.threshold).mean())
        assert row.median == pytest.approx(np.median(r["value"]))
        assert row.p05 == pytest.approx(np.percentile(r["value"], 5))
        assert row.p95 == pytest.approx(np.percentile(r["value"], 95))
        first = np.where(r["year_first_met"].notna(), r["year_first_met"], np.inf)
        expect = np.median(first)
        assert (np.isnan(row.year_first_met) and not np.isfinite(expect)) or row.year_first_met == expect
    # The per-step city table is tidy and holds the target indicator the summary was read from.
    city = t["city"]
    assert {"scenario", "replicate", "step", "year", "quarter", "indicator", "value"} == set(city.columns)
    end = city[(city["indicator"] == "tech_enterprises") & (city["year"] == 2025) & (city["quarter"] == 4)]
    assert np.allclose(end.sort_values("replicate")["value"].to_numpy(),
                       per[per["target"] == "T1"].sort_values("replicate")["value"].to_numpy())
    d = t["districts"]
    assert d["adcode"].nunique() == 38 and d["step"].nunique() == 13
    # The report is self-contained: figures embedded, nothing fetched, Chinese names present.
    html = (out / "report.html").read_text("utf-8")
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html
    assert "渝中" in html and "T6" in html
    for name in ("fan_charts", "choropleths", "network_map", "inequality"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000


def test_serial_and_dask_local_cluster_give_identical_results(serial_run, tmp_path):
    out, _ = serial_run
    res = run_cli("run", "baseline", *SMALL, "--backend", "dask", "--workers", "2", "--no-report", "--out", tmp_path / "dask")
    assert res.returncode == 0, res.stderr
    a, b = tables(out), tables(tmp_path / "dask")
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
    assert (out / "summary.csv").read_text() == (tmp_path / "dask" / "summary.csv").read_text()


def test_an_existing_dask_cluster_is_used_by_its_address(serial_run, tmp_path):
    from distributed import LocalCluster
    out, _ = serial_run
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        res = run_cli("run", "baseline", *SMALL, "--scheduler", cluster.scheduler_address, "--no-report",
                      "--out", tmp_path / "remote")
    assert res.returncode == 0, res.stderr
    assert f"Dask scheduler {cluster.scheduler_address}" in res.stderr
    pd.testing.assert_frame_equal(tables(out)["targets"], tables(tmp_path / "remote")["targets"], check_exact=True)
    res = run_cli("run", "baseline", *SMALL, "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path / "nowhere")
    assert res.returncode == 2 and "cannot use the Dask scheduler tcp://127.0.0.1:9" in res.stderr
    assert "Traceback" not in res.stderr


def test_process_pool_gives_identical_results(serial_run, tmp_path):
    out, _ = serial_run
    res = run_cli("run", "baseline", *SMALL, "--backend", "processes", "--workers", "2", "--chunk", "3",
                  "--no-report", "--out", tmp_path / "proc")
    assert res.returncode == 0, res.stderr
    a, b = tables(out), tables(tmp_path / "proc")
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


def test_an_interrupted_run_resumes_to_the_same_results(tmp_path):
    args = ["run", "baseline", "--scale", "0.2", "--replicates", "6", "--backend", "serial", "--chunk", "1",
            "--quiet", "--no-report"]
    whole = run_cli(*args, "--out", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "run.py", *args, "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "done").glob("*.json"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {k for p in (out / "done").glob("*.json") for k in json.loads(p.read_text())["replicates"]}
    assert 2 <= len(finished) < 6, "the run should have been killed halfway"
    kept = {p.name: p.stat().st_mtime_ns for p in (out / "city").glob("part-*.parquet")}
    res = run_cli(*args, "--out", out)
    assert res.returncode == 0, res.stderr
    assert f"{6 - len(finished)} run(s) to do, {len(finished)} already done" in res.stderr
    for name, mtime in kept.items():                 # finished shards were kept, not recomputed
        assert (out / "city" / name).stat().st_mtime_ns == mtime
    a, b = tables(tmp_path / "whole"), tables(out)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
    assert not list(out.rglob(".tmp-*"))


def test_compare_reports_paired_differences(serial_run, tmp_path):
    out, _ = serial_run
    res = run_cli("compare", "baseline", "paired_off", *SMALL, "--backend", "serial", "--out", tmp_path / "cmp")
    assert res.returncode == 0, res.stderr
    diffs = pd.read_csv(tmp_path / "cmp" / "differences.csv")
    a = pd.read_parquet(tmp_path / "cmp" / "baseline" / "targets")
    b = pd.read_parquet(tmp_path / "cmp" / "paired_off" / "targets")
    # the reference ran from the same seeds as the plain run
    pd.testing.assert_frame_equal(a.sort_values(["replicate", "target"]).reset_index(drop=True),
                                  tables(out)["targets"].sort_values(["replicate", "target"]).reset_index(drop=True))
    for row in diffs.itertuples():
        va = a[a["target"] == row.target].set_index("replicate")["value"]
        vb = b[b["target"] == row.target].set_index("replicate")["value"]
        assert row.value_diff == pytest.approx((vb - va).mean())
        assert row.value_diff_lo <= row.value_diff <= row.value_diff_hi
    html = (tmp_path / "cmp" / "report.html").read_text("utf-8")
    assert "Paired differences" in html and "paired_off" in html
    assert "Paired differences against baseline" in res.stdout
    assert set(diffs["parameters"]) == {"posterior"} and "parameters: posterior" in res.stdout


@pytest.mark.parametrize("args, words", [
    (["run", "no_such_scenario"], "no such scenario file"),
    (["run", "baseline", "--scale", "3"], "'--scale'"),
    (["run", "baseline", "--until", "2024"], "allowed 2025 to 2035"),
    (["run", "baseline", "--workers", "0"], "--workers"),
    (["compare", "baseline"], "at least two scenarios"),
    (["validate", "tests/data/bad_scenario.toml"], "guiding_fund.allocation"),
])
def test_bad_input_exits_2_with_one_clear_message(args, words):
    res = run_cli(*args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert words in res.stderr and "Traceback" not in res.stderr


def test_an_output_folder_of_another_setup_is_refused_before_running(serial_run, tmp_path):
    out, _ = serial_run
    res = run_cli("run", "fund_need", *SMALL, "--out", out)
    assert res.returncode == 2 and "holds results of another set-up" in res.stderr and "--overwrite" in res.stderr
    assert "Traceback" not in res.stderr
    small = ["--scale", "0.02", "--replicates", "2", "--quiet", "--no-report", "--backend", "serial", "--out", tmp_path]
    assert run_cli("run", "baseline", *small).returncode == 0
    assert run_cli("run", "fund_need", *small).returncode == 2
    res = run_cli("run", "fund_need", *small, "--overwrite")
    assert res.returncode == 0, res.stderr
    assert set(pd.read_parquet(tmp_path / "targets")["scenario"]) == {"fund_need"}


def test_validate_checks_every_shipped_scenario():
    res = run_cli("validate", *sorted((ROOT / "scenarios").glob("*.toml")))
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("\nok  ") + res.stdout.startswith("ok  ") == len(list((ROOT / "scenarios").glob("*.toml")))
