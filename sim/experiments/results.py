"""Results in an output folder: shards, their completion markers, resuming and reading back.

Each task writes its four shards (``city``, ``districts``, ``targets``, ``links``: Parquet) and
then a completion marker ``done/r<first>-<last>.json`` that records the scenario fingerprint,
seed, horizon, scale, replicates and each shard's size and SHA-256. A run

* trusts only markers of its own set-up whose shards check out (the manifest is for people);
* refuses a folder holding another set-up's markers (``--overwrite`` discards them);
* names a damaged or missing marker or shard in a warning and runs its task again;
* removes shards no marker vouches for (a task killed before its marker).

:func:`load_results` reads only vouched-for, verified shards. The folder itself (who may write,
the lock, what a run may delete) is :mod:`sim.experiments.outfolder`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .outfolder import (FORMAT, MARKERS, PART_RE, PROJECT, TABLES, TAG_RE, OutputFolder, OutputFolderError,
                        atomic_write, listing, ls)
from .scenarios import Scenario, load


class ResultsWarning(UserWarning):
    """Results found damaged or incomplete; they are run again."""


@contextlib.contextmanager
def warnings_as_lines():
    """While a command runs: damaged results found while resuming are one line each on stderr,
    not a Python warning with its source line."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", ResultsWarning)
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, ResultsWarning):
                print(f"warning: {message}", file=sys.stderr)
            else:
                shown(message, category, filename, lineno, file, line)
        warnings.showwarning = show
        yield


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------------
# Completion markers
# ------------------------------------------------------------------------------------------------
def tag(replicates) -> str:
    return f"r{min(replicates):05d}-{max(replicates):05d}"


def part_path(out: Path, table: str, tag_: str) -> Path:
    return out / table / f"part-{tag_}.parquet"


def write_marker(out: Path, scenario, replicates: list[int], shards: dict[str, bytes], summary: list[dict],
                 run_id: str) -> dict:
    """Write a task's shards, then the marker that vouches for them (last, so a marker always
    points at shards that were complete)."""
    t = tag(replicates)
    record = {}
    for table, data in shards.items():
        path = part_path(out, table, t)
        atomic_write(path, data, run_id)
        record[table] = dict(file=f"{table}/{path.name}", bytes=len(data), sha256=sha256(data))
    marker = dict(format=FORMAT, project=PROJECT, run=run_id, scenario=scenario.name, file=os.path.abspath(scenario.file),
                  fingerprint=scenario.fingerprint(), seed=scenario.seed, until=scenario.until,
                  scale=scenario.params.scale, replicates=[int(k) for k in replicates],
                  first=int(min(replicates)), last=int(max(replicates)), shards=record, targets=summary)
    atomic_write(out / MARKERS / f"{t}.json", json.dumps(marker, default=_json_default).encode(), run_id)
    return marker


def _json_default(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    raise TypeError(type(x))


def _marker_problem(out: Path, path: Path, marker) -> str | None:
    """Why a marker cannot be trusted as it stands, or None."""
    if not isinstance(marker, dict):
        return "is not a completion marker"
    reps, shards = marker.get("replicates"), marker.get("shards")
    if not (isinstance(reps, list) and reps and all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < 10**5
                                                    for k in reps) and tag(reps) == path.stem):
        return "does not list the replicates its name says"
    if not isinstance(shards, dict) or set(shards) != set(TABLES):
        return f"does not list its {len(TABLES)} shards"
    for table in TABLES:
        s = shards[table]
        expected = f"{table}/part-{path.stem}.parquet"
        if not (isinstance(s, dict) and s.get("file") == expected and isinstance(s.get("sha256"), str)
                and isinstance(s.get("bytes"), int)):
            return f"does not describe its shard {expected}"
        try:
            data = (out / expected).read_bytes()
        except OSError:
            return f"vouches for {expected}, which is missing"
        if len(data) != s["bytes"] or sha256(data) != s["sha256"]:
            return f"vouches for {expected}, which is damaged (size or checksum differs)"
    return None


