"""Scenario files: the shipped set, extends, and the validator under random mutations."""

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sim.experiments import scenario_files
from sim.experiments.scenario_files import META_KEYS, PARAM_KEYS, REPO_SCENARIOS, list_scenarios
from sim.experiments.scenarios import ScenarioError, load
from sim.experiments.targets import TARGET_SETS
from sim.params.parameters import Params

REQUIRED = {"baseline", "no_policy", "fund_equal", "fund_gdp", "fund_need", "fund_competitive", "paired_off",
            "paired_strong", "finance_push", "talent_push", "cluster_catch_up", "double_doubling"}


def test_the_shipped_scenarios_validate_and_say_what_they_represent():
    files = list_scenarios(REPO_SCENARIOS)
    scenarios = {load(f).name: (f, load(f)) for f in files}
    assert REQUIRED <= set(scenarios)
    for name, (f, s) in scenarios.items():
        assert f.stem == name
        comments = [line for line in f.read_text("utf-8").splitlines() if line.startswith("#")]
        assert comments, f"{f.name} has no comment saying what it represents"
        assert s.description and "\n" not in s.description


def test_extends_overrides_only_what_differs():
    base, alt = load("baseline"), load("fund_competitive")
    assert alt.params.guiding_fund.allocation == "competitive" != base.params.guiding_fund.allocation
    assert alt.params.with_overrides({"guiding_fund": {"allocation": base.params.guiding_fund.allocation}}) == base.params
    assert (alt.replicates, alt.seed, alt.until, alt.target_set) == (base.replicates, base.seed, base.until, base.target_set)
    assert load("no_policy").params == base.params.policy_off()
    assert load("paired_off").params.paired.enabled is False


def test_a_scenario_can_select_the_2027_double_doubling_targets():
    s = load("double_doubling")
    assert s.target_set == "double_doubling_2027" and s.until == 2027
    assert {t.id: t.threshold for t in s.targets} == {"DD27-HT": 12800, "DD27-TS": 86000,
                                                      "DD27-HT-CENTRAL": 7110, "DD27-TS-CENTRAL": 46560,
                                                      "DD27-HT-NEW-METRO": 4640, "DD27-TS-NEW-METRO": 29780,
                                                      "DD27-HT-CLUSTERS": 1060, "DD27-TS-CLUSTERS": 9720}
    assert {t.threshold for t in TARGET_SETS["policy_2025"]} >= {45000, 8000}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = 'name = "x"\ndescription = "a test"\nextends = "{base}"\n'


@pytest.mark.parametrize("body, key, words", [
    ('colour = "red"\n', "colour", "unknown key"),
    ('[guiding_fund]\nbudget = 3\n', "guiding_fund.budget", "unknown key"),
    ('[guiding_fund]\nannual_budget = "lots"\n', "guiding_fund.annual_budget", "expected a number"),
    ('[guiding_fund]\nannual_budget = -1\n', "guiding_fund.annual_budget", "out of range"),
    ('[guiding_fund]\nallocation = "lottery"\n', "guiding_fund.allocation", "choose one of"),
    ('replicates = 0\n', "replicates", "out of range"),
    ('seed = 1.5\n', "seed", "expected an integer"),
    ('targets = "t2030"\n', "targets", "not a target set"),
    ('targets = "double_doubling_2027"\n', "until", "until ≥ 2027"),
    ('until = 2050\n', "until", "out of range"),
    ('policy_off = "yes"\n', "policy_off", "true or false"),
    ('guiding_fund = 3\n', "guiding_fund", "table"),
])
def test_bad_values_name_the_file_the_key_and_what_is_allowed(tmp_path, body, key, words):
    f = write(tmp_path, "bad", GOOD.format(base=REPO_SCENARIOS / "baseline.toml") + body)
    with pytest.raises(ScenarioError) as err:
        load(f)
    assert err.value.key == key and words in str(err.value) and str(f) in str(err.value)


