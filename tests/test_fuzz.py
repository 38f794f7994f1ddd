"""Seeded fuzzing of everything a user hands the simulator: scenario files and data files.

Every generated input must end in a named error (a scenario file: a ``ScenarioError``, which the
command line reports on one line with exit code 2, naming the file and the key) or in a valid run
whose parameters are exactly what the file says — never another exception, a hang or a silent
change. The examples are derandomized, so every run of the suite tries the same inputs: 1,000
scenario files (in about 15–20 s; at most a minute) and 240 damaged data files (about as long).

Besides values of the wrong type or range, the scenario mutants hold unicode keys (zero-width,
full-width, control characters), tables where scalars belong, NaN and infinities, huge arrays
and strings (up to a million elements), ``extends`` chains that loop, break off, run too long or
end in a file that is not a scenario, and unknown target sets.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sim.core.hindcast import load_policy_environment
from sim.data.district_recent import load_district_recent
from sim.data.recent import load_recent
from sim.data import actors, datasets, identity
from sim.data.tables import DataError
from sim.experiments.scenario_files import MAX_EXTENDS, META_KEYS, PARAM_KEYS, REPO_SCENARIOS
from sim.experiments.scenarios import ScenarioError, load
from sim.experiments.smoke import smoke_test
from sim.model import InnovationModel
from sim.params.fields import DISTRICTS
from sim.params.parameters import Params, adcode_sets, describe
from sim.util.messages import unprintable


def fuzz(examples: int):
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
SLOW = 10.0        # seconds: no single input may take longer (a hang, or an allocation running away)

# ------------------------------------------------------------------------------------------------
# Scenario files
# ------------------------------------------------------------------------------------------------
LEAVES = {row["key"]: row for row in describe()}
NASTY_STRINGS = ["", " ", ".", "..", "/", "\x00", "a" * 300, "../../etc/passwd", "/etc/hosts", "targets.toml",
                 "calibration.toml", "none", "baseline", "nowhere", "例子", "500101", "-x", "C:\\x", "~", "$HOME"]
nasty_numbers = st.sampled_from([0, -1, 1, 2, 4, 5, 2017, 2019, 2022, 2035, 2036, 10**6, 10**20, 10**400, -10**400,
                                 0.0, 1e-9, 0.5, 1e308, math.inf, -math.inf, math.nan])
scalars = st.one_of(st.booleans(), st.integers(-10**6, 10**6), nasty_numbers, st.floats(allow_nan=True),
                    st.sampled_from(NASTY_STRINGS), st.text(max_size=12))


def nested(depth: int, leaf):
    for _ in range(depth):
        leaf = [leaf]
    return leaf


values = st.one_of(
    scalars,
    st.lists(scalars, max_size=6),
    st.dictionaries(st.text(max_size=6), scalars, max_size=3),
    st.builds(nested, st.integers(2, 700), scalars),        # deep enough to break a recursive reader
)


class Huge:
    """A list of ``n`` copies of ``item`` (or, for a string item and ``text``, one string of n
    copies), written straight into the TOML text: a million elements cost milliseconds to write."""

    def __init__(self, n: int, item, text: bool = False):
        self.n, self.item, self.text = n, item, text

    def __repr__(self):
        return f"Huge({self.n}, {self.item!r}, text={self.text})"


# Keys a planner's editor or a copy and paste can produce: look-alikes of real keys (full-width,
# zero-width, a trailing space, another case), control characters, other scripts and emoji.
UNICODE_KEYS = ["名字", "ｎａｍｅ", "name\u200b", "\u200bname", "name ", " name", "NAME", "Name", "na\x00me", "\n", "\t",
                "\x1b[31m", "\u202eeman", "\u2028", "é", "e\u0301", "😀", "\ufeffname", "guiding_fund\u00a0", "until\r"]
unicode_keys = st.one_of(st.sampled_from(UNICODE_KEYS), st.text(st.characters(codec="utf-8"), min_size=1, max_size=8))
# Tables (and arrays of tables) where a number, a string, a switch or a list belongs.
tables = st.sampled_from([{}, {"value": 1}, {"x": {"y": 2}}, [{"a": 1}], [{}, {}], {"": 0}, {"名字": "x"}])
non_finite = st.sampled_from([math.nan, -math.nan, math.inf, -math.inf])
HUGE_SIZES = [DISTRICTS + 1, 1000, 10**5, 10**6]
PARENTS = "parents"     # the folder of the fixture's parent files, next to the mutant


@st.composite
def leaf_value(draw, key: str):
    """Mostly values the key allows (so that a good share of mutants are valid), else anything."""
    row = LEAVES[key]
    default, lo, hi, choices = row["value"], row["lo"], row["hi"], row["choices"]
    if draw(st.integers(0, 3)) == 0:
        return draw(values)
    if choices:
        return draw(st.sampled_from(list(choices)))
    if isinstance(default, bool):
        return draw(st.booleans())
    if isinstance(default, tuple):
        if default and all(isinstance(x, str) for x in default):
            codes = ["500151", "500152", "500102", "500230", "500233", "500236", "500101", "500999", "abc"]
            # mostly sets, sometimes with a repeat (refused: an adcode list is a set)
            return draw(st.lists(st.sampled_from(codes), max_size=4, unique=draw(st.integers(0, 3)) > 0))
        return draw(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 0.5, 0.2, -1]), min_size=len(default),
                             max_size=len(default)))
    lo = -10.0 if lo is None else lo
    hi = 10.0 if hi is None else min(hi, 10**6)
    if isinstance(default, int):
        return draw(st.integers(int(lo) - 1, int(hi) + 1))
    return draw(st.floats(lo - 0.1 * abs(hi - lo), hi + 0.1 * abs(hi - lo), allow_nan=False))


# Names ``targets`` might be given: near misses of the real sets, and names a mapping of the sets
# might answer to by accident.
TARGET_NAMES = ["policy_2025", "double_doubling_2025", "double_doubling_2027", "t", "", "POLICY_2025", "policy_2025 ",
                " policy_2025", "policy_2025\n", "policy_2025\u200b", "ｐｏｌｉｃｙ_2025", "policy", "2025", "__init__",
                "__class__", "keys", "get", "items", "none", "all", "*", "目标"]
RUN_VALUES = {"until": st.integers(2020, 2040), "replicates": st.integers(-1, 12), "seed": st.integers(-1, 2**64),
              "targets": st.one_of(st.sampled_from(TARGET_NAMES), st.text(max_size=12)),
              "policy_off": st.booleans(), "calibration": st.sampled_from(NASTY_STRINGS),
              "name": st.sampled_from(["ok_name", "A-1.b", "ok_name\n", "ok\x00", "ok name", "名字", *NASTY_STRINGS]),
              "description": st.sampled_from(["a mutant", "two\nlines", "d" * 600, "a\x00b", "tab\there", "bell\x07",
                                              "\u202eright to left", "zero\u200bwidth", "line\u2028sep", "esc\x1b[2J",
                                              "全角　空格 is fine", "  padded  ", "trailing newline\n", *NASTY_STRINGS]),
              "extends": st.sampled_from([str(REPO_SCENARIOS / "baseline.toml"), "baseline", "fund_need", *NASTY_STRINGS])}
# ``extends`` chains that go wrong somewhere up the chain (the files are made by the fixture).
BAD_EXTENDS = [f"{PARENTS}/{n}" for n in ("cycle_a", "self_loop", "orphan", "bad_value", "bad_parent_of_parent",
                                          "long_0", "not_utf8", "too_big", "bad_name_ok", "good", "good_chain",
                                          "conflict")]
BAD_EXTENDS += ["mutant", "mutant.toml", "./mutant", PARENTS, str(identity.DATA_DIR / "targets.toml"),
                str(identity.DATA_DIR / "calibration.toml"), str(identity.DATA_DIR / "districts.csv"), "/dev/null"]


@st.composite
def huge_value(draw):
    """Where a million elements do the most harm: the adcode sets, the fixed-length number lists,
    the strings, a section, an unknown key."""
    n = draw(st.sampled_from(HUGE_SIZES))
    where = draw(st.sampled_from(["platforms.zone_upgrades", "innovative_county.candidates",
                                  "innovative_county.already_passed", "evaluation.weights", "transfer.stage_success",
                                  "cultivation.certification_windows", "description", "name", "extends", "targets",
                                  "platforms", "colour"]))
    item = draw(st.sampled_from(["500151", "500233", 0, 1, 0.5, "x", True]))
    text = where in ("description", "name", "extends", "targets") and draw(st.booleans())
    return [where] if where not in LEAVES else where.split("."), Huge(n, str(item) if text else item, text)


ADCODE_KEYS = ["platforms.zone_upgrades", "innovative_county.candidates", "innovative_county.already_passed"]
ADCODES = [str(c) for c in range(500101, 500156)] + ["500233", "500230", "500236", "500999", "abc", ""]


@st.composite
def mutation(draw):
    """One change to the file: ("put", [key, subkey, …], value) or ("delete", [key], None)."""
    kind = draw(st.integers(0, 20))
    if kind <= 9:
        key = draw(st.sampled_from(sorted(LEAVES)))
        return ("put", key.split("."), draw(leaf_value(key)))
    if kind <= 11:
        key = draw(st.sampled_from(sorted(RUN_VALUES)))
        return ("put", [key], draw(st.one_of(RUN_VALUES[key], values)))
    if kind == 12:
        return ("delete", [draw(st.sampled_from([*META_KEYS, *PARAM_KEYS]))], None)
    if kind == 13:
        return ("put", [draw(st.one_of(st.sampled_from([*PARAM_KEYS, *META_KEYS]), st.text(min_size=1, max_size=8)))],
                draw(values))
    if kind == 14:              # a unicode key: at the top, in a section, or below a leaf
        section = draw(st.sampled_from([None, *PARAM_KEYS]))
        key = draw(unicode_keys)
        return ("put", [key] if section is None else [section, key], draw(scalars))
    if kind == 15:              # a table where a scalar or list belongs
        key = draw(st.sampled_from([*sorted(LEAVES), *RUN_VALUES]))
        return ("put", key.split(".") if key in LEAVES else [key], draw(tables))
    if kind == 16:              # NaN or an infinity: alone, or inside a list the key allows
        key = draw(st.sampled_from([*sorted(LEAVES), "until", "replicates", "seed"]))
        value = draw(non_finite)
        default = LEAVES[key]["value"] if key in LEAVES else None
        if isinstance(default, tuple) and default:
            at = draw(st.integers(0, len(default) - 1))
            value = [value if i == at else x for i, x in enumerate(default)]
        return ("put", key.split(".") if key in LEAVES else [key], value)
    if kind == 17:
        return ("put", *draw(huge_value()))
    if kind == 18:
        return ("put", ["extends"], draw(st.sampled_from(BAD_EXTENDS)))
    if kind == 19:
        return ("put", ["targets"], draw(st.one_of(st.sampled_from(TARGET_NAMES), unicode_keys, tables, non_finite)))
    # an adcode set: a repeat, more adcodes than there are districts, an adcode of no district
    key = draw(st.sampled_from(ADCODE_KEYS))
    return ("put", key.split("."), draw(st.lists(st.sampled_from(ADCODES), max_size=DISTRICTS + 8)))


def toml_value(v) -> str:
    if isinstance(v, Huge):
        if v.text:
            return json.dumps(v.item * v.n, ensure_ascii=False)
        return "[" + ", ".join([toml_value(v.item)] * v.n) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)      # JSON escapes are TOML escapes, bar surrogate pairs
    if isinstance(v, list):
        # iterative for the deepest ones: "[[[...x...]]]"
        depth = 0
        while isinstance(v, list) and len(v) == 1 and isinstance(v[0], list):
            v, depth = v[0], depth + 1
        return "[" * depth + "[" + ", ".join(toml_value(x) for x in v) + "]" + "]" * depth
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def put(d: dict, parts: list, value):
    for p in parts[:-1]:
        if not isinstance(d.get(p), dict):
            d[p] = {}
        d = d[p]
    d[parts[-1]] = value


def to_toml(d: dict) -> str:
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}\n" for k, v in d.items())


@st.composite
def damage(draw, data: bytes) -> bytes:
    """Byte-level damage: cut off, junk inserted, invalid UTF-8, a byte-order mark, a line twice."""
    op = draw(st.integers(0, 4))
    at = draw(st.integers(0, len(data)))
    if op == 0:
        return data[:at]
    if op == 1:
        return data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:]
    if op == 2:
        return data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xe4\xb8"])) + data[at:]
    if op == 3:
        return b"\xef\xbb\xbf" + data
    lines = data.splitlines(keepends=True)
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    return b"".join(lines[:i + 1] + lines[i:])


@st.composite
def scenario_file(draw):
    d = {"name": "mutant", "description": "a mutated scenario", "extends": str(REPO_SCENARIOS / "baseline.toml"),
         "replicates": 3}
    for op, parts, value in draw(st.lists(mutation(), min_size=1, max_size=4)):
        if op == "put":
            put(d, parts, value)
        else:
            d.pop(parts[0], None)
    data = to_toml(d).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        data = draw(damage(data))
    return d, data


def expected_leaf(value, default):
    if isinstance(default, tuple):
        return tuple(value)
    if isinstance(default, float) and not isinstance(value, bool):
        return float(value)
    return value


def assert_says_what_the_file_says(d: dict, scenario) -> None:
    """A valid run: every parameter and run key the mutant set is exactly what the model gets."""
    p = scenario.params.to_dict()
    for section, table in d.items():
        if section in PARAM_KEYS:
            items = table.items() if isinstance(table, dict) else [(None, table)]
            for k, v in items:
                if k is None:
                    assert p[section] == v
                    continue
                node = p[section]
                if isinstance(v, dict) and isinstance(node.get(k), dict):
                    for kk, vv in v.items():
                        assert node[k][kk] == expected_leaf(vv, getattr(getattr(getattr(scenario.params, section), k), kk))
                else:
                    assert node[k] == expected_leaf(v, getattr(getattr(scenario.params, section), k)), (section, k)
    for key in ("until", "replicates", "seed"):
        if key in d:
            assert getattr(scenario, key) == d[key]
    if "targets" in d:
        assert scenario.target_set == d["targets"]


def assert_nothing_silent(scenario) -> None:
    """What a valid scenario may never carry into its reports and replicates."""
    assert unprintable(scenario.name) is None and unprintable(scenario.description) is None
    assert scenario.description == scenario.description.strip() and scenario.description
    for key, codes, _ in adcode_sets(scenario.params):
        assert len(set(codes)) == len(codes) <= DISTRICTS, key


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def scenario_dir(workdir):
    """The mutant's folder, with parent files whose ``extends`` chains go wrong (or right) above it."""
    folder = workdir / "scenarios"
    parents = folder / PARENTS
    parents.mkdir(parents=True)
    base = json.dumps(str(REPO_SCENARIOS / "baseline.toml"))

    def parent(name, body, extends=None):
        head = f'name = "{name}"\ndescription = "parent {name}"\n' + (f"extends = {extends}\n" if extends else "")
        (parents / f"{name}.toml").write_text(head + body, "utf-8")

    parent("cycle_a", "", '"cycle_b"')
    parent("cycle_b", "", '"cycle_c"')
    parent("cycle_c", "", '"cycle_a"')
    parent("self_loop", "", '"self_loop.toml"')
    parent("orphan", "", '"nowhere_to_be_found"')
    parent("bad_value", "[talent]\ncommissioners = 99\n", base)
    parent("bad_parent_of_parent", "", '"bad_value"')
    for i in range(MAX_EXTENDS + 8):
        parent(f"long_{i}", "", f'"long_{i + 1}"' if i < MAX_EXTENDS + 7 else base)
    (parents / "not_utf8.toml").write_bytes(b'name = "\xff\xfe"\ndescription = "x"\n')
    parent("too_big", "# " + "x" * (2 << 20) + "\n", base)
    (parents / "bad_name_ok.toml").write_text('name = "bad name\\n"\ndescription = "a parent\'s name is not checked"\n'
                                              f"extends = {base}\n", "utf-8")
    parent("good", "until = 2027\ntargets = \"double_doubling_2027\"\n[guiding_fund]\nallocation = \"need\"\n", base)
    parent("good_chain", "[paired]\nintensity = 2.0\n", '"good"')
    # a rule across keys that the mutant settles if it raises behaviour.link_decay enough, else refused
    parent("conflict", "[behaviour]\nlink_rate = 30.0\n", base)
    return folder


