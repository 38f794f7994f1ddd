"""Output folders: a run only deletes what it wrote, results know what they are, one writer at a time."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import cli
from sim.experiments.outfolder import LOCK_FILE, OWNER_FILE, OutputFolder, OutputFolderError
from sim.experiments.results import load_results
from sim.experiments.scenarios import load

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--scale", "0.02", "--replicates", "3", "--backend", "serial", "--chunk", "1", "--quiet", "--no-report"]


def run(capsys, *args):
    code = cli.main(["run", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def targets(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "targets").sort_values(["replicate", "target"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An undisturbed run: what every repaired folder must come back to, bit for bit."""
    out = tmp_path_factory.mktemp("reference") / "baseline"
    assert cli.main(["run", "baseline", *SMALL, "--out", str(out)]) == 0
    return out


def test_a_folder_with_foreign_files_is_refused_and_left_as_it_was(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "baseline", *SMALL, "--out", tmp_path)
    assert code == 2 and "did not write ('notes.txt')" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("where, words", [
    (lambda tmp: Path("/"), "filesystem root"),
    (lambda tmp: Path.home(), "home folder"),
    (lambda tmp: ROOT, "project's own folder"),
    (lambda tmp: tmp / "file.txt", "is a file"),
    (lambda tmp: tmp / "file.txt" / "below", "is under the file"),
])
def test_places_that_are_never_a_results_folder(tmp_path, capsys, where, words):
    (tmp_path / "file.txt").write_text("x")
    code, _, err = run(capsys, "baseline", *SMALL, "--out", where(tmp_path))
    assert code == 2 and words in err
    code, _, err = run(capsys, "baseline", "fund_need", *SMALL, "--out", where(tmp_path))    # a parent folder
    assert code == 2 and words in err