def test_missing_extends_cycles_and_broken_toml_are_clear_errors(tmp_path):
    f = write(tmp_path, "orphan", GOOD.format(base="nowhere"))
    with pytest.raises(ScenarioError, match="'nowhere' not found"):
        load(f)
    write(tmp_path, "a", 'name = "a"\ndescription = "a"\nextends = "b"\n')
    write(tmp_path, "b", 'name = "b"\ndescription = "b"\nextends = "a"\n')
    with pytest.raises(ScenarioError, match="cycle of extends: a.toml → b.toml → a.toml"):
        load(tmp_path / "a.toml")
    f = write(tmp_path, "broken", 'name = "x"\ndescription = \n')
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load(f)
    f = write(tmp_path, "nameless", 'description = "no name"\n')
    with pytest.raises(ScenarioError, match="names itself"):
        load(f)
    # A bad key in a parent is reported against the parent's file, not the child's.
    write(tmp_path, "parent", 'name = "p"\ndescription = "p"\n[talent]\ncommissioners = 99\n')
    child = write(tmp_path, "child", 'name = "c"\ndescription = "c"\nextends = "parent"\n')
    with pytest.raises(ScenarioError) as err:
        load(child)
    assert err.value.file.endswith("parent.toml") and err.value.key == "talent.commissioners"


# ------------------------------------------------------------------------------------------------
# Property-based: random mutations of valid scenarios never crash the validator with anything but
# a ScenarioError that names the file.
# ------------------------------------------------------------------------------------------------
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)      # a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(d: dict) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in d.items())


scalars = st.one_of(st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
leaf_keys = [f"{section}.{name}" for section in PARAM_KEYS
             for name in (Params().to_dict()[section] if isinstance(Params().to_dict()[section], dict) else {})]
keys = st.one_of(st.sampled_from(list(META_KEYS) + list(PARAM_KEYS) + leaf_keys), st.text(min_size=1, max_size=10))


def set_path(d: dict, dotted: str, value):
    parts = dotted.split(".")
    for p in parts[:-1]:
        if not isinstance(d.get(p), dict):
            d[p] = {}
        d = d[p]
    d[parts[-1]] = value


VALID = {"name": "mutant", "description": "a mutated scenario", "extends": str(REPO_SCENARIOS / "baseline.toml"),
         "replicates": 3, "guiding_fund": {"allocation": "need", "annual_budget": 12.5},
         "paired": {"intensity": 2.0}, "talent": {"commissioners": 2.0}}


@settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["set", "delete"]), keys, values), min_size=1, max_size=4))
def test_random_mutations_only_ever_raise_the_clear_error(mutations):
    scenario = json.loads(json.dumps(VALID))
    for op, key, value in mutations:
        if op == "set":
            set_path(scenario, key, value)
        else:
            scenario.pop(key.split(".")[0], None)
    with tempfile.TemporaryDirectory() as tmp:
        f = write(Path(tmp), "mutant", to_toml(scenario))
        try:
            s = load(f)
        except ScenarioError as e:
            assert str(f) in str(e) or "baseline.toml" in str(e) or "nowhere" in str(e) or e.file
            assert e.key
        else:
            assert s.name and s.replicates >= 1 and isinstance(s.params, Params)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.integers(0, 200), st.text(min_size=1, max_size=6))
def test_random_damage_to_the_text_is_a_clear_error(position, junk):
    text = (REPO_SCENARIOS / "paired_strong.toml").read_text("utf-8")
    text = text.replace('extends = "baseline"', f'extends = {json.dumps(str(REPO_SCENARIOS / "baseline.toml"))}')
    position = min(position, len(text))
    with tempfile.TemporaryDirectory() as tmp:
        f = write(Path(tmp), "damaged", text[:position] + junk + text[position:])
        try:
            load(f)
        except ScenarioError as e:
            assert e.key and e.file


# ------------------------------------------------------------------------------------------------
# Files a new user gets wrong: each is one ScenarioError naming the file and the key, quoting at
# most ~200 characters of the value.
# ------------------------------------------------------------------------------------------------
BASE = str(REPO_SCENARIOS / "baseline.toml")


