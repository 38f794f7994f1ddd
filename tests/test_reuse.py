"""Commands respect the user's time: a folder that already holds the same set-up is read, not run
again, and an option equal to the scenario file's own value does not rename the output folder."""

import shutil
from pathlib import Path

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--scale", "0.01", "--replicates", "2", "--backend", "serial", "--quiet", "--no-report"]


def test_compare_reads_a_scenario_whose_results_folder_holds_the_same_set_up(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("baseline", "no_policy"):
        shutil.copy(ROOT / "scenarios" / f"{name}.toml", tmp_path)
    # --until 2025 and --seed 42 are the file's own values: they do not rename the folder
    assert main(["run", "baseline.toml", *QUICK, "--until", "2025", "--seed", "42"]) == 0
    own = tmp_path / "results" / "baseline_scale0.01"
    assert own.is_dir() and not any(p.name.startswith("baseline_scale0.01_") for p in own.parent.iterdir())
    # its results: shards, markers and summary (not the folder's own record of who opened it)
    results = lambda: {p: p.stat().st_mtime_ns for p in own.rglob("*")  # noqa: E731
                       if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json"}
    before = results()
    capsys.readouterr()

    assert main(["compare", "baseline.toml", "no_policy.toml", *QUICK]) == 0
    err = capsys.readouterr().err
    assert "baseline: using the 2 replicates already in results/baseline_scale0.01" in err
    assert "2 run(s) to do, 2 already done" in err          # only no_policy ran
    compare = tmp_path / "results" / "compare_baseline_vs_no_policy_scale0.01"
    assert (compare / "differences.csv").exists() and not (compare / "baseline").exists()
    assert results() == before and (own / "summary.csv").exists()

    # another set-up (more replicates) is not reused, and --overwrite never reuses
    assert main(["compare", "baseline.toml", "no_policy.toml", *QUICK, "--replicates", "3"]) == 0
    assert "using the" not in capsys.readouterr().err
