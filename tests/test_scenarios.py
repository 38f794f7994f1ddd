"""Scenario files: the shipped set, extends, and the validator under random mutations."""

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.params import Params
from sim.scenarios import META_KEYS, PARAM_KEYS, REPO_SCENARIOS, ScenarioError, list_scenarios, load
from sim.targets import TARGET_SETS

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
    assert {t.id: t.threshold for t in s.targets} == {"DD27-HT": 12800, "DD27-TS": 86000}
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


@settings(max_examples=100, deadline=None)
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
