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

import dataclasses
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..core.data_checks import check_against_data
from ..data import datasets
from ..data.identity import DATA_DIR
from ..params.parameters import ParamError, Params
from ..util.messages import char_name, clip, escaped, short, unprintable
from . import posterior
from .scenario_files import META_KEYS, PARAM_KEYS, RUN_DEFAULTS, ScenarioError, find, is_file, list_scenarios, resolve
from .targets import TARGET_SETS, Target

LAST_YEAR = 2035            # the model's data and behaviour are not meant for longer horizons
MAX_REPLICATES = 10_000
# A name becomes a folder name (results/<name>/): it starts with a letter or digit, so it can be
# neither '.', '..' nor a hidden folder or an option.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_DESCRIPTION = 500       # characters


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
    # with a conditioned start: the seed of each particle's path through the published years
    path_seeds: tuple = dataclasses.field(default=(), compare=False, hash=False, repr=False)

    @property
    def parameters(self) -> str:
        """``"posterior"`` when replicate k runs posterior draw k, else ``"fixed"``."""
        return posterior.POSTERIOR if self.draws and not self.fixed_parameters else posterior.FIXED

    @property
    def parameters_note(self) -> str:
        if self.conditioned:
            return (f"posterior ({len(self.draws)} particles conditioned on the published years, "
                    f"{posterior.distinct(self.draws)} distinct draws of the calibrated parameters)")
        return posterior.describe(self.parameters, len(self.draws))

    def replicate_params(self, replicate: int) -> Params:
        """The parameters replicate ``replicate`` runs: the scenario's, with its posterior draw."""
        if self.parameters != posterior.POSTERIOR:
            return self.params
        return posterior.replicate_params(self.params, self.draws, replicate, posterior.protected_keys(self.overrides))

    def replicate_seeds(self, replicate: int) -> tuple[int, int | None]:
        """(seed, future seed) of replicate ``replicate`` (``posterior.replicate_seeds``)."""
        return posterior.replicate_seeds(self.seed, replicate, self.path_seeds if self.conditioned else ())

    @property
    def conditioned(self) -> bool:
        """Whether replicates replay conditioned paths through the published years."""
        return bool(self.path_seeds) and self.parameters == posterior.POSTERIOR

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
            if self.path_seeds:
                what.update(path_seeds=hashlib.sha256(json.dumps(self.path_seeds).encode()).hexdigest()[:16])
        blob = json.dumps(what, sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------
def load(ref: str | Path, skip: dict | None = None) -> Scenario:
    """Read, resolve ``extends`` and validate one scenario file."""
    try:
        path = find(ref)
    except FileNotFoundError:
        known = ", ".join(p.stem for p in list_scenarios()) or "none"
        raise ScenarioError(escaped(clip(str(ref), 200)), "(file)", f"no such scenario file; scenarios available by name: {known}") from None
    chain, merged = resolve(path, (), skip)
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
    base, draws, path_seeds = _apply_calibration(base, calibration)
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
                    fixed_parameters=run["fixed_parameters"], draws=draws, path_seeds=path_seeds)


def problems(ref: str | Path, limit: int = 50) -> tuple[Scenario | None, list[ScenarioError]]:
    """Every problem of a scenario file in one go: the scenario when it has none, else the
    problems. After each one the offending key is set aside (removed, or a required one given a
    stand-in) and the file checked again, until no problem is left or one cannot be looked past
    (an unreadable file, a broken ``extends``, a problem found again)."""
    found: list[ScenarioError] = []
    skip: dict = {}
    for _ in range(limit):
        try:
            scenario = load(ref, skip)
        except ScenarioError as e:
            found.append(e)
            where = (e.file, e.key)
            top = e.key.split(".")[0]
            if where in skip or not (top in META_KEYS or top in PARAM_KEYS) or top == "extends":
                break
            skip[where] = None
            continue
        return (None if found else scenario), found
    return None, found


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
        if is_file(path):
            return path
    raise ScenarioError(file, "calibration", f"{short(ref)} is not a file; expected {allowed}")


def _apply_calibration(base: Params, path: Path | None) -> tuple[Params, tuple, tuple]:
    """The calibration's fitted point applied to ``base``, its posterior draws (none: ()) and,
    for a run from the end of 2022 on (not the 2017 hindcast), its conditioned particles: then the
    draws are the particles' draws and the path seeds theirs."""
    if path is None:
        return base, (), ()
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
        path_seeds = ()
        if datasets.data_origin(base.start_year) == max(datasets.START_YEARS) and draws:
            cond, path_seeds = posterior.read_conditioned(raw.get("conditioned"), draws)
            draws = cond or draws
    except posterior.PosteriorError as e:
        raise ScenarioError(path, e.key, e.detail) from None
    return point, draws, path_seeds


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
