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
``calibration`` (a file of fitted parameters with a ``[parameters]`` table, next to the scenario
file that names it or in ``sim/data/``), ``fixed_parameters`` (true: every replicate runs the
calibration's fitted point; false, the default: replicate k runs the calibration's posterior draw
k, see ``sim/experiments/posterior.py``). Every check happens here, before any simulation, and
every failure is a ``ScenarioError`` naming file, key and what is allowed (quoting at most ~200
characters of any value).
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

from ..core.data_checks import check_against_data
from ..data.identity import DATA_DIR
from ..params.fields import ParamConflict
from ..params.parameters import ParamError, Params, merge
from ..util.errors import KeyedError
from ..util.messages import char_name, clip, escaped, key_name, short, unprintable
from . import posterior
from .targets import TARGET_SETS, Target

REPO_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

RUN_DEFAULTS = dict(until=2025, replicates=20, seed=42, targets="policy_2025", policy_off=False, calibration="none",
                    fixed_parameters=False)
META_KEYS = ("name", "description", "extends", *RUN_DEFAULTS)
PARAM_KEYS = tuple(f.name for f in dataclasses.fields(Params))
LAST_YEAR = 2035            # the model's data and behaviour are not meant for longer horizons
MAX_REPLICATES = 10_000
# A name becomes a folder name (results/<name>/): it starts with a letter or digit, so it can be
# neither '.', '..' nor a hidden folder or an option.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_EXTENDS = 32            # files in one extends chain
MAX_DEPTH = 6               # tables and lists nested in a scenario file (the deepest key needs 4)
MAX_DESCRIPTION = 500       # characters
# A scenario sets a few dozen values (its longest list: the 38 districts' adcodes), so a file of
# more than this is not one; refused before the TOML reader spends seconds on it.
MAX_FILE_BYTES = 1 << 20