@pytest.mark.parametrize("text, key, words", [
    ('name = ".."\ndescription = "x"\n', "name", "starting with a letter or digit"),
    ('name = ".hidden"\ndescription = "x"\n', "name", "starting with a letter or digit"),
    (f'name = "{"a" * 300}"\ndescription = "x"\n', "name", "1–64"),
    ('name = "x"\ndescription = "' + "d" * 100_000 + '"\n', "description", "at most 500"),
    ('name = "x"\ndescription = "x"\nextends = "/"\n', "extends", "not found"),
    ('name = "x"\ndescription = "x"\nextends = "a\\u0000b"\n', "extends", "not found"),
    (f'name = "x"\ndescription = "x"\nextends = "{"b" * 300}"\n', "extends", "not found"),
    ('name = "x"\ndescription = "x"\nseed = ' + "9" * 5000 + "\n", "(file)", "not valid TOML"),
    # the reader may give up on it (RecursionError, depending on the stack) or the depth check catches it
    ('name = "x"\ndescription = "x"\n[guiding_fund]\nallocation = ' + "[" * 600 + "]" * 600 + "\n", "*", "nested"),
    ('name = "x"\ndescription = "x"\n[guiding_fund]\nallocation = ' + "[" * 40 + "]" * 40 + "\n",
     "guiding_fund.allocation", "nested more than"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\ncalibration = "/etc/passwd"\n', "calibration", "not allowed"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\ncalibration = "../../etc/x.toml"\n', "calibration", "leads out of"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\ncalibration = "nowhere.toml"\n', "calibration", "not a file"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\ncalibration = "targets.toml"\n', "parameters",
     "nothing would be applied"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\nstart_year = 2019\n', "start_year", "up to the latest, 2024"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[behaviour]\nlink_decay = 0.0\n', "behaviour.link_decay",
     "never decay"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[evaluation]\nweights = [0, 0, 0, 0, 0]\n', "evaluation.weights",
     "positive sum"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[cultivation]\ncertification_windows = [5, 6]\n',
     "cultivation.certification_windows", "1 to 4"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[platforms]\nzone_upgrades = ["500151", "123"]\n',
     "platforms.zone_upgrades", "'123'"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[innovative_county]\ncandidates = ["999999"]\n',
     "innovative_county.candidates", "counties"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[guiding_fund]\nannual_budget = {10**400}\n',
     "guiding_fund.annual_budget", "finite"),
    # an adcode list is a set: a repeat, or more than there are districts, is refused by name
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[platforms]\nzone_upgrades = ["500151", "500151"]\n',
     "platforms.zone_upgrades", "'500151' is listed more than once"),
    (f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[innovative_county]\ncandidates = [' + '"500233", ' * 100_000
     + ']\n', "innovative_county.candidates", "at most 38; got a list of 100,000"),
    # a description or a name is one line of printable text
    ('name = "x"\ndescription = "\\u0000"\n', "description", "U+0000 NUL at character 1"),
    ('name = "x"\ndescription = "tab\\there"\n', "description", "U+0009 TAB at character 4"),
    ('name = "x"\ndescription = "a\\u001b[2Jb"\n', "description", "U+001B ESCAPE"),
    ('name = "x"\ndescription = "\\u202eevil"\n', "description", "RIGHT-TO-LEFT OVERRIDE"),
    ('name = "x"\ndescription = "a\\u200bb"\n', "description", "ZERO WIDTH SPACE"),
    ('name = "x"\ndescription = "one\\u2028two"\n', "description", "LINE SEPARATOR"),
    ('name = "x"\ndescription = "one\\ntwo"\n', "description", "non-empty line of printable text"),
    ('name = "x"\ndescription = "\\u0000"\n', "description", "no control characters"),
    ('name = "x\\n"\ndescription = "x"\n', "name", "starting with a letter or digit, got 'x\\n'"),
    ('name = "x\\u0000"\ndescription = "x"\n', "name", "1–64 letters"),
])
def test_ordinary_mistakes_are_one_clear_error(tmp_path, text, key, words):
    (tmp_path / "empty.toml").write_text("", "utf-8")
    f = write(tmp_path, "mistake", text)
    with pytest.raises(ScenarioError) as err:
        load(f)
    assert key in (err.value.key, "*") and words in str(err.value), str(err.value)
    assert len(str(err.value)) <= 2000 and "a" * 250 not in str(err.value) and "d" * 250 not in str(err.value)


def test_a_calibration_file_next_to_the_scenario_is_found_first_and_reported(tmp_path):
    (tmp_path / "mine.toml").write_text("[parameters.behaviour]\nbass_p = 0.05\n", "utf-8")
    f = write(tmp_path, "s", f'name = "s"\ndescription = "own fit"\nextends = "{BASE}"\ncalibration = "mine.toml"\n')
    s = load(f)
    assert s.params.behaviour.bass_p == 0.05 and s.calibration == str(tmp_path / "mine.toml")
    assert load("baseline").calibration.endswith("sim/data/calibration.toml")
    (tmp_path / "empty.toml").write_text("[parameters]\n", "utf-8")
    f = write(tmp_path, "e", f'name = "e"\ndescription = "empty fit"\nextends = "{BASE}"\ncalibration = "empty.toml"\n')
    with pytest.raises(ScenarioError, match="non-empty"):
        load(f)


