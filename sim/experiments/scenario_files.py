"""Reading scenario files: finding one by name or path, parsing its TOML and checking its own
keys on their own, and following its ``extends`` chain to the merged mapping that
:func:`sim.experiments.scenarios.load` turns into a ``Scenario``. Every failure is a
:class:`ScenarioError` naming the file, the key and what is allowed."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from pathlib import Path

from ..core.data_checks import check_against_data
from ..params.fields import ParamConflict
from ..params.parameters import ParamError, Params, merge
from ..util.errors import KeyedError
from ..util.messages import clip, key_name, short

REPO_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

RUN_DEFAULTS = dict(until=2025, replicates=20, seed=42, targets="policy_2025", policy_off=False, calibration="none",
                    fixed_parameters=False)
META_KEYS = ("name", "description", "extends", *RUN_DEFAULTS)
PARAM_KEYS = tuple(f.name for f in dataclasses.fields(Params))
MAX_EXTENDS = 32            # files in one extends chain
MAX_DEPTH = 6               # tables and lists nested in a scenario file (the deepest key needs 4)
# A scenario sets a few dozen values (its longest list: the 38 districts' adcodes), so a file of
# more than this is not one; refused before the TOML reader spends seconds on it.
MAX_FILE_BYTES = 1 << 20


class ScenarioError(KeyedError):
    """A scenario that cannot be run; the message names the file, the key and what is allowed."""


def find(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario by path, or by bare name in ``./scenarios`` or the project's ``scenarios/``."""
    ref = str(ref)
    candidates = [Path(ref)]
    if relative_to is not None:
        candidates.insert(0, relative_to / ref)
    if not ref.endswith(".toml"):
        candidates += [c.with_name(c.name + ".toml") for c in list(candidates) if c.name]
        if "/" not in ref:
            candidates += [Path("scenarios") / f"{ref}.toml", REPO_SCENARIOS / f"{ref}.toml"]
    for c in candidates:
        if is_file(c):
            return c
    raise FileNotFoundError(ref)


def is_file(path: Path) -> bool:
    """Like ``Path.is_file``, but a name too long, with a NUL byte or under a file is simply not one."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def list_scenarios(directory: str | Path | None = None) -> list[Path]:
    directory = Path(directory) if directory else (Path("scenarios") if Path("scenarios").is_dir() else REPO_SCENARIOS)
    return sorted(directory.glob("*.toml"))


# What `validate` sets aside to look past a problem: the key is removed from that file, or a
# required one (name, description) given a stand-in, so the checks after it run.
STAND_INS = {"name": "x", "description": "x"}


def set_aside(raw: dict, path, skip: dict | None) -> dict:
    """``raw`` without the keys ``skip`` names for this file (``{(file, dotted key): None}``)."""
    for file, key in skip or ():
        if file != str(path):
            continue
        *sections, leaf = key.split(".")
        table = raw
        for part in sections:
            table = table.get(part) if isinstance(table, dict) else None
        if isinstance(table, dict) and leaf in table:
            if leaf in STAND_INS and not sections:
                table[leaf] = STAND_INS[leaf]
            else:
                del table[leaf]
        elif not sections and leaf in STAND_INS:
            raw[leaf] = STAND_INS[leaf]
    return raw


def parse(path: Path, skip: dict | None = None) -> dict:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ScenarioError(path, "(file)", f"larger than {MAX_FILE_BYTES >> 20} MiB, far more than a scenario holds "
                                "(its longest value is a list of the 38 districts' adcodes); is this the right file?")
        text = data.decode("utf-8-sig")   # a leading byte-order mark is not part of the TOML
    except OSError as e:
        raise ScenarioError(path, "(file)", f"cannot be read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ScenarioError(path, "(file)", f"cannot be read as UTF-8 text: {e}; save it as UTF-8") from None
    return parse_text(text, path, skip)


def parse_text(text: str, path, skip: dict | None = None) -> dict:
    """Parse one file's TOML and check its own keys (types, ranges, names) on their own."""
    try:
        raw = set_aside(tomllib.loads(text), path, skip)
    except RecursionError:
        raise ScenarioError(path, "(file)", f"tables or lists nested too deeply to read; a scenario needs at most {MAX_DEPTH} "
                            "levels") from None
    except ValueError as e:     # TOMLDecodeError, or an integer of more than 4,300 digits
        raise ScenarioError(path, "(file)", f"not valid TOML: {clip(str(e), 200)}") from None
    deep = too_deep(raw, MAX_DEPTH)
    if deep:
        raise ScenarioError(path, deep, f"tables or lists nested more than {MAX_DEPTH} deep; scenario values are "
                            "numbers, strings, booleans or lists of them, in the sections of sim/params/parameters.py")
    unknown = sorted(set(raw) - set(META_KEYS) - set(PARAM_KEYS))
    if unknown:
        raise ScenarioError(path, key_name(unknown[0]), "unknown key; allowed at the top level: "
                            f"{', '.join(META_KEYS)} and the parameter sections {', '.join(PARAM_KEYS)}")
    if "extends" in raw and not (isinstance(raw["extends"], str) and raw["extends"].strip()):
        raise ScenarioError(path, "extends", f"expected the name or path of another scenario file, got {short(raw['extends'])}")
    try:
        check_against_data(Params.from_dict({k: v for k, v in raw.items() if k in PARAM_KEYS}, file=str(path)), str(path))
    except ParamConflict:
        pass        # a rule across keys that another file of the chain may settle; load() checks the merged set
    except ParamError as e:
        raise ScenarioError(path, e.key, e.detail) from None
    return raw


def resolve(path: Path, seen: tuple = (), skip: dict | None = None) -> tuple[list, dict]:
    """The chain of (file, raw) from this file up through ``extends``, and the merged mapping
    (followed in a loop, not recursively: a chain is at most MAX_EXTENDS files)."""
    chain, keys, current = [], [*seen], path
    while True:
        key = current.resolve()
        if key in keys:
            cycle = " → ".join(p.name for p in (*keys, key))
            raise ScenarioError(current, "extends", f"cycle of extends: {cycle}")
        if len(chain) >= MAX_EXTENDS:
            raise ScenarioError(path, "extends", f"the chain of extends is longer than {MAX_EXTENDS} files "
                                f"({' → '.join(p.name for p, _ in chain[:4])} → …)")
        raw = parse(current, skip)
        chain.append((current, raw))
        keys.append(key)
        if "extends" not in raw:
            break
        try:
            current = find(raw["extends"], relative_to=current.parent)
        except FileNotFoundError:
            known = ", ".join(p.stem for p in sorted(current.parent.glob("*.toml")))
            raise ScenarioError(current, "extends", f"{short(raw['extends'])} not found next to this file or as a "
                                f"path; scenarios here: {known}") from None
    merged: dict = {}
    for i, (_, raw) in enumerate(reversed(chain)):
        if i:
            for k in ("name", "description"):
                merged.pop(k, None)
        merge(merged, copy.deepcopy(raw))
    return chain, merged


def too_deep(value, limit: int, where: str = "") -> str | None:
    """The dotted key of the first value nested more than ``limit`` levels deep, or None."""
    stack = [(value, where, 1)]
    while stack:
        v, key, depth = stack.pop()
        if depth > limit:
            return key or "(file)"
        if isinstance(v, dict):
            stack.extend((x, f"{key}.{key_name(str(k), 40)}" if key else key_name(str(k), 40), depth + 1)
                         for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, key, depth + 1) for x in v)
    return None


