"""Target sets are checked when they are read, and a damaged file never breaks an import."""

import pytest

from sim import cli
from sim.experiments import scenarios, targets
from sim.experiments.targets import TARGETS_FILE, TargetError, load_target_sets

GOOD = TARGETS_FILE.read_text("utf-8")


@pytest.mark.parametrize("text, key, words", [
    ("", "(file)", "no target sets"),
    ("[policy_2025\n", "(file)", "not valid TOML"),
    ('title = "x"\n', "title", "non-empty array"),
    (GOOD.replace('indicator = "tech_enterprises"', 'indicator = "tech_enterprise"', 1), "indicator", "not an indicator"),
    (GOOD.replace("year = 2025", "year = 2050", 1), "year", "out of range"),
    (GOOD.replace("threshold = 45000", 'threshold = "lots"', 1), "threshold", "finite number"),
    (GOOD.replace('id = "T2"', 'id = "T1"', 1), "id", "appears twice"),
    (GOOD.replace("[policy_2025]", "[policy_2024]").replace("[[policy_2025.", "[[policy_2024."), "policy_2025", "missing"),
    (GOOD.replace('unit = "firms"', 'colour = "red"', 1), "colour", "unknown key"),
])
def test_a_damaged_target_file_is_one_named_error(tmp_path, text, key, words):
    f = tmp_path / "targets.toml"
    f.write_text(text, "utf-8")
    with pytest.raises(TargetError) as err:
        load_target_sets(f)
    assert err.value.key.endswith(key) and words in str(err.value) and str(f) in str(err.value)


def test_the_shipped_sets_load_with_indicators_the_model_reports():
    sets = load_target_sets()
    assert {"policy_2025", "double_doubling_2025", "double_doubling_2027"} <= set(sets)
    assert [t.id for t in sets["policy_2025"]] == ["T1", "T2", "T3", "T4", "T5", "T6"]


def test_a_broken_target_file_is_a_clear_error_of_the_command_not_of_the_import(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "targets.toml"
    bad.write_bytes(b"\xff\xfe not text")
    lazy = targets._TargetSets(bad)                  # reading is deferred: nothing raises yet
    monkeypatch.setattr(targets, "TARGET_SETS", lazy)
    monkeypatch.setattr(scenarios, "TARGET_SETS", lazy)
    assert cli.main(["validate", "baseline"]) == 2
    err = capsys.readouterr().err
    assert f"error: {bad}" in err and "UTF-8" in err and "Traceback" not in err