@fuzz(1000)
@given(case=scenario_file())
def test_fuzzed_scenario_files_give_a_named_error_or_exactly_the_run_they_say(scenario_dir, case):
    d, data = case
    f = scenario_dir / "mutant.toml"
    f.write_bytes(data)
    start = time.perf_counter()
    try:                            # what `python run.py validate` does: parse, check, smoke-build one quarter
        scenario = load(f)
        smoke_test(scenario)
    except ScenarioError as e:      # any other exception fails the test
        message = str(e)
        assert e.key and e.file and f"key '{e.key}'" in message, message
        assert e.key != "(model)", message      # the smoke test's catch-all: no check caught it first
        assert len(message) < 2500 and unprintable(message) is None, repr(message[:300])
        assert time.perf_counter() - start < SLOW
        return
    assert time.perf_counter() - start < SLOW
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pytest.fail("a file that is not UTF-8 was accepted")
    assert_nothing_silent(scenario)
    if data == to_toml(d).encode("utf-8", "surrogatepass"):        # not damaged byte by byte: d is what it says
        assert_says_what_the_file_says(d, scenario)

# ------------------------------------------------------------------------------------------------
# Data files
# ------------------------------------------------------------------------------------------------
CSV_FILES = sorted(p.name for p in identity.DATA_DIR.glob("*.csv") if p.name != "policy_parameters.csv")
DATA_FILES = [*CSV_FILES, "boundaries.geojson"]
LOADERS = [lambda d: datasets.load_districts(d, 2022), lambda d: datasets.load_districts(d, 2017),
           actors.load_universities, actors.load_leading_firms, actors.load_industry_directions,
           actors.load_paired_assistance, actors.load_sichuan_chongqing, actors.load_city_history,
           actors.load_district_history, datasets.load_boundaries, load_policy_environment, datasets.load_hindcast_indicators,
           load_recent, load_district_recent]
