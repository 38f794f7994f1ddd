"""Scenario files: a planner's experiment as a small TOML file in ``scenarios/``.

A scenario names and describes itself, sets its horizon, replicates, root seed and target set,
and overrides any parameter of ``sim.params.Params`` (same section and key names)::

    name = "fund_competitive"
    description = "The guiding fund split by last year's evaluation instead of equally"
    extends = "baseline"          # inherit everything, override only what differs

    [guiding_fund]
    allocation = "competitive"

Run keys: ``until`` (last simulated year), ``replicates``, ``seed`` (root seed), ``targets``
(a set of ``sim/data/targets.toml``), ``policy_off`` (start from the no-policy counterfactual),
``calibration`` (a file of fitted behaviour parameters in ``sim/data/``). Every check happens
here, before any simulation, and every failure is a ``ScenarioError`` naming file, key and
what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .params import ParamError, Params, _merge
from .validation import ParamConflict
from .targets import TARGET_SETS, Target

REPO_SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DATA_DIR = Path(__file__).resolve().parent / "data"

RUN_DEFAULTS = dict(until=2025, replicates=20, seed=42, targets="policy_2025", policy_off=False, calibration="none")
META_KEYS = ("name", "description", "extends", *RUN_DEFAULTS)
PARAM_KEYS = tuple(f.name for f in dataclasses.fields(Params))
LAST_YEAR = 2035            # the model's data and behaviour are not meant for longer horizons
MAX_REPLICATES = 10_000
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ScenarioError(ValueError):
    """A scenario that cannot be run; the message names the file, the key and what is allowed."""

    def __init__(self, file, key: str, message: str):
        self.file, self.key, self.detail = str(file), key, message
        super().__init__(f"{file}: key '{key}': {message}")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    file: str
    until: int
    replicates: int
    seed: int
    target_set: str
    targets: tuple[Target, ...]
    params: Params
    chain: tuple[str, ...] = ()          # this file first, then what it extends
    overrides: dict = dataclasses.field(default_factory=dict, compare=False, hash=False)

    def with_run(self, replicates: int | None = None, seed: int | None = None, until: int | None = None,
                 scale: float | None = None) -> "Scenario":
        """A copy with command-line run settings; checked like the file's own keys."""
        changes = {}
        if replicates is not None:
            changes["replicates"] = _check_int(self.file, "--replicates", replicates, 1, MAX_REPLICATES)
        if seed is not None:
            changes["seed"] = _check_int(self.file, "--seed", seed, 0, 2**63 - 1)
        if until is not None:
            changes["until"] = _check_int(self.file, "--until", until, self.params.start_year + 1, LAST_YEAR)
        if scale is not None:
            try:
                changes["params"] = self.params.with_overrides({"scale": scale})
            except ParamError as e:
                raise ScenarioError(self.file, "--scale", e.detail) from None
        new = dataclasses.replace(self, **changes)
        _check_horizon(new.file, "--until" if until is not None else "until", new.until, new.targets, new.target_set)
        return new

    def fingerprint(self) -> str:
        """What fixes every replicate's results (not how many replicates): resuming into an
        output folder is only allowed when this matches."""
        blob = json.dumps(dict(params=self.params.to_dict(), until=self.until, seed=self.seed,
                               targets=[dataclasses.asdict(t) for t in self.targets]), sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------
def find(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario by path, or by bare name in ``./scenarios`` or the project's ``scenarios/``."""
    ref = str(ref)
    candidates = [Path(ref)]
    if relative_to is not None:
        candidates.insert(0, relative_to / ref)
    if not ref.endswith(".toml"):
        candidates += [c.with_name(c.name + ".toml") for c in list(candidates)]
        if "/" not in ref:
            candidates += [Path("scenarios") / f"{ref}.toml", REPO_SCENARIOS / f"{ref}.toml"]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(ref)


def list_scenarios(directory: str | Path | None = None) -> list[Path]:
    directory = Path(directory) if directory else (Path("scenarios") if Path("scenarios").is_dir() else REPO_SCENARIOS)
    return sorted(directory.glob("*.toml"))


def load(ref: str | Path) -> Scenario:
    """Read, resolve ``extends`` and validate one scenario file."""
    try:
        path = find(ref)
    except FileNotFoundError:
        known = ", ".join(p.stem for p in list_scenarios()) or "none"
        raise ScenarioError(ref, "(file)", f"no such scenario file; scenarios available by name: {known}") from None
    chain, merged = _resolve(path, ())
    own = chain[0][1]
    name = own.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ScenarioError(path, "name", f"every scenario names itself: 1–64 letters, digits, '_', '-' or '.', got {name!r}")
    desc = own.get("description")
    if not isinstance(desc, str) or not desc.strip() or "\n" in desc.strip():
        raise ScenarioError(path, "description", f"every scenario describes itself in one non-empty line, got {desc!r}")

    run = {**RUN_DEFAULTS, **{k: merged[k] for k in RUN_DEFAULTS if k in merged}}
    origin = {k: next(str(f) for f, raw in chain if k in raw) for k in RUN_DEFAULTS if k in merged}
    where = lambda k: origin.get(k, path)  # noqa: E731 — the file that set a run key
    until = _check_int(where("until"), "until", run["until"], 2018, LAST_YEAR)
    replicates = _check_int(where("replicates"), "replicates", run["replicates"], 1, MAX_REPLICATES)
    seed = _check_int(where("seed"), "seed", run["seed"], 0, 2**63 - 1)
    if not isinstance(run["targets"], str) or run["targets"] not in TARGET_SETS:
        raise ScenarioError(where("targets"), "targets", f"{run['targets']!r} is not a target set; choose one of: {', '.join(TARGET_SETS)}")
    if not isinstance(run["policy_off"], bool):
        raise ScenarioError(where("policy_off"), "policy_off", f"expected true or false, got {run['policy_off']!r}")

    base = Params()
    base = _apply_calibration(base, run["calibration"], where("calibration"))
    if run["policy_off"]:
        base = base.policy_off()
    overrides = {k: v for k, v in merged.items() if k in PARAM_KEYS}
    try:
        params = base.with_overrides(overrides, file=str(path))
    except ParamError as e:
        raise ScenarioError(path, e.key, e.detail) from None
    if until <= params.start_year:
        raise ScenarioError(where("until"), "until", f"must be after the start year {params.start_year}, got {until}")
    targets = TARGET_SETS[run["targets"]]
    # The conflict belongs to the scenario being loaded, whichever file set each side of it.
    _check_horizon(path, "until", until, targets, run["targets"],
                   "" if where("until") == str(path) else f" (set in {where('until')})")
    return Scenario(name=name, description=desc.strip(), file=str(path), until=until, replicates=replicates, seed=seed,
                    target_set=run["targets"], targets=targets, params=params,
                    chain=tuple(str(f) for f, _ in chain), overrides=overrides)


def validate(refs) -> list[Scenario]:
    return [load(r) for r in refs]


# ------------------------------------------------------------------------------------------------
def parse(path: Path) -> dict:
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(path, "(file)", f"cannot be read as UTF-8 text: {e}") from None
    return parse_text(text, path)


def parse_text(text: str, path) -> dict:
    """Parse one file's TOML and check its own keys (types, ranges, names) on their own."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, "(file)", f"not valid TOML: {e}") from None
    unknown = sorted(set(raw) - set(META_KEYS) - set(PARAM_KEYS))
    if unknown:
        raise ScenarioError(path, unknown[0], "unknown key; allowed at the top level: "
                            f"{', '.join(META_KEYS)} and the parameter sections {', '.join(PARAM_KEYS)}")
    if "extends" in raw and not (isinstance(raw["extends"], str) and raw["extends"].strip()):
        raise ScenarioError(path, "extends", f"expected the name or path of another scenario file, got {raw['extends']!r}")
    try:
        Params.from_dict({k: v for k, v in raw.items() if k in PARAM_KEYS}, file=str(path))
    except ParamConflict:
        pass        # a rule across keys that another file of the chain may settle; load() checks the merged set
    except ParamError as e:
        raise ScenarioError(path, e.key, e.detail) from None
    return raw


def _resolve(path: Path, seen: tuple) -> tuple[list, dict]:
    """The chain of (file, raw) from this file up through ``extends``, and the merged mapping."""
    key = path.resolve()
    if key in seen:
        cycle = " → ".join(p.name for p in (*seen, key))
        raise ScenarioError(path, "extends", f"cycle of extends: {cycle}")
    raw = parse(path)
    if "extends" not in raw:
        return [(path, raw)], copy.deepcopy(raw)
    try:
        parent = find(raw["extends"], relative_to=path.parent)
    except FileNotFoundError:
        known = ", ".join(p.stem for p in sorted(path.parent.glob("*.toml")))
        raise ScenarioError(path, "extends", f"{raw['extends']!r} not found next to this file or as a path; "
                            f"scenarios here: {known}") from None
    chain, merged = _resolve(parent, (*seen, key))
    for k in ("name", "description"):
        merged.pop(k, None)
    _merge(merged, copy.deepcopy(raw))
    return [(path, raw), *chain], merged


def _apply_calibration(base: Params, ref, file) -> Params:
    if ref == "none":
        return base
    if not isinstance(ref, str) or not ref.strip():
        raise ScenarioError(file, "calibration", f"expected \"none\" or a calibration file name in {DATA_DIR}, got {ref!r}")
    path = DATA_DIR / ref
    if not path.is_file():
        have = ", ".join(p.name for p in DATA_DIR.glob("calibration*.toml")) or "none yet"
        raise ScenarioError(file, "calibration", f"{ref!r} is not a file in {DATA_DIR}; calibration files there: {have}")
    try:
        fitted = tomllib.loads(path.read_text("utf-8")).get("parameters", {})
        return base.with_overrides(fitted, file=str(path))
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, "(file)", f"not valid TOML: {e}") from None
    except ParamError as e:
        raise ScenarioError(path, e.key, e.detail) from None


def _check_int(file, key, value, lo, hi) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScenarioError(file, key, f"expected an integer from {lo} to {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise ScenarioError(file, key, f"{value} is out of range; allowed {lo} to {hi}")
    return value


def _check_horizon(file, key, until, targets, set_name, origin=""):
    last = max(t.year for t in targets)
    if until < last:
        raise ScenarioError(file, key, f"the target set {set_name!r} is measured in {last}; "
                            f"the horizon must reach it (until ≥ {last}), got {until}{origin}")