def read_markers(out: Path, fingerprint: str | None) -> tuple[dict[str, dict], dict[str, str], list[str]]:
    """The folder's completion markers: (trusted markers by tag, damaged ones by tag with the
    reason, tags of markers of another set-up). ``fingerprint=None`` trusts any set-up."""
    good, damaged, other = {}, {}, []
    seen: set[int] = set()
    for path in sorted(ls(out / MARKERS)):
        if path.suffix != ".json" or not TAG_RE.match(path.stem):
            continue
        try:
            marker = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            damaged[path.stem] = f"{MARKERS}/{path.name} cannot be read (cut off?)"
            continue
        if isinstance(marker, dict) and "fingerprint" not in marker and "replicates" in marker:
            other.append(f"{path.stem} (written by an earlier version, which did not record its set-up)")
            continue
        if isinstance(marker, dict) and fingerprint is not None and marker.get("fingerprint") != fingerprint:
            other.append(f"{path.stem} ({marker.get('scenario', '?')}, fingerprint {marker.get('fingerprint', '?')})")
            continue
        problem = _marker_problem(out, path, marker)
        if problem is None and seen & set(marker["replicates"]):
            problem = "repeats replicates another marker holds"
        if problem:
            damaged[path.stem] = f"{MARKERS}/{path.name} {problem}"
            continue
        seen |= set(marker["replicates"])
        good[path.stem] = marker
    return good, damaged, other


def check_resume(folder: OutputFolder, scenario) -> dict[str, dict]:
    """Tidy a folder this run holds for a scenario and return its trusted markers: refuse
    another set-up's results, warn about and remove damaged markers and their shards, and
    remove shards no marker vouches for (a task killed before its marker)."""
    out = folder.path
    good, damaged, other = read_markers(out, scenario.fingerprint())
    if damaged and not good:
        # Markers too damaged to say their set-up: the manifest's word decides whether they are ours to redo.
        try:
            said = json.loads((out / "manifest.json").read_text("utf-8")).get("fingerprint")
        except (OSError, ValueError, AttributeError):
            said = None
        if said not in (None, scenario.fingerprint()):
            other.append(f"{len(damaged)} damaged marker(s) of the set-up manifest.json names, fingerprint {said}")
    if other:
        raise OutputFolderError(out, f"holds results of another set-up ({listing(other, 2)}; this run is "
                                f"{scenario.name}, fingerprint {scenario.fingerprint()}); choose another --out, or "
                                "--overwrite to discard them")
    folder.remove_temporaries()
    for t, why in damaged.items():
        warnings.warn(f"{out}: {why}; its replicates will be run again", ResultsWarning, stacklevel=2)
        (out / MARKERS / f"{t}.json").unlink(missing_ok=True)
    for table in TABLES:
        for p in ls(out / table):
            m = PART_RE.match(p.name)
            if m and m.group(1) not in good:
                p.unlink(missing_ok=True)
    return good


def write_manifest(folder: OutputFolder, scenario) -> None:
    """What the folder holds, for people and for ``load_results`` without a scenario. Resuming
    never trusts it: the markers say what each shard is."""
    mine = dict(project=PROJECT, format=FORMAT, scenario=scenario.name, file=os.path.abspath(scenario.file),
                fingerprint=scenario.fingerprint(), seed=scenario.seed, until=scenario.until,
                scale=scenario.params.scale, target_set=scenario.target_set)
    path = folder.path / "manifest.json"
    try:
        same = json.loads(path.read_text("utf-8")) == mine
    except (OSError, ValueError):
        same = False
    if not same:
        atomic_write(path, json.dumps(mine, indent=1).encode(), folder.run_id)


# ------------------------------------------------------------------------------------------------
# A scenario's folder
# ------------------------------------------------------------------------------------------------
@dataclass
class EnsembleResult:
    scenario: Scenario
    out: Path | None
    city: pd.DataFrame
    districts: pd.DataFrame
    targets: pd.DataFrame
    links: pd.DataFrame
    summary: pd.DataFrame


def prepare(scenario: Scenario, out: OutputFolder | str | Path) -> list[int]:
    """Check the output folder may hold this scenario set-up, tidy up what a killed or damaged
    run left, and return the replicates still to run (the rules are in the module's docstring)."""
    with held(out) as folder:
        good = check_resume(folder, scenario)
        write_manifest(folder, scenario)
        done = {k for marker in good.values() for k in marker["replicates"]}
        todo = [k for k in range(scenario.replicates) if k not in done]
        if todo:
            folder.remove_derived()
        return todo


def clear(out: OutputFolder | str | Path) -> None:
    """Remove a previous run's results (only the files this project wrote) from an output folder."""
    with held(out) as folder:
        folder.clear()


