"""Seeded fuzzing of everything a user hands the simulator: scenario files and data files.

Every generated input must end in a named error (one that the command line reports with exit
code 2, naming the file) or in a valid run whose parameters are exactly what the file says —
never a traceback, a hang or a silent change. The examples are derandomized, so every run of
the suite tries the same inputs: 1,000 scenario files and 240 damaged data files, in about half
a minute together.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sim import cli
from sim.core.hindcast import load_policy_environment
from sim.data import actors, datasets, identity
from sim.data.tables import DataError
from sim.experiments.scenarios import META_KEYS, PARAM_KEYS, REPO_SCENARIOS, load
from sim.model import InnovationModel
from sim.params.parameters import Params, describe


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
            return draw(st.lists(st.sampled_from(codes), max_size=4, unique=True))
        return draw(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 0.5, 0.2, -1]), min_size=len(default),
                             max_size=len(default)))
    lo = -10.0 if lo is None else lo
    hi = 10.0 if hi is None else min(hi, 10**6)
    if isinstance(default, int):
        return draw(st.integers(int(lo) - 1, int(hi) + 1))
    return draw(st.floats(lo - 0.1 * abs(hi - lo), hi + 0.1 * abs(hi - lo), allow_nan=False))


RUN_VALUES = {"until": st.integers(2020, 2040), "replicates": st.integers(-1, 12), "seed": st.integers(-1, 2**64),
              "targets": st.sampled_from(["policy_2025", "double_doubling_2025", "double_doubling_2027", "t", ""]),
              "policy_off": st.booleans(), "calibration": st.sampled_from(NASTY_STRINGS),
              "name": st.sampled_from(["ok_name", "A-1.b", *NASTY_STRINGS]),
              "description": st.sampled_from(["a mutant", "two\nlines", "d" * 600, *NASTY_STRINGS]),
              "extends": st.sampled_from([str(REPO_SCENARIOS / "baseline.toml"), "baseline", "fund_need", *NASTY_STRINGS])}


@st.composite
def mutation(draw):
    kind = draw(st.integers(0, 9))
    if kind <= 5:
        key = draw(st.sampled_from(sorted(LEAVES)))
        return ("set", key, draw(leaf_value(key)))
    if kind <= 7:
        key = draw(st.sampled_from(sorted(RUN_VALUES)))
        return ("set", key, draw(st.one_of(RUN_VALUES[key], values)))
    if kind == 8:
        return ("delete", draw(st.sampled_from([*META_KEYS, *PARAM_KEYS])), None)
    return ("set", draw(st.one_of(st.sampled_from([*PARAM_KEYS, *META_KEYS]), st.text(min_size=1, max_size=8))),
            draw(values))


def toml_value(v) -> str:
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


def set_path(d: dict, dotted: str, value):
    parts = dotted.split(".") if dotted in LEAVES else [dotted]
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
    for op, key, value in draw(st.lists(mutation(), min_size=1, max_size=4)):
        if op == "set":
            set_path(d, key, value)
        else:
            d.pop(key, None)
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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@fuzz(1000)
@given(case=scenario_file())
def test_fuzzed_scenario_files_give_a_named_error_or_exactly_the_run_they_say(workdir, case):
    d, data = case
    f = workdir / "mutant.toml"
    f.write_bytes(data)
    err, out = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = cli.main(["validate", str(f)])       # parse, check, smoke-build one quarter
    assert time.perf_counter() - start < SLOW
    assert "Traceback" not in err.getvalue()
    if code == 2:
        message = err.getvalue()
        assert message.startswith("error: ") and "key '" in message, message
        assert len(message) < 2500
        return
    assert code == 0 and out.getvalue().startswith("ok  "), err.getvalue()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pytest.fail("a file that is not UTF-8 was accepted")
    if data == to_toml(d).encode("utf-8", "surrogatepass"):        # not damaged byte by byte: d is what it says
        assert_says_what_the_file_says(d, load(f))


# ------------------------------------------------------------------------------------------------
# Data files
# ------------------------------------------------------------------------------------------------
CSV_FILES = sorted(p.name for p in identity.DATA_DIR.glob("*.csv") if p.name != "policy_parameters.csv")
DATA_FILES = [*CSV_FILES, "boundaries.geojson"]
LOADERS = [lambda d: datasets.load_districts(d, 2022), lambda d: datasets.load_districts(d, 2017),
           actors.load_universities, actors.load_leading_firms, actors.load_industry_directions,
           actors.load_paired_assistance, actors.load_sichuan_chongqing, actors.load_city_history,
           actors.load_district_history, datasets.load_boundaries, load_policy_environment, datasets.load_hindcast_indicators]
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

