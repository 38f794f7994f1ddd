"""The update on the published years after the fit: a conditioned start for every forecast.

The ABC-SMC fit (``search``) conditions the behaviour parameters on 2017–2022. The years
published since (``sim/data/city_recent.csv``, 2023 to the latest) are added by sequential
importance resampling of particles, each a (posterior draw, seed) pair with the path it takes
through the published years:

1. every posterior draw of the calibration file runs ``per_draw`` times from the end-2022 state
   through the latest published year under the policy as written (``start_year`` = the latest
   year: its policy environment, GDP and the 2023 innovative-county list), each run with its own
   seed, at ``scale`` (1.0: the scale forecasts run at, so a forecast replays the very path);
2. each path is weighted by the likelihood of every published figure under its observation model
   (``observations``: a lower bound penalises only a shortfall, an October expectation carries a
   few per cent of error, a Jan–Oct flow is compared with the model's flow over the same months,
   a preliminary figure has a wider error than a final one) and of every district's own figure
   (``district_observations``, ``sim/data/district_recent.csv``): each path starts from its own
   drawn district split (``sim/data/district_start.py``), so the splits are conditioned too;
3. ``keep`` particles are drawn from the weighted set by systematic resampling: the updated
   posterior is their parameter draws, the conditioned start their paths.

Replicate ``k`` of every scenario replays particle ``k mod keep`` through the published years
(its draw and path seed; ``sim/experiments/posterior.py``) and continues with its own seed after
them, so scenarios stay paired and each replicate's end-2024 state agrees with the published
figures as far as the particle's weight says. The particles' paths are cached by a fingerprint of
what fixes them (draws, data, scale, seed), so a killed update resumes where it stopped; the
calibration file is replaced in one step at the end, so until then the previous update stays in
force.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from ..core.hindcast import latest_year
from ..data.identity import DATA_DIR
from ..experiments import district_observations as district_obs
from ..experiments import observations as obs_models
from ..experiments import posterior
from ..experiments.calibration_file import CALIBRATION_FILE, CalibrationError, load_calibration
from ..experiments.executors import executor
from ..model import InnovationModel
from ..params.parameters import Params
from .backtest import district_values_of, frames_of, weigh
from .file import _r, _toml, drop_section, stamp_now, systematic
from .runs import DISTRICT_COLUMNS, frames_after

UPDATE_DIR = Path(__file__).resolve().parents[2] / "results" / "calibration" / "update"
# Ten paths per draw: each path also draws its district split, which the districts' own figures
# condition sharply, so five left an effective sample of about 70 of 1,000.
DEFAULTS = dict(per_draw=10, keep=500, scale=1.0, seed=2024)
CHUNK = 10


def path_seed(seed: int, draw: int, j: int) -> int:
    ss = np.random.SeedSequence(seed, spawn_key=(draw, j))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def run_paths(point: dict, items: list[tuple[int, int, dict]], through: int, scale: float, data_dir=None) -> list[dict]:
    """Run particles (draw index, path seed, draw) through the published years; their quarterly
    city frames from 2023 on (only the columns the observations need) and the districts' stocks
    at every quarter's end (so a district figure appended later needs no new run)."""
    out = []
    base = Params().with_overrides(point).with_overrides({"start_year": through, "scale": scale})
    for i, s, draw in items:
        model = InnovationModel(params=posterior.apply_draw(base, draw), seed=s, data_dir=data_dir).run_until(through)
        out.append(dict(draw=i, seed=s, **frames_after(model, model.params.start_year)))
        model.release()
    return out


def model_version() -> str:
    """A digest of the model's code (what a path depends on besides its inputs): a changed model
    never reuses the paths of the one before."""
    root = Path(__file__).resolve().parents[1]
    files = [root / "model.py", *sorted((root / "core").glob("*.py")), *sorted((root / "programmes").glob("*.py")),
             *sorted((root / "params").glob("*.py")), root / "data" / "district_start.py"]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]


