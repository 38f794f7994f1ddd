"""Every data file the project ships is checked when it is read: the tables the model starts
from, the descriptive and provenance tables the reports print, and the files only `calibrate`
reads. Known holes first, each with its own test; then a seeded fuzz that damages every shipped
file (cells, rows, headers, tables, keys, bytes) and requires each loader to load it or to name
the problem in one line (an InputError naming the file), never another exception."""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import math
import os
import random
import shutil
import tomllib
from pathlib import Path

import pytest

from sim.calibration import cli as calibration_cli
from sim.core.hindcast import load_policy_environment
from sim.data.district_recent import load_district_recent
from sim.data.recent import load_recent
from sim.data import actors, datasets, identity
from sim.data.tables import DataError
from sim.experiments.calibration_file import CALIBRATION_WRITTEN, CalibrationError, load_calibration
from sim.experiments.targets import TargetError, load_target_sets
from sim.util.errors import InputError

DATA = identity.DATA_DIR
SHIPPED = sorted(p.name for p in DATA.iterdir() if p.is_file() and p.suffix in (".csv", ".toml", ".geojson"))


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_text(d: dict) -> str:
    """``d`` as TOML (each top-level table inline): reads back as ``d``."""
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}\n" for k, v in d.items())


def shipped_toml(name: str) -> dict:
    return tomllib.loads((DATA / name).read_text("utf-8"))


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def rows_bytes(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def folder_with(root: Path, name: str, data: bytes | None, op: str = "write") -> Path:
    """A fresh data folder (its own path, so no cached reading applies): every shipped file
    linked, ``name`` replaced by ``data`` (or missing, or a folder)."""
    d = root / f"data-{len(list(root.iterdir()))}"
    d.mkdir()
    for p in DATA.iterdir():
        if p.is_file() and p.name != name:
            os.symlink(p, d / p.name)
    if op == "folder":
        (d / name).mkdir()
    elif op != "missing":
        (d / name).write_bytes(data)
    return d


def one_line(e: Exception, d: Path) -> str:
    msg = str(e)
    assert "\n" not in msg and len(msg) < 2500, msg
    assert str(d) in msg, f"the message does not name a file of {d}: {msg}"
    return msg


@pytest.fixture
def root(tmp_path):
    return tmp_path


# ------------------------------------------------------------------------------------------------
# the shipped files load
# ------------------------------------------------------------------------------------------------
def test_every_shipped_file_loads_and_the_calibration_file_is_complete():
    cal = load_calibration(require=CALIBRATION_WRITTEN)
    assert set(CALIBRATION_WRITTEN) <= set(cal) and "backtest" in cal
    assert actors.load_evaluation_fit()["fit"]["weights"]
    assert len(actors.load_policy_parameters()) > 100
    assert load_target_sets()
    for loader in LOADERS.values():
        loader(None)


# ------------------------------------------------------------------------------------------------
# calibration.toml: the descriptive tables a report prints
# ------------------------------------------------------------------------------------------------
def _set(d, dotted, value):
    *head, last = dotted.split(".")
    for k in head:
        d = d[k]
    d[last] = value


def _drop(d, dotted):
    *head, last = dotted.split(".")
    for k in head:
        d = d[k]
    del d[last]


CAL_DAMAGE = [
    # (what is done, dotted key, value or None to remove; the key the error must name)
    ("set", "fit.tech_enterprises.mape", "abc", "fit.tech_enterprises.mape"),
    ("set", "meta.posterior_ess", math.inf, "meta.posterior_ess"),
    ("set", "fit.tech_enterprises.max_ape", math.nan, "fit.tech_enterprises.max_ape"),
    ("set", "fit.tech_enterprises.max_ape", 1.0, "fit.tech_enterprises.max_ape"),          # below the mean
    ("set", "meta.posterior_ess", 500.0, "meta.posterior_ess"),                            # more than the particles
    ("set", "start_fit.rd_expenditure.mape", -3.0, "start_fit.rd_expenditure.mape"),
    ("set", "fit.rd_intensity.simulated", [1.0, 2.0], "fit.rd_intensity.simulated"),
    ("set", "meta.seed", -1, "meta.seed"),
    ("set", "meta.eval_replicates", 2.5, "meta.eval_replicates"),
    ("set", "meta.created", "yesterday", "meta.created"),
    ("set", "meta.aim_met", "yes", "meta.aim_met"),
    ("set", "meta.data_version.districts\\.csv", "abc", None),
    ("set", "search.ess", [1.0, 2.0], "search.ess"),
    ("set", "uncertainty.behaviour.bass_q.q05", 1.9, "uncertainty.behaviour.bass_q"),
    ("set", "uncertainty.behaviour.bass_q.prior", "normal", "uncertainty.behaviour.bass_q.prior"),
    ("set", "parameters.behaviour.bass_q", 99.0, "parameters.behaviour.bass_q"),
    ("set", "parameters.behaviour.bass_q", "abc", "parameters.behaviour.bass_q"),
    ("set", "posterior.behaviour.bass_q", [0.5, math.nan], "posterior.behaviour.bass_q"),
    ("set", "backtest.coverage90", 1.5, "backtest.coverage90"),
    ("set", "backtest.origin_2020.p50", [1.0], "backtest.origin_2020.p50"),
    ("set", "zzz", {"a": 1}, "zzz"),
    ("set", "meta.colour", "red", "meta.colour"),
    ("drop", "fit", None, "fit"),
    ("drop", "meta", None, "meta"),
    ("drop", "search", None, "search"),
    ("drop", "uncertainty", None, "uncertainty"),
    ("drop", "start_fit", None, "start_fit"),
    ("drop", "posterior", None, "posterior"),
    ("drop", "parameters", None, "parameters"),
    ("drop", "meta.posterior_ess", None, "meta.posterior_ess"),
    ("drop", "fit.rd_intensity", None, "fit.rd_intensity"),
    ("drop", "uncertainty.behaviour.bass_q.sd", None, "uncertainty.behaviour.bass_q.sd"),
    ("drop", "parameters.behaviour.bass_q", None, "meta.free"),
    ("drop", "parameters.behaviour.candidate_ratio", None, "meta.derived"),
]


@pytest.mark.parametrize("op, key, value, named", CAL_DAMAGE, ids=[f"{c[0]} {c[1]}" for c in CAL_DAMAGE])
def test_a_damaged_calibration_table_is_a_named_error(root, op, key, value, named):
    cal = shipped_toml("calibration.toml")
    if "\\." in key:          # a key with a dot in it (data_version's file names)
        section, _, rest = key.partition(".data_version.")
        cal[section]["data_version"][rest.replace("\\.", ".")] = value
        named = "meta.data_version.districts.csv"
    elif op == "set":
        _set(cal, key, value)
    else:
        _drop(cal, key)
    path = root / "calibration.toml"
    path.write_text(toml_text(cal), "utf-8")
    with pytest.raises(CalibrationError) as e:
        load_calibration(path)
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and "Traceback" not in msg
    assert e.value.key == named, msg


def test_a_hand_made_calibration_holds_its_parameters_and_may_hold_nothing_else(root):
    path = root / "cal.toml"
    path.write_text("[parameters.behaviour]\nbass_q = 0.5\n", "utf-8")
    assert load_calibration(path)["parameters"] == {"behaviour": {"bass_q": 0.5}}
    with pytest.raises(CalibrationError, match="key 'meta'"):           # what re-running it needs
        load_calibration(path, require=("meta", "fit"))
    path.write_text("[parameters.behaviour]\nbass_q = 0.5\n[posterior.behaviour]\n", "utf-8")
    with pytest.raises(CalibrationError, match="holds no draws"):
        load_calibration(path)
    path.write_text("[parameters.behaviour]\nbass_q = 0.5\n[fit.x]\nmape = 1.0\n", "utf-8")
    with pytest.raises(CalibrationError, match="key 'meta'.*missing"):   # [fit] without the rest of a written file
        load_calibration(path)


def test_evaluating_a_damaged_calibration_file_is_one_line_and_exit_2(root, capsys):
    cal = shipped_toml("calibration.toml")
    cal["fit"]["tech_enterprises"]["mape"] = "abc"
    path = root / "calibration.toml"
    path.write_text(toml_text(cal), "utf-8")
    parser = argparse.ArgumentParser()
    calibration_cli.add_arguments(parser)
    assert calibration_cli.main(parser.parse_args(["--evaluate", "--out", str(path), "--workers", "1", "--quiet"])) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "key 'fit.tech_enterprises.mape'" in err and "Traceback" not in err
    assert err.count("\n") == 1


# ------------------------------------------------------------------------------------------------
# targets.toml
# ------------------------------------------------------------------------------------------------
GOOD_TARGETS = (DATA / "targets.toml").read_text("utf-8")


@pytest.mark.parametrize("old, new, key", [
    ("threshold = 45000", "threshold = -1e308", "policy_2025.targets[0].threshold"),     # a firm count: always met
    ("threshold = 45000", "threshold = -1", "policy_2025.targets[0].threshold"),
    ("threshold = 34", "threshold = 39", "policy_2025.targets[5].threshold"),            # more than the 38 districts
    ("threshold = 30.0", "threshold = 130.0", "policy_2025.targets[3].threshold"),       # a percentage over 100
    ('title = "2025 targets of the 2022 guiding opinions on district S&T innovation"', "title = 5", "policy_2025.title"),
    ('source = "《关于支持区县科技创新发展的指导意见》, Chongqing S&T bureau, Nov 2022, section 三/(三) (verified)"\n',
     "", "policy_2025.source"),
])
def test_a_target_file_with_an_impossible_threshold_or_no_source_is_a_named_error(root, old, new, key):
    assert old in GOOD_TARGETS
    path = root / "targets.toml"
    path.write_text(GOOD_TARGETS.replace(old, new, 1), "utf-8")
    with pytest.raises(TargetError) as e:
        load_target_sets(path)
    assert e.value.key == key and str(path) in str(e.value)


# ------------------------------------------------------------------------------------------------
# CSV files: names, counts, headers
# ------------------------------------------------------------------------------------------------
def swapped(path: Path, a: str, b: str) -> bytes:
    rows = read_rows(path)
    i, j = rows[0].index(a), rows[0].index(b)
    for r in rows[1:]:
        r[i], r[j] = r[j], r[i]
    return rows_bytes(rows)


@pytest.mark.parametrize("name, a, b, loader", [
    ("leading_firms.csv", "name_zh", "name_en", actors.load_leading_firms),
    ("universities.csv", "name_zh", "name_en", actors.load_universities),
    ("industry_directions.csv", "name_zh", "name_en", actors.load_industry_directions),
    ("districts.csv", "name_zh", "name_pinyin", identity.district_identity),
])
def test_chinese_and_english_name_columns_swapped_are_caught(root, name, a, b, loader):
    d = folder_with(root, name, swapped(DATA / name, a, b))
    with pytest.raises(DataError) as e:
        loader(d)
    assert e.value.file == str(d / name) and e.value.column == "name_zh" and e.value.row == 2
    assert "no Chinese characters" in str(e.value)
    rows = read_rows(DATA / name)                         # an English name with Chinese in it
    col = rows[0].index(b)
    rows[3][col] = rows[3][rows[0].index(a)]
    d = folder_with(root, name, rows_bytes(rows))
    with pytest.raises(DataError) as e:
        loader(d)
    assert e.value.column == b and e.value.row == 4


def edited(name: str, match, column: str, value: str) -> tuple[bytes, int]:
    rows = read_rows(DATA / name)
    i = next(k for k, r in enumerate(rows) if k and match(dict(zip(rows[0], r))))
    rows[i][rows[0].index(column)] = value
    return rows_bytes(rows), i + 1


@pytest.mark.parametrize("match, column, value, words", [
    (lambda r: r["indicator"] == "tech_enterprises" and r["year"] == "2019", "value", "-16918", "out of range"),
    (lambda r: r["indicator"] == "tech_enterprises" and r["year"] == "2019", "value", "16918.5", "not a whole number"),
    (lambda r: r["indicator"] == "rd_expenditure" and r["year"] == "2019", "unit", "10k_yuan", "'100m_yuan'"),
    (lambda r: r["indicator"] == "rd_share_central_urban", "value", "161.2", "more than 100"),
])
def test_a_negative_or_impossible_city_figure_is_caught(root, match, column, value, words):
    data, line = edited("city_history.csv", match, column, value)
    d = folder_with(root, "city_history.csv", data)
    with pytest.raises(DataError) as e:
        actors.load_city_history(d)
    assert e.value.row == line and e.value.column == column and words in str(e.value)


@pytest.mark.parametrize("name, match, column, value", [
    ("district_indicators.csv", lambda r: r["indicator"] == "gdp", "unit", "10k_yuan"),
    ("district_indicators.csv", lambda r: r["indicator"] == "gdp", "indicator", "gpd"),
    ("hindcast_2017.csv", lambda r: r["indicator"] == "n_universities", "value", "1.5"),
    ("universities.csv", lambda r: r["kind"] == "lab", "level", "undergraduate"),
    ("platforms.csv", lambda r: True, "platform", "Some Park"),
    ("policy_parameters.csv", lambda r: r["unit"] == "firms", "value", "-5"),
    ("policy_parameters.csv", lambda r: r["unit"] == "pct", "value", "250"),
])
def test_units_kinds_and_counts_are_checked(root, name, match, column, value):
    data, line = edited(name, match, column, value)
    d = folder_with(root, name, data)
    with pytest.raises(DataError) as e:
        LOADERS[name](d)
    assert e.value.file == str(d / name) and e.value.row == line and e.value.column == column, str(e.value)


@pytest.mark.parametrize("name", sorted(n for n in SHIPPED if n.endswith(".csv")))
def test_a_header_must_name_exactly_the_expected_columns(root, name):
    rows = read_rows(DATA / name)
    extra = [r + ["x"] for r in rows]
    extra[0][-1] = "comment"
    d = folder_with(root, name, rows_bytes(extra))
    with pytest.raises(DataError) as e:
        LOADERS[name](d)
    assert e.value.row == 1 and e.value.column == "'comment'" and "unknown column" in str(e.value)
    renamed = [list(r) for r in rows]
    renamed[0][-1] = renamed[0][-1] + "s"
    d = folder_with(root, name, rows_bytes(renamed))
    with pytest.raises(DataError, match="row 1, column .*missing column"):
        LOADERS[name](d)


def test_the_boundaries_name_each_district_as_districts_csv_does(root):
    gj = json.loads((DATA / "boundaries.geojson").read_text("utf-8"))
    gj["features"][3]["properties"]["name_zh"] = "Dadukou"
    d = folder_with(root, "boundaries.geojson", json.dumps(gj, ensure_ascii=False).encode())
    with pytest.raises(DataError, match="feature 4.properties.name_zh"):
        datasets.load_boundaries(d)


@pytest.mark.parametrize("key, value, named", [
    ("fit.weights", [0.5, 0.5, 0.5, 0.5, 0.5], "fit.weights"),
    ("fit.exponents", [0.1] * 8, "fit.exponents"),
    ("fit.status", "guessed", "fit.status"),
    ("fit.city_index", math.inf, "fit.city_index"),
    ("start_scores.渝中", "high", "start_scores.渝中"),
    ("start_scores.Nowhere", 50.0, "start_scores.Nowhere"),
])
def test_the_evaluation_fit_is_checked(root, key, value, named):
    ev = shipped_toml("evaluation_fit.toml")
    _set(ev, key, value)
    d = folder_with(root, "evaluation_fit.toml", toml_text(ev).encode())
    with pytest.raises(DataError) as e:
        actors.load_evaluation_fit(d)
    assert e.value.column == named and str(d / "evaluation_fit.toml") in str(e.value)
    ev = shipped_toml("evaluation_fit.toml")
    del ev["start_scores"]["渝中"]
    d = folder_with(root, "evaluation_fit.toml", toml_text(ev).encode())
    with pytest.raises(DataError, match="start_scores.渝中.*missing"):
        actors.load_evaluation_fit(d)


# ------------------------------------------------------------------------------------------------
# seeded fuzz of every shipped file
# ------------------------------------------------------------------------------------------------
LOADERS = {
    "districts.csv": identity.district_identity,
    "district_indicators.csv": datasets.load_indicators,
    "hindcast_2017.csv": datasets.load_hindcast_indicators,
    "platforms.csv": datasets.load_platforms,
    "universities.csv": actors.load_universities,
    "leading_firms.csv": actors.load_leading_firms,
    "industry_directions.csv": actors.load_industry_directions,
    "paired_assistance.csv": actors.load_paired_assistance,
    "sichuan_chongqing.csv": actors.load_sichuan_chongqing,
    "city_history.csv": actors.load_city_history,
    "district_history.csv": actors.load_district_history,
    "policy_parameters.csv": actors.load_policy_parameters,
    "policy_environment.csv": load_policy_environment,
    "city_recent.csv": load_recent,
    "district_recent.csv": load_district_recent,
    "boundaries.geojson": datasets.load_boundaries,
    "evaluation_fit.toml": actors.load_evaluation_fit,
    "calibration.toml": lambda d: load_calibration(identity.data_folder(d) / "calibration.toml"),
    "targets.toml": lambda d: load_target_sets(identity.data_folder(d) / "targets.toml"),
}
EVERY_LOADER = [*LOADERS.values(), lambda d: datasets.load_districts(d, 2022), lambda d: datasets.load_districts(d, 2017)]
CASES_PER_FILE = 12
CELL_JUNK = ["", " ", "x", "-1", "0", "-1e308", "nan", "inf", "1e400", "9" * 400, "\x00", '"', "500999", "500101",
             "2017", "é" * 3, "重庆", "Chongqing", "True", "zone.500101"]
TOML_JUNK = ["abc", "", math.inf, -math.inf, math.nan, True, [], {}, -1e308, 10 ** 400, -1, 0, 0.5, [1, "a"],
             {"x": 1}, "重庆"]
# Damage no valid file can carry: the loaders must name it.
MUST_FAIL = {"cut mid-line", "empty", "not UTF-8", "header only", "a folder", "missing", "unknown column",
             "column renamed", "column dropped", "row twice", "negative count", "names swapped", "table removed",
             "unknown key", "wrong type", "invalid TOML", "feature dropped"}
# Damage that changes nothing a loader returns: every loader must accept it.
MUST_PASS = {"rows reversed", "features reversed", "same content"}
NEGATIVE = {"city_recent.csv": "value", "district_recent.csv": "value", "district_indicators.csv": "value", "hindcast_2017.csv": "value", "city_history.csv": "value",
            "district_history.csv": "value", "platforms.csv": "year", "policy_environment.csv": "year"}
NAMES = {"leading_firms.csv": ("name_zh", "name_en"), "universities.csv": ("name_zh", "name_en"),
         "industry_directions.csv": ("name_zh", "name_en"), "districts.csv": ("name_zh", "name_pinyin")}


def _category(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def _leaves(d, prefix=()):
    for k, v in d.items():
        yield (*prefix, k), v
        if isinstance(v, dict):
            yield from _leaves(v, (*prefix, k))


def csv_damage(rng: random.Random, name: str, data: bytes):
    rows = read_rows(DATA / name)
    header = rows[0]
    ops = ["cut mid-line", "empty", "not UTF-8", "header only", "unknown column", "column renamed", "column dropped",
           "row twice", "row dropped", "cell junk", "cell junk", "cell junk", "rows reversed", "cells swapped"]
    ops += ["negative count"] * (name in NEGATIVE) + ["names swapped"] * (name in NAMES)
    op = rng.choice(ops)
    i = rng.randrange(1, len(rows))
    c = rng.randrange(len(header))
    if op == "cut mid-line":
        ends = {k + 1 for k, b in enumerate(data) if b == 0x0A} | {0}
        return op, data[:rng.choice([k for k in range(1, len(data)) if k not in ends])]
    if op == "empty":
        return op, b""
    if op == "not UTF-8":
        at = rng.randrange(len(data))
        return op, data[:at] + b"\xff\xfe" + data[at:]
    if op == "header only":
        return op, rows_bytes(rows[:1])
    if op == "unknown column":
        return op, rows_bytes([header + ["extra"]] + [r + ["1"] for r in rows[1:]])
    if op == "column renamed":
        return op, rows_bytes([header[:c] + [header[c] + "_x"] + header[c + 1:]] + rows[1:])
    if op == "column dropped":
        return op, rows_bytes([r[:c] + r[c + 1:] for r in rows])
    if op == "row twice":
        return op, rows_bytes(rows[:i + 1] + rows[i:])
    if op == "row dropped":
        return op, rows_bytes(rows[:i] + rows[i + 1:])
    if op == "rows reversed":
        return op, rows_bytes([header, *reversed(rows[1:])])
    if op == "negative count":
        col = header.index(NEGATIVE[name])
        candidates = [k for k, r in enumerate(rows) if k and r[col].strip() not in ("", "0")]
        k = rng.choice(candidates)
        rows[k][col] = "-" + rows[k][col]
        return op, rows_bytes(rows)
    if op == "names swapped":
        a, b = (header.index(x) for x in NAMES[name])
        for r in rows[1:]:
            r[a], r[b] = r[b], r[a]
        return op, rows_bytes(rows)
    if op == "cells swapped":
        c2 = rng.randrange(len(header))
        rows[i][c], rows[i][c2] = rows[i][c2], rows[i][c]
        return op, rows_bytes(rows)
    rows[i][c] = rng.choice(CELL_JUNK)
    return op, rows_bytes(rows)


def toml_damage(rng: random.Random, name: str, data: bytes):
    d = tomllib.loads(data.decode("utf-8"))
    ops = ["cut mid-line", "empty", "not UTF-8", "invalid TOML", "table removed", "key removed", "unknown key",
           "leaf junk", "leaf junk", "leaf junk", "same content"]
    op = rng.choice(ops)
    if op == "cut mid-line":
        # a table or a value cut off; a target file cut between two sets is still a valid file
        return ("cut" if name == "targets.toml" else op), data[:rng.randrange(1, len(data) // 2)]
    if op == "empty":
        return op, b""
    if op == "not UTF-8":
        at = rng.randrange(len(data))
        return op, data[:at] + b"\xff\xfe" + data[at:]
    if op == "invalid TOML":
        return op, data + b"\n[unclosed\n"
    if op == "same content":
        return op, toml_text(d).encode()
    if op == "table removed":
        # a whole top-level table: for targets.toml, the default set every scenario reads
        # ([backtest] and [conditioned] are optional: a file without them is a valid one)
        key = "policy_2025" if name == "targets.toml" else rng.choice(sorted(k for k in d if k not in ("backtest", "conditioned")))
        del d[key]
        return op, toml_text(d).encode()
    leaves = list(_leaves(d))
    path, value = rng.choice(leaves)
    node = d
    for k in path[:-1]:
        node = node[k]
    if op == "key removed":
        del node[path[-1]]
        return op, toml_text(d).encode()
    if op == "unknown key":
        node["zzz_unknown"] = 1
        return op, toml_text(d).encode()
    if isinstance(value, list) and value and rng.random() < 0.5:       # one element of a list
        j = rng.randrange(len(value))
        junk = rng.choice(TOML_JUNK)
        wrong = _category(junk) != _category(value[j]) or (isinstance(junk, float) and not math.isfinite(junk))
        value[j] = junk
    else:
        junk = rng.choice(TOML_JUNK)
        wrong = _category(junk) != _category(value) or (isinstance(junk, float) and not math.isfinite(junk)) \
            or (isinstance(junk, int) and not isinstance(junk, bool) and abs(junk) > 2 ** 63)
        node[path[-1]] = copy.deepcopy(junk)
    # A value of another type, or not finite, must be named: every value of these files is typed
    # (for targets.toml, bar the free-text description and unit, which take any non-empty string).
    return ("wrong type" if wrong else op), toml_text(d).encode()


def geojson_damage(rng: random.Random, name: str, data: bytes):
    gj = json.loads(data)
    op = rng.choice(["cut mid-line", "empty", "not UTF-8", "feature dropped", "features reversed", "property junk",
                     "property junk"])
    if op == "cut mid-line":
        return op, data[:rng.randrange(1, len(data))]
    if op == "empty":
        return op, b""
    if op == "not UTF-8":
        at = rng.randrange(len(data))
        return op, data[:at] + b"\xff\xfe" + data[at:]
    if op == "feature dropped":
        del gj["features"][rng.randrange(len(gj["features"]))]
    elif op == "features reversed":
        gj["features"].reverse()
    else:
        f = rng.choice(gj["features"])
        f["properties"][rng.choice(["adcode", "name_zh", "rep_lon", "rep_lat", "source"])] = rng.choice(
            ["a", None, 1e9, True, [], {"x": 1}, -1000, "", "500101"])
    return op, json.dumps(gj, ensure_ascii=False).encode()


def damaged(name: str, seed: int):
    rng = random.Random(f"{name}:{seed}")
    data = (DATA / name).read_bytes()
    if rng.random() < 0.08:
        return rng.choice(["a folder", "missing"]), None
    if name.endswith(".csv"):
        return csv_damage(rng, name, data)
    if name.endswith(".toml"):
        return toml_damage(rng, name, data)
    return geojson_damage(rng, name, data)


def test_every_shipped_file_is_fuzzed():
    assert set(LOADERS) == set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_damaged_data_files_give_a_named_error_or_load(tmp_path, name):
    for seed in range(CASES_PER_FILE):
        op, data = damaged(name, seed)
        d = folder_with(tmp_path, name, data, {"a folder": "folder", "missing": "missing"}.get(op, "write"))
        failed = []
        for loader in EVERY_LOADER:
            try:
                loader(d)
            except InputError as e:
                failed.append(one_line(e, d))
            except Exception as e:          # noqa: BLE001 — the point of the test
                pytest.fail(f"{name}, case {seed} ({op}): {type(e).__name__}: {e}")
        if op in MUST_FAIL:
            assert failed, f"{name}, case {seed}: {op} was accepted"
            assert any(name in m for m in failed), f"{name}, case {seed} ({op}): no error names the file: {failed}"
        if op in MUST_PASS:
            assert not failed, f"{name}, case {seed}: {op} was refused: {failed}"
        shutil.rmtree(d)