CELL_JUNK = ["", " ", "x", "-1", "0", "nan", "inf", "1e400", "9" * 5000, "\x00", '"', "500999", "500101", "2017", "é" * 3]
HINDCAST_FILES = ("district_indicators.csv", "hindcast_2017.csv", "policy_environment.csv", "universities.csv")
# Damage no valid file can carry: each must be caught by the loaders.
MUST_FAIL = {"cut mid-line", "header only", "empty", "line twice", "not UTF-8", "a folder", "missing", "json junk"}


@st.composite
def data_damage(draw):
    name = draw(st.sampled_from(DATA_FILES))
    data = (identity.DATA_DIR / name).read_bytes()
    lines = data.splitlines(keepends=True)
    ops = ["cut mid-line", "header only", "empty", "line twice", "not UTF-8", "a folder", "missing"] + (
        ["json junk", "point junk"] if name.endswith(".geojson") else ["drop a line", "cell junk", "cell junk"])
    op = draw(st.sampled_from(ops))
    if op == "cut mid-line":
        ends = {i + 1 for i, b in enumerate(data) if b == 0x0A} | {0}
        cuts = [i for i in range(1, len(data)) if i not in ends]
        return name, op, data[:draw(st.sampled_from(cuts[:: max(len(cuts) // 500, 1)]))]
    if op == "header only":
        return name, op, lines[0] if not name.endswith(".geojson") else b"{}"
    if op == "empty":
        return name, op, b""
    if op == "line twice":
        if name.endswith(".geojson"):
            return name, op, data + data
        i = draw(st.integers(0, len(lines) - 1))
        return name, op, b"".join(lines[:i + 1] + lines[i:])
    if op == "not UTF-8":
        at = draw(st.integers(0, len(data) - 1))
        return name, op, data[:at] + b"\xff\xfe" + data[at:]
    if op in ("a folder", "missing"):
        return name, op, None
    if op == "drop a line":
        i = draw(st.integers(1, max(len(lines) - 1, 1)))
        return name, op, b"".join(lines[:i] + lines[i + 1:])
    if op == "json junk":
        return name, op, draw(st.sampled_from([b"null", b"[]", b"0", b'"x"', b'{"type": "FeatureCollection"}',
                                               b"[" * 100_000 + b"]" * 100_000, b'{"features": [1, 2]}']))
    if op == "point junk":
        gj = json.loads(data)
        feature = gj["features"][draw(st.integers(0, len(gj["features"]) - 1))]
        junk = draw(st.sampled_from(["a", None, 1e9, True, [], {"x": 1}, -1000]))
        where = draw(st.sampled_from(["rep_lon", "rep_lat", "coord", "geometry", "properties", "adcode"]))
        if where == "coord":
            ring = feature["geometry"]["coordinates"][0]
            ring = ring[0] if feature["geometry"]["type"] == "MultiPolygon" else ring
            ring[draw(st.integers(0, len(ring) - 1))][draw(st.integers(0, 1))] = junk
        elif where in ("geometry", "properties"):
            feature[where] = junk
        else:
            feature["properties"][where] = junk
        return name, op, json.dumps(gj, ensure_ascii=False).encode()
    # cell junk
    i = draw(st.integers(1, len(lines) - 1))
    cells = lines[i].decode("utf-8").rstrip("\n").split(",")
    cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(CELL_JUNK))
    return name, op, b"".join(lines[:i] + [(",".join(cells) + "\n").encode()] + lines[i + 1:])


def damaged_copy(root: Path, name: str, data: bytes | None, op: str) -> Path:
    """A fresh data folder (its own path, so no cached reading applies) with one file damaged."""
    d = root / f"data-{len(list(root.iterdir()))}"
    d.mkdir()
    for p in identity.DATA_DIR.iterdir():
        if p.is_file() and p.name != name:
            os.symlink(p, d / p.name)
    if op == "a folder":
        (d / name).mkdir()
    elif op != "missing":
        (d / name).write_bytes(data)
    return d


@fuzz(240)
@given(case=data_damage())
def test_damaged_data_files_give_a_named_error_or_a_model_that_runs(workdir, case):
    name, op, data = case
    root = workdir / "data"
    root.mkdir(exist_ok=True)
    d = damaged_copy(root, name, data, op)
    start = time.perf_counter()
    failed = []
    for loader in LOADERS:
        try:
            loader(d)
        except DataError as e:
            # the error names a file of this folder: the damaged one, or one checked against it
            assert Path(e.file).parent == d and (Path(e.file).name == name or name in str(e)), str(e)
            assert len(str(e)) < 2500
            failed.append(str(e))
    assert time.perf_counter() - start < SLOW
    if op in MUST_FAIL:
        assert failed, f"{op} of {name} was accepted"
    if not failed:          # every loader accepts the folder: then the model must run on it
        for start_year in (2022, 2017) if name in HINDCAST_FILES else (2022,):
            model = InnovationModel(Params().with_overrides(start_year=start_year), seed=1, scale=0.001, data_dir=d)
            model.step()
            model.release()
    shutil.rmtree(d)