def fingerprint(draws, point, through: int, scale: float, seed: int, data_dir=None) -> str:
    """What fixes a path (not how many run per draw: path j of draw i is the same whatever their
    number, so raising ``per_draw`` runs only the new ones)."""
    d = Path(data_dir) if data_dir else DATA_DIR
    files = {f: hashlib.sha256((d / f).read_bytes()).hexdigest()
             for f in ("policy_environment.csv", "district_indicators.csv", "districts.csv")}
    files["model"] = model_version()
    blob = json.dumps(dict(draws=posterior.digest(draws), point=point, through=through, scale=scale, seed=seed,
                           files=files, district_columns=DISTRICT_COLUMNS), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def paths(calibration: dict, through: int, scale: float, seed: int, per_draw: int, workers: int = 1,
          progress: bool = False, cache_dir: Path = UPDATE_DIR, data_dir=None) -> list[dict]:
    """Every particle's path through the published years, from the cache where it was already run."""
    draws = posterior.read_draws(calibration.get("posterior"))
    if not draws:
        raise CalibrationError("the calibration file holds no [posterior] draws to update")
    point = calibration["parameters"]
    key = fingerprint(draws, point, through, scale, seed, data_dir)
    cache = Path(cache_dir) / f"paths-{key}.jsonl"
    done = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            try:
                row = json.loads(line)
                done[(row["draw"], row["seed"])] = row
            except (ValueError, KeyError):
                break   # a line cut short by a kill: that particle runs again
    todo = [(i, path_seed(seed, i, j), draw) for i, draw in enumerate(draws) for j in range(per_draw)]
    missing = [t for t in todo if (t[0], t[1]) not in done]
    chunks = [missing[k:k + CHUNK] for k in range(0, len(missing), CHUNK)]
    cache.parent.mkdir(parents=True, exist_ok=True)
    started, n = time.monotonic(), 0
    with executor("processes" if workers > 1 else "serial", workers) as ex, open(cache, "a") as f:
        # each chunk is written as soon as it is back, so a kill loses at most the chunks running
        if workers > 1:
            futures = [ex.submit(run_paths, point, c, through, scale, data_dir) for c in chunks]
            parts = (fut.result() for fut in cf.as_completed(futures))
        else:
            parts = (run_paths(point, c, through, scale, data_dir) for c in chunks)
        for part in parts:
            for row in part:
                done[(row["draw"], row["seed"])] = row
                f.write(json.dumps(row) + "\n")
                n += 1
            f.flush()
            if progress:
                print(f"\r  {n}/{len(missing)} paths ({time.monotonic() - started:.0f} s)", end="", flush=True)
    if progress and missing:
        print()
    return [done[(t[0], t[1])] for t in todo]


def district_kind(o) -> str:
    """How the update's table names a district figure's kind: the quarter it describes, and its doubt."""
    return f"district_q{o.quarter}" + (f"_{o.doubt}" if o.doubt else "")


def summary(frames, idx_prior, idx_post, obs, district_values=(), dobs=()) -> dict:
    """Per published figure (the city's, then the districts' own): the model's 5/50/95 % before
    (every path) and after the update."""
    table = {k: [] for k in ("indicator", "year", "kind", "observed", "prior_p05", "prior_p50", "prior_p95",
                             "p05", "p50", "p95")}
    rows = [(o.indicator, o.kind, [obs_models.simulated_value(o, f) for f in frames], o) for o in obs]
    rows += [(o.series, district_kind(o), [v[o.key] for v in district_values], o) for o in dobs]
    for name, kind, simulated, o in rows:
        values = np.array(simulated)
        table["indicator"].append(name)
        table["year"].append(o.year)
        table["kind"].append(kind)
        table["observed"].append(float(o.value))
        for prefix, idx in (("prior_", idx_prior), ("", idx_post)):
            q = np.quantile(values[idx], [0.05, 0.5, 0.95])
            for name, v in zip(("p05", "p50", "p95"), q):
                table[prefix + name].append(round(float(v), 4))
    return table


def update(path: Path | str = CALIBRATION_FILE, per_draw: int = DEFAULTS["per_draw"], keep: int = DEFAULTS["keep"],
           scale: float = DEFAULTS["scale"], seed: int = DEFAULTS["seed"], workers: int = 1, progress: bool = False,
           data_dir=None, cache_dir: Path = UPDATE_DIR) -> dict:
    """Condition the calibration file's posterior on the published years after its fit and write
    the particles to its ``[conditioned]`` table (the file is replaced in one step). Returns that
    table. Every published row is checked before any run."""
    path = Path(path)
    obs = obs_models.observations(data_dir)              # a malformed row stops here, before any work
    dobs = district_obs.district_observations(data_dir)
    through = latest_year(data_dir)
    calibration = load_calibration(path)
    started = time.monotonic()
    rows = paths(calibration, through, scale, seed, per_draw, workers, progress, cache_dir, data_dir)
    frames, dvalues = frames_of(rows), district_values_of(rows, dobs)
    loglik = weigh(frames, obs, dvalues, dobs)
    w = np.exp(loglik - loglik.max())
    w /= w.sum()
    # shuffled (seeded): systematic resampling returns the particles in draw order, and the first
    # replicates of a small ensemble should not all run the same draw
    picked = systematic(w, keep, np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11,))))
    chosen = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(12,))).permutation(picked)
    draws_of = np.array([r["draw"] for r in rows])
    table = dict(
        method=("sequential importance resampling of (posterior draw, seed) paths through the published years "
                "under the policy as written, each from its own drawn district split, weighted by the observation "
                "models of sim/experiments/observations.py and district_observations.py"),
        created=stamp_now(), through=through, scale=scale, seed=seed, per_draw=per_draw, particles=len(rows),
        keep=keep, ess=round(float(1 / (w ** 2).sum()), 2), unique_draws=int(len(set(draws_of[chosen]))),
        runtime_seconds=round(time.monotonic() - started, 1),
        observations=summary(frames, np.arange(len(rows)), chosen, obs, dvalues, dobs),
        draw=[int(draws_of[k]) for k in chosen], path_seed=[int(rows[k]["seed"]) for k in chosen])
    write_conditioned(path, table)
    return table


CONDITIONED_MARK = "# ---- conditioned start: the update on the published years (written by `python run.py calibrate --update`)"


def write_conditioned(path: Path, table: dict) -> None:
    """Replace the file's ``[conditioned]`` tables, in one step: a kill leaves the old file whole,
    and what is written reads back through the file's schema first."""
    text = drop_section(path.read_text("utf-8"), CONDITIONED_MARK)
    lines = ["", CONDITIONED_MARK, "[conditioned]"]
    lines += [f"{k} = {_toml(_r(v))}" for k, v in table.items() if not isinstance(v, dict)]
    lines += ["", "[conditioned.observations]  # each published figure: the model before (prior_) and after the update"]
    lines += [f"{k} = {_toml(_r(v))}" for k, v in table["observations"].items()]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    try:
        load_calibration(tmp)
    except Exception:
        tmp.unlink()
        raise
    os.replace(tmp, path)