def test_a_long_chain_of_extends_is_refused_not_a_recursion_error(tmp_path):
    for i in range(1000):
        write(tmp_path, f"c{i}", f'name = "c{i}"\ndescription = "link {i}"\n' + (f'extends = "c{i + 1}"\n' if i < 999 else ""))
    with pytest.raises(ScenarioError, match="longer than 32 files"):
        load(tmp_path / "c0.toml")
    write(tmp_path, "short", 'name = "short"\ndescription = "near the end"\nextends = "c990"\n')
    assert load(tmp_path / "short.toml").chain[-1].endswith("c999.toml")


def test_non_utf8_and_a_byte_order_mark(tmp_path):
    (tmp_path / "bin.toml").write_bytes(b'name = "\xff\xfe"\n')
    with pytest.raises(ScenarioError, match="UTF-8"):
        load(tmp_path / "bin.toml")
    (tmp_path / "bom.toml").write_bytes(("\ufeff" + GOOD.format(base=BASE)).encode("utf-8"))
    assert load(tmp_path / "bom.toml").name == "x"


def test_an_empty_key_is_named_as_such(tmp_path):
    f = write(tmp_path, "empty_key", 'name = "empty_key"\n"" = 1\n')
    with pytest.raises(ScenarioError) as e:
        load(f)
    assert e.value.key == '""'


def test_a_description_may_hold_any_printable_text_and_is_stripped(tmp_path):
    f = write(tmp_path, "zh", 'name = "zh"\ndescription = "  引导资金　按需分配 (need-based split) ‘quoted’ — ok \\n"\n'
              f'extends = "{BASE}"\n')
    assert load(f).description == "引导资金　按需分配 (need-based split) ‘quoted’ — ok"


def test_a_file_far_larger_than_any_scenario_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    # a million repeats of a valid adcode: 10 MB of TOML, refused on its size, before any TOML is parsed
    f = write(tmp_path, "huge", f'name = "x"\ndescription = "x"\nextends = "{BASE}"\n[platforms]\nzone_upgrades = ['
              + '"500151", ' * 10**6 + "]\n")
    parse_text = scenario_files.parse_text
    parsed = []
    monkeypatch.setattr(scenario_files, "parse_text", lambda text, path, skip=None: (
        parsed.append(Path(path).name), parse_text(text, path, skip))[1])
    with pytest.raises(ScenarioError) as err:
        load(f)
    assert "huge.toml" not in parsed
    assert err.value.key == "(file)" and "larger than 1 MiB" in str(err.value)
    # the same in a parent is the parent's error
    child = write(tmp_path, "child", 'name = "c"\ndescription = "c"\nextends = "huge"\n')
    with pytest.raises(ScenarioError) as err:
        load(child)
    assert err.value.file.endswith("huge.toml") and err.value.key == "(file)"
    assert "child.toml" in parsed and "huge.toml" not in parsed     # the spy sees what is parsed


def test_a_key_with_a_control_character_is_named_on_one_line(tmp_path):
    f = write(tmp_path, "k", 'name = "k"\ndescription = "k"\n"col\\nour" = 1\n')
    with pytest.raises(ScenarioError) as err:
        load(f)
    assert err.value.key == "col\\nour" and "\n" not in str(err.value) and "unknown key" in str(err.value)
    f = write(tmp_path, "k2", f'name = "k"\ndescription = "k"\nextends = "{BASE}"\n[paired]\n"intensity\\u200b" = 1\n')
    with pytest.raises(ScenarioError) as err:
        load(f)
    assert err.value.key == "paired.intensity\\u200b" and "unknown key" in str(err.value)


def test_validate_reports_every_problem_of_a_file_in_one_run(tmp_path, capsys):
    from sim.cli import main
    from sim.experiments.scenarios import problems

    bad = tmp_path / "three.toml"
    bad.write_text('name = "three"\ndescription = "three mistakes and a misspelt key"\nextends = "baseline"\n'
                   'replicates = -3\n[guiding_fund]\nallocation = "competitve"\nannual_budget = -5\n'
                   '[paired]\nintensty = 2\n', "utf-8")
    scenario, found = problems(bad)
    assert scenario is None
    assert [e.key for e in found] == ["guiding_fund.allocation", "guiding_fund.annual_budget", "paired.intensty",
                                      "replicates"]
    assert main(["validate", str(bad), "baseline"]) == 2
    out = capsys.readouterr()
    assert out.err.count("error: ") == 4 and "ok  baseline" in out.out
    # a good file has none, and a problem nothing can be looked past stops the list
    assert problems("baseline")[1] == [] and problems("baseline")[0].name == "baseline"
    broken = tmp_path / "broken.toml"
    broken.write_text("name = = x\n", "utf-8")
    assert [e.key for e in problems(broken)[1]] == ["(file)"]
