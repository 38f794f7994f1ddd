"""``calibrate``'s bad paths, scheduler and history: one line and exit 2, before any search."""

import importlib
import sqlite3

import pytest

from sim.cli import main

# the module, not the function sim.calibration hands on under the same name
calibration_search = importlib.import_module("sim.calibration.search")


def _error(capsys, *argv) -> str:
    assert main(["calibrate", "--quiet", *map(str, argv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("args, words", [
    (["--history", "{f}/h.db"], "is a file, so"),                       # a history under a file
    (["--history", "{d}.db", "--fresh"], "is a folder"),                 # --fresh where the history is a folder
    (["--figure", "h.xyz"], "expected a figure file (.png or .pdf or .svg)"),
    (["--figure", "{d}"], "expected a figure file"),                     # a folder, not DIR.png beside it
    (["--figure", "{d}.png"], "is a folder"),
    (["--out", "{d}"], "expected a calibration file (.toml)"),
    (["--out", "{f}/c.toml"], "is a file, so"),
])
def test_a_path_that_could_only_fail_late_is_refused_first(tmp_path, capsys, args, words):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "adir.db").mkdir()
    (tmp_path / "adir.png").mkdir()
    argv = [a.format(f=tmp_path / "afile", d=tmp_path / "adir") for a in args]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "c.toml")]
    assert words in _error(capsys, *argv)
    assert not (tmp_path / "c.toml").exists() and not (tmp_path / "adir.png.png").exists()


@pytest.mark.parametrize("content", [b"not a database at all", b""])
def test_a_damaged_history_is_called_damaged(tmp_path, capsys, content):
    history = tmp_path / "abc.db"
    history.write_bytes(content)
    err = _error(capsys, "--history", history, "--out", tmp_path / "c.toml", "--population", 4, "--budget", 4)
    assert "damaged" in err and "--fresh" in err and "other settings" not in err


def test_a_history_of_other_tables_is_called_damaged(tmp_path, capsys):
    history = tmp_path / "abc.db"
    with sqlite3.connect(history) as db:
        db.execute("create table notes (x text)")
    err = _error(capsys, "--history", history, "--out", tmp_path / "c.toml", "--population", 4, "--budget", 4)
    assert "damaged" in err or "no calibration history" in err


def test_an_unreachable_scheduler_is_an_option_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(calibration_search, "SCHEDULER_TIMEOUT", "1s")
    err = _error(capsys, "--scheduler", "tcp://127.0.0.1:9", "--out", tmp_path / "c.toml", "--population", 4,
                 "--budget", 4)
    assert "--scheduler" in err and "tcp://127.0.0.1:9" in err
    assert not (tmp_path / "c.toml").exists()