@contextlib.contextmanager
def held(out, wait: float | None = 0):
    """The output folder, held by this run for the duration (already held: left as it is)."""
    if isinstance(out, OutputFolder) and out.is_open:
        yield out
        return
    folder = out if isinstance(out, OutputFolder) else OutputFolder(out)
    folder.open(wait)
    try:
        yield folder
    finally:
        folder.close()


def finished_replicates(out: str | Path) -> set[int]:
    """Replicates whose shards are complete and check out (whatever their set-up)."""
    good, _, _ = read_markers(Path(out), None)
    return {k for marker in good.values() for k in marker["replicates"]}


def holds(out: str | Path, scenario: Scenario) -> bool:
    """Whether a folder already holds every replicate of this set-up, complete and checked (read
    only: a command may use them instead of running them again)."""
    out = Path(out)
    if not (out / MARKERS).is_dir():
        return False
    good, _, _ = read_markers(out, scenario.fingerprint())
    done = {k for marker in good.values() for k in marker["replicates"]}
    return set(range(scenario.replicates)) <= done


def load_results(out: str | Path, scenario: Scenario | None = None) -> EnsembleResult:
    """Read an output folder's complete shards back into tidy DataFrames: only shards that a
    completion marker of this set-up vouches for, checksums verified (a damaged one is an
    OutputFolderError naming it; running the same command again recomputes it)."""
    out = Path(out)
    if scenario is None:
        try:
            manifest = json.loads((out / "manifest.json").read_text("utf-8"))
            scenario = load(manifest["file"]).with_run(seed=manifest["seed"], until=manifest["until"],
                                                       scale=manifest["scale"])
        except (OSError, ValueError, KeyError, TypeError):
            raise OutputFolderError(out, "has no readable manifest.json to say which scenario it holds; "
                                    "pass the scenario: load_results(out, scenario)") from None
    good, damaged, other = read_markers(out, scenario.fingerprint())
    if damaged or other:
        raise OutputFolderError(out, f"{next(iter(damaged.values()), None) or 'holds results of another set-up'}; "
                                "run the same command again to recompute what is damaged")
    tags = sorted(good)
    tables = {}
    for name in TABLES:
        frames = [pd.read_parquet(io.BytesIO((out / name / f"part-{t}.parquet").read_bytes())) for t in tags]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        sort = [c for c in ("replicate", "step", "adcode", "target", "indicator", "src", "dst") if c in df.columns]
        tables[name] = df.sort_values(sort, kind="stable").reset_index(drop=True) if sort else df
    n = scenario.replicates
    for name in TABLES:     # a folder may hold more replicates than asked for; report those asked for
        if "replicate" in tables[name].columns:
            tables[name] = tables[name][tables[name]["replicate"] < n].reset_index(drop=True)
    summary = summarise(tables["targets"], scenario.targets)
    # What the bands include: replicate noise only, or parameter uncertainty as well.
    summary["parameters"] = scenario.parameters
    summary["parameter_draws"] = min(len(scenario.draws), n) if scenario.parameters == "posterior" else 0
    return EnsembleResult(scenario=scenario, out=out, summary=summary, **tables)


def summarise(per_replicate: pd.DataFrame, targets) -> pd.DataFrame:
    """One row per target: median and 5–95 % band of its value across replicates, the share of
    replicates meeting it, and the median year it is first met (empty when fewer than half of
    the replicates meet it within the horizon)."""
    rows = []
    for t in targets:
        r = per_replicate[per_replicate["target"] == t.id] if len(per_replicate) else per_replicate
        v = r["value"].to_numpy(float) if len(r) else np.array([])
        first = r["year_first_met"].to_numpy(float) if len(r) else np.array([])
        first = np.where(np.isfinite(first), first, np.inf)
        median_first = float(np.median(first)) if len(first) else math.nan
        rows.append(dict(target=t.id, description=t.description, threshold=t.threshold, year=t.year,
                         median=_q(v, 50), p05=_q(v, 5), p95=_q(v, 95),
                         prob_met=float(r["met"].mean()) if len(r) else math.nan,
                         year_first_met=median_first if np.isfinite(median_first) else math.nan))
    return pd.DataFrame(rows, columns=["target", "description", "threshold", "year", "median", "p05", "p95",
                                       "prob_met", "year_first_met"])


def _q(v: np.ndarray, q: float) -> float:
    v = v[np.isfinite(v)]
    return float(np.percentile(v, q)) if len(v) else math.nan