def test_overwrite_removes_only_what_the_project_wrote(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(capsys, "baseline", *SMALL, "--out", out)[0] == 0
    (out / "city" / "my_notes.txt").write_text("keep")
    (out / "figures").mkdir()
    (out / "figures" / "my_chart.png").write_bytes(b"keep")
    (out / ".tmp-someone-else").write_text("keep")
    code, _, err = run(capsys, "fund_need", *SMALL, "--out", out, "--overwrite")
    assert code == 0, err
    assert (out / "city" / "my_notes.txt").read_text() == "keep"
    assert (out / "figures" / "my_chart.png").read_bytes() == b"keep"
    assert (out / ".tmp-someone-else").exists()
    assert set(targets(out)["scenario"]) == {"fund_need"}


def test_without_its_manifest_a_folder_still_refuses_another_setup(tmp_path, capsys, reference):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    (out / "manifest.json").unlink()
    for other in (["baseline", "--seed", "7"], ["fund_need"]):
        code, _, err = run(capsys, *other, *SMALL, "--out", out)
        assert code == 2 and "holds results of another set-up" in err
    code, _, err = run(capsys, "baseline", *SMALL, "--out", out)
    assert code == 0 and "0 run(s) to do, 3 already done" in err
    assert json.loads((out / "manifest.json").read_text())["scenario"] == "baseline"


@pytest.mark.parametrize("damage, words", [
    (lambda out: (out / "districts" / "part-r00001-00001.parquet").write_bytes(
        (out / "districts" / "part-r00001-00001.parquet").read_bytes()[:500]), "districts/part-r00001-00001.parquet"),
    (lambda out: (out / "links" / "part-r00001-00001.parquet").unlink(), "which is missing"),
    (lambda out: (out / "done" / "r00001-00001.json").write_text(
        (out / "done" / "r00001-00001.json").read_text()[:80]), "done/r00001-00001.json cannot be read"),
])
def test_a_damaged_or_missing_shard_is_named_and_its_task_run_again(tmp_path, capsys, reference, damage, words):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    damage(out)
    scenario = load("baseline").with_run(replicates=3, scale=0.02)
    with pytest.raises(OutputFolderError, match=re.escape(words)):     # reading never trips over a partial file
        load_results(out, scenario)
    kept = (out / "city" / "part-r00000-00000.parquet").stat().st_mtime_ns
    code, _, err = run(capsys, "baseline", *SMALL, "--out", out)
    assert code == 0 and "warning:" in err and words in err and "1 run(s) to do, 2 already done" in err
    assert (out / "city" / "part-r00000-00000.parquet").stat().st_mtime_ns == kept
    pd.testing.assert_frame_equal(targets(out), targets(reference), check_exact=True)
    for table in ("city", "districts", "links"):
        a = pd.read_parquet(out / table).sort_values(list(pd.read_parquet(out / table).columns)).reset_index(drop=True)
        b = pd.read_parquet(reference / table).sort_values(list(a.columns)).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_leftovers_of_this_projects_runs_go_and_other_files_stay(tmp_path, capsys, reference):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    earlier = json.loads((out / OWNER_FILE).read_text())["runs"][0]
    (out / "city" / f".tmp-{earlier}-0000abcd-part-r00002-00002.parquet").write_bytes(b"half")
    (out / "city" / "part-r00005-00005.parquet").write_bytes(b"a shard its task never vouched for")
    (out / "city" / ".tmp-notours-x").write_bytes(b"keep")
    assert run(capsys, "baseline", *SMALL, "--out", out)[0] == 0
    names = {p.name for p in (out / "city").iterdir()}
    assert ".tmp-notours-x" in names and "part-r00005-00005.parquet" not in names
    assert not any(n.startswith(f".tmp-{earlier}") for n in names)


def test_a_folder_of_an_earlier_version_is_adopted_only_if_it_holds_nothing_else(tmp_path, capsys, reference):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    (out / OWNER_FILE).unlink()
    (out / LOCK_FILE).unlink()
    for marker in (out / "done").glob("*.json"):      # markers without the set-up they belong to
        data = json.loads(marker.read_text())
        marker.write_text(json.dumps(dict(replicates=data["replicates"], targets=data["targets"])))
    code, _, err = run(capsys, "baseline", *SMALL, "--out", out)
    assert code == 2 and "earlier version" in err and "--overwrite" in err
    code, _, err = run(capsys, "baseline", *SMALL, "--out", out, "--overwrite")
    assert code == 0, err
    assert json.loads((out / OWNER_FILE).read_text())["project"] == "cq-innovation-sim"


def test_a_comparison_folder_is_not_a_scenario_folder(tmp_path, capsys):
    cmp = tmp_path / "cmp"
    code, _, err = run(capsys, "baseline", *SMALL, "--out", tmp_path / "one")
    assert code == 0
    assert cli.main(["compare", "baseline", "paired_off", *SMALL, "--out", str(tmp_path / "one")]) == 2
    assert "not the results of a compare" in capsys.readouterr().err
    assert cli.main(["compare", "baseline", "paired_off", *SMALL, "--out", str(cmp)]) == 0
    capsys.readouterr()
    code, _, err = run(capsys, "baseline", *SMALL, "--out", cmp)
    assert code == 2 and "holds the results of a compare" in err


def test_two_runs_into_one_folder_the_second_refuses_or_waits(tmp_path):
    out = tmp_path / "out"
    # full scale, so the first run is still simulating when the second one starts
    args = [sys.executable, "run.py", "run", "baseline", "--scale", "1", "--replicates", "3", "--backend", "serial",
            "--quiet", "--no-report", "--out", str(out)]
    first = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (out / "manifest.json").exists():     # it holds the lock
            time.sleep(0.02)
        # Paused while it holds the lock: the second run takes seconds to start, and on a busy
        # machine (the suite runs on two processes) the first could otherwise finish before it looks.
        os.kill(first.pid, signal.SIGSTOP)
        try:
            second = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
        finally:
            os.kill(first.pid, signal.SIGCONT)
    except BaseException:
        first.kill()
        first.wait()
        raise
    assert second.returncode == 2, second.stderr
    assert "is in use by another run" in second.stderr and f"process {first.pid}" in second.stderr
    assert "--wait" in second.stderr and "Traceback" not in second.stderr
    queued = subprocess.run([*args, "--wait", "120"], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert queued.returncode == 0, queued.stderr
    assert "0 run(s) to do, 3 already done" in queued.stderr
    assert sorted(pd.read_parquet(out / "targets")["replicate"].unique()) == [0, 1, 2]


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from sim.experiments.outfolder import OutputFolder; "
                               f"held = OutputFolder({str(out)!r}).open(); print('held', flush=True); time.sleep(60)"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(OutputFolderError, match="in use"):
        OutputFolder(out).open(0)
    holder.kill()
    holder.wait()
    with OutputFolder(out) as folder:
        assert folder.is_open


def test_a_write_that_fails_halfway_keeps_what_finished_and_resumes(tmp_path, capsys, monkeypatch, reference):
    import sim.experiments.results as results
    out, write = tmp_path / "out", results.atomic_write

    def full_disk(path, data, run_id):
        if "part-r00001" in str(path):
            raise OSError(28, "No space left on device", str(path))
        return write(path, data, run_id)
    monkeypatch.setattr(results, "atomic_write", full_disk)
    code, _, err = run(capsys, "baseline", *SMALL, "--out", out)
    assert code == 2 and "No space left on device" in err and "run the same command to resume" in err
    monkeypatch.setattr(results, "atomic_write", write)
    code, _, err = run(capsys, "baseline", *SMALL, "--out", out)
    assert code == 0 and "1 run(s) to do, 2 already done" in err
    pd.testing.assert_frame_equal(targets(out), targets(reference), check_exact=True)


def test_markers_too_damaged_to_say_their_setup_are_not_redone_as_another(tmp_path, capsys, reference):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    for marker in (out / "done").glob("*.json"):
        marker.write_text(marker.read_text()[:40])
    code, _, err = run(capsys, "fund_need", *SMALL, "--out", out)      # the manifest still says baseline
    assert code == 2 and "damaged marker(s) of the set-up manifest.json names" in err
    assert len(list((out / "city").glob("part-*.parquet"))) == 3
    code, _, err = run(capsys, "baseline", *SMALL, "--out", out)
    assert code == 0 and err.count("warning:") == 3 and "3 run(s) to do" in err
    pd.testing.assert_frame_equal(targets(out), targets(reference), check_exact=True)


def test_tasks_are_contiguous_small_enough_to_balance_and_bounded():
    """Replicates' run times differ many-fold across posterior draws, so a pool gets eight tasks
    per worker (and large ensembles tasks of at most MAX_TASK_ITEMS), each a contiguous range
    (a shard is named by its first and last replicate), together every replicate once."""
    from sim.experiments.ensemble import MAX_TASK_ITEMS, TASKS_PER_WORKER, split
    for n, workers in ((100, 2), (7, 2), (1000, 2), (999, 3), (40, 4)):
        tasks = split(list(range(n)), workers)
        assert [k for t in tasks for k in t] == list(range(n))
        assert all(t == list(range(t[0], t[-1] + 1)) for t in tasks)
        assert len(tasks) >= min(n, TASKS_PER_WORKER * workers) and max(map(len, tasks)) <= MAX_TASK_ITEMS
        assert max(map(len, tasks)) - min(map(len, tasks)) <= 1
    assert split(list(range(5)), 1) == [[k] for k in range(5)]
    assert split(list(range(5)), 2, chunk=2) == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize("out, words", [
    (" ", "is blank"),
    ("   ", "is blank"),
    ("a\nb", "U+000A LINE FEED"),
    ("res\tults", "U+0009 TAB"),
    ("results ", "begins or ends in a space"),
    (" results", "begins or ends in a space"),
    ("a\nb/c", "in the folder name 'a\\nb'"),           # not only the last name: every one is created
    ("ok/ /c", "blank folder name ' '"),
    ("ok /c", "folder name 'ok '"),
    ("zero\u200bwidth", "ZERO WIDTH SPACE"),
])
def test_folder_names_that_hide_or_split_lines_are_refused_by_every_command(tmp_path, capsys, monkeypatch, out, words):
    monkeypatch.chdir(tmp_path)
    for command in (["run", "baseline"], ["run", "baseline", "fund_need"], ["compare", "baseline", "fund_need"]):
        code = cli.main([*command, *SMALL, "--out", out])
        err = capsys.readouterr().err
        assert code == 2 and "key '--out'" in err and words in err, err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []       # nothing created


def test_the_optimiser_refuses_such_a_folder_name_too(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = cli.main(["optimise", "baseline", "--out", "mixes\n"])
    err = capsys.readouterr().err
    assert code == 2 and "key '--out'" in err and "LINE FEED" in err and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_ordinary_folder_names_pass_the_name_check(tmp_path):
    for out in ("results", "results/baseline", "../x", "./a/b", "结果/基准", "a b", "x.y-z_1", tmp_path / "out"):
        OutputFolder(out).check_place()
    with pytest.raises(OutputFolderError) as err:
        OutputFolder(Path("out ") / "x").check()
    assert err.value.key == "--out" and "folder name 'out '" in str(err.value)