class ScenarioError(KeyedError):
    """A scenario that cannot be run; the message names the file, the key and what is allowed."""


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
    calibration: str | None = None       # the calibration file applied, if any
    fixed_parameters: bool = False       # True: every replicate at the fitted point, not a posterior draw
    draws: tuple = dataclasses.field(default=(), compare=False, hash=False, repr=False)  # the calibration's posterior

    @property
    def parameters(self) -> str:
        """``"posterior"`` when replicate k runs posterior draw k, else ``"fixed"``."""
        return posterior.POSTERIOR if self.draws and not self.fixed_parameters else posterior.FIXED

    @property
    def parameters_note(self) -> str:
        return posterior.describe(self.parameters, len(self.draws))

    def replicate_params(self, replicate: int) -> Params:
        """The parameters replicate ``replicate`` runs: the scenario's, with its posterior draw."""
        if self.parameters != posterior.POSTERIOR:
            return self.params
        return posterior.replicate_params(self.params, self.draws, replicate, posterior.protected_keys(self.overrides))

    def with_run(self, replicates: int | None = None, seed: int | None = None, until: int | None = None,
                 scale: float | None = None, fixed_parameters: bool | None = None) -> "Scenario":
        """A copy with command-line run settings; checked like the file's own keys."""
        changes = {}
        if fixed_parameters is not None:
            if not isinstance(fixed_parameters, bool):
                raise ScenarioError(self.file, "--fixed-parameters", f"expected true or false, got {short(fixed_parameters)}")
            changes["fixed_parameters"] = fixed_parameters
        if replicates is not None:
            changes["replicates"] = _check_int(self.file, "--replicates", replicates, 1, MAX_REPLICATES)
        if seed is not None:
            changes["seed"] = _check_int(self.file, "--seed", seed, 0, 2**63 - 1)
        if until is not None:
            changes["until"] = _check_int(self.file, "--until", until, self.params.start_year + 1, LAST_YEAR)
        if scale is not None:
            try:
                changes["params"] = check_against_data(self.params.with_overrides({"scale": scale}), self.file)
            except ParamError as e:
                raise ScenarioError(self.file, "--scale", e.detail) from None
        new = dataclasses.replace(self, **changes)
        _check_horizon(new.file, "--until" if until is not None else "until", new.until, new.targets, new.target_set)
        return new

    def fingerprint(self) -> str:
        """What fixes every replicate's results (not how many replicates): resuming into an
        output folder is only allowed when this matches."""
        what = dict(params=self.params.to_dict(), until=self.until, seed=self.seed,
                    targets=[dataclasses.asdict(t) for t in self.targets])
        if self.parameters == posterior.POSTERIOR:     # (a fixed run keeps the fingerprint it always had)
            what.update(draws=posterior.digest(self.draws), kept=sorted(posterior.protected_keys(self.overrides)))
        blob = json.dumps(what, sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------
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
        if _is_file(c):
            return c
    raise FileNotFoundError(ref)


def _is_file(path: Path) -> bool:
    """Like ``Path.is_file``, but a name too long, with a NUL byte or under a file is simply not one."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def list_scenarios(directory: str | Path | None = None) -> list[Path]:
    directory = Path(directory) if directory else (Path("scenarios") if Path("scenarios").is_dir() else REPO_SCENARIOS)
    return sorted(directory.glob("*.toml"))


def load(ref: str | Path) -> Scenario:
    """Read, resolve ``extends`` and validate one scenario file."""
    try:
        path = find(ref)
    except FileNotFoundError:
        known = ", ".join(p.stem for p in list_scenarios()) or "none"
        raise ScenarioError(escaped(clip(str(ref), 200)), "(file)", f"no such scenario file; scenarios available by name: {known}") from None
    chain, merged = _resolve(path, ())
    own = chain[0][1]
    name = own.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):     # (match would let a final newline through)
        raise ScenarioError(path, "name", "every scenario names itself (it names its results folder): 1–64 letters, "
                            f"digits, '_', '-' or '.', starting with a letter or digit, got {short(name)}")
    desc = _description(path, own.get("description"))

    run = {**RUN_DEFAULTS, **{k: merged[k] for k in RUN_DEFAULTS if k in merged}}
    origin = {k: next(str(f) for f, raw in chain if k in raw) for k in RUN_DEFAULTS if k in merged}
    where = lambda k: origin.get(k, path)  # noqa: E731 — the file that set a run key
    until = _check_int(where("until"), "until", run["until"], 2018, LAST_YEAR)
    replicates = _check_int(where("replicates"), "replicates", run["replicates"], 1, MAX_REPLICATES)
    seed = _check_int(where("seed"), "seed", run["seed"], 0, 2**63 - 1)
    if not isinstance(run["targets"], str) or run["targets"] not in TARGET_SETS:
        raise ScenarioError(where("targets"), "targets", f"{short(run['targets'])} is not a target set; choose one of: "
                            f"{', '.join(TARGET_SETS)}")
    if not isinstance(run["policy_off"], bool):
        raise ScenarioError(where("policy_off"), "policy_off", f"expected true or false, got {short(run['policy_off'])}")
    if not isinstance(run["fixed_parameters"], bool):
        raise ScenarioError(where("fixed_parameters"), "fixed_parameters", "expected true (every replicate at the "
                            "calibrated point) or false (replicate k at posterior draw k), got "
                            f"{short(run['fixed_parameters'])}")

    base = Params()
    calibration = calibration_file(run["calibration"], where("calibration"))
    base, draws = _apply_calibration(base, calibration)
    if run["policy_off"]:
        base = base.policy_off()
    overrides = {k: v for k, v in merged.items() if k in PARAM_KEYS}
    try:
        params = check_against_data(base.with_overrides(overrides, file=str(path)), str(path))
    except ParamError as e:
        raise ScenarioError(path, e.key, e.detail) from None
    if until <= params.start_year:
        raise ScenarioError(where("until"), "until", f"must be after the start year {params.start_year}, got {until}")
    targets = TARGET_SETS[run["targets"]]
    # The conflict belongs to the scenario being loaded, whichever file set each side of it.
    _check_horizon(path, "until", until, targets, run["targets"],
                   "" if where("until") == str(path) else f" (set in {where('until')})")
    return Scenario(name=name, description=desc, file=str(path), until=until, replicates=replicates, seed=seed,
                    target_set=run["targets"], targets=targets, params=params,
                    chain=tuple(str(f) for f, _ in chain), overrides=overrides,
                    calibration=str(calibration) if calibration else None,
                    fixed_parameters=run["fixed_parameters"], draws=draws)


def validate(refs) -> list[Scenario]:
    return [load(r) for r in refs]


def _description(path, desc) -> str:
    """The scenario's description, stripped: it heads every report, summary table and console
    line of the run, so it is one line of printable text (a tab, NUL or bidirectional override
    would garble or disguise them)."""
    allowed = (f"every scenario describes itself in one non-empty line of printable text (no control characters: tabs, "
               f"newlines, NUL…) of at most {MAX_DESCRIPTION} characters")
    if not isinstance(desc, str) or not desc.strip() or len(desc.strip()) > MAX_DESCRIPTION:
        raise ScenarioError(path, "description", f"{allowed}, got {short(desc)}")
    desc = desc.strip()
    at = unprintable(desc)
    if at is not None:
        raise ScenarioError(path, "description", f"{allowed}; {short(desc)} holds {char_name(desc[at])} at character "
                            f"{at + 1}")
    return desc


# ------------------------------------------------------------------------------------------------
def parse(path: Path) -> dict:
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
    return parse_text(text, path)


def parse_text(text: str, path) -> dict:
    """Parse one file's TOML and check its own keys (types, ranges, names) on their own."""
    try:
        raw = tomllib.loads(text)
    except RecursionError:
        raise ScenarioError(path, "(file)", f"tables or lists nested too deeply to read; a scenario needs at most {MAX_DEPTH} "
                            "levels") from None
    except ValueError as e:     # TOMLDecodeError, or an integer of more than 4,300 digits
        raise ScenarioError(path, "(file)", f"not valid TOML: {clip(str(e), 200)}") from None
    deep = _too_deep(raw, MAX_DEPTH)
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


def _resolve(path: Path, seen: tuple = ()) -> tuple[list, dict]:
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
        raw = parse(current)
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


def _too_deep(value, limit: int, where: str = "") -> str | None:
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


def calibration_file(ref, file) -> Path | None:
    """The calibration file a scenario names: ``"none"``, or a ``.toml`` file next to the
    scenario file that names it or in ``sim/data/`` (looked for in that order). Paths may not
    leave those folders, so a scenario cannot read an arbitrary file."""
    if ref == "none":
        return None
    folders = [Path(file).parent, DATA_DIR]
    allowed = (f"\"none\" or the name of a .toml file with a [parameters] table, next to this scenario file or in "
               f"{DATA_DIR} (there: {', '.join(p.name for p in sorted(DATA_DIR.glob('calibration*.toml'))) or 'none yet'})")
    if not isinstance(ref, str) or not ref.strip() or not ref.endswith(".toml") or Path(ref).is_absolute():
        raise ScenarioError(file, "calibration", f"{short(ref)} is not allowed; expected {allowed}")
    for folder in folders:
        path = folder / ref
        try:
            inside = path.resolve().is_relative_to(folder.resolve())
        except (OSError, ValueError, RuntimeError):
            inside = False
        if not inside:
            raise ScenarioError(file, "calibration", f"{short(ref)} leads out of {folder}; expected {allowed}")
        if _is_file(path):
            return path
    raise ScenarioError(file, "calibration", f"{short(ref)} is not a file; expected {allowed}")


def _apply_calibration(base: Params, path: Path | None) -> tuple[Params, tuple]:
    """The calibration's fitted point applied to ``base``, and its posterior draws (none: ())."""
    if path is None:
        return base, ()
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as e:
        raise ScenarioError(path, "(file)", f"cannot be read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ScenarioError(path, "(file)", f"cannot be read as UTF-8 text: {e}") from None
    except (ValueError, RecursionError) as e:
        raise ScenarioError(path, "(file)", f"not valid TOML: {clip(str(e) or 'nested too deeply', 200)}") from None
    fitted = raw.get("parameters")
    if not isinstance(fitted, dict) or not fitted:
        raise ScenarioError(path, "parameters", "a calibration file holds its fitted values in a non-empty [parameters] "
                            "table (sections and keys of sim/params/parameters.py), as `python run.py calibrate` writes it; "
                            "this file has none, so nothing would be applied")
    try:
        point = base.with_overrides(fitted, file=str(path))
    except ParamError as e:
        raise ScenarioError(path, f"parameters.{e.key}", e.detail) from None
    try:
        draws = posterior.read_draws(raw.get("posterior"), str(path))
    except posterior.PosteriorError as e:
        raise ScenarioError(path, e.key, e.detail) from None
    return point, draws


def _check_int(file, key, value, lo, hi) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScenarioError(file, key, f"expected an integer from {lo} to {hi}, got {short(value)}")
    if not lo <= value <= hi:
        raise ScenarioError(file, key, f"{short(value)} is out of range; allowed {lo} to {hi}")
    return value


def _check_horizon(file, key, until, targets, set_name, origin=""):
    last = max(t.year for t in targets)
    if until < last:
        raise ScenarioError(file, key, f"the target set {set_name!r} is measured in {last}; "
                            f"the horizon must reach it (until ≥ {last}), got {until}{origin}")
