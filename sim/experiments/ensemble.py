"""Ensemble runner: scenarios × replicates through a ``concurrent.futures`` executor.

Backends: ``serial`` (in this process), ``processes`` (a local process pool) and ``dask``
(``distributed``: an embedded ``LocalCluster`` by default, or a running cluster given by its
scheduler address). Replicate ``k`` of every scenario gets the seed ``replicate_seed(root, k)``,
so all backends give identical results and scenario differences are paired. With a calibration
that holds a posterior sample, replicate ``k`` also runs posterior draw ``k`` (``sim/experiments/posterior.py``)
unless the scenario runs at its fixed point, so the bands include parameter uncertainty and the
pairing holds for the parameters too.

Each task runs a few replicates and writes its own result shard into the output folder::

    out/manifest.json               what was run (scenario fingerprint, seed, horizon), for people
    out/city/part-r00000-00004.parquet       per-step city indicators, tidy long format
    out/districts/part-r00000-00004.parquet  per-step district indicators, tidy long format
    out/targets/part-r00000-00004.parquet    per replicate and target: value, met, year first met
    out/links/part-r00000-00004.parquet      final district-to-district collaboration weights
    out/done/r00000-00004.json               written last: fingerprint, seed, replicates, each
                                             shard's size and SHA-256
    out/district_quantiles.csv               once every replicate is in: each district's median and
                                             5–95 % band of its three start stocks at every year end,
                                             and whether its start values are its own figures
                                             (sim/experiments/district_bands.py)

Files are written under a temporary name and renamed, so a killed run leaves only complete
shards; re-running into the same folder keeps the shards whose marker and checksums check out
and runs the rest (:mod:`sim.experiments.results`); who may write into a folder, the lock and what a run
may delete are :mod:`sim.experiments.outfolder`. Only the small per-target summary travels back to the
caller. (With a remote Dask cluster, ``out`` must be on a file system that the workers share.)

From Python::

    from sim.experiments.ensemble import run_ensemble, compare
    base = run_ensemble("baseline", replicates=8, scale=0.1)
    alt = run_ensemble("fund_competitive", replicates=8, scale=0.1)
    base.summary; compare(base, alt)
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import gc
import io
import math
import multiprocessing
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import metrics
from ..model import InnovationModel
from ..params.parameters import Params
from . import posterior
from .district_bands import write_district_quantiles
from .executors import default_workers, executor
from .outfolder import TABLES, OutputFolder, new_run_id
from .results import EnsembleResult, held, load_results, prepare, write_marker
from .scenarios import Scenario, load
from .targets import POLICY_2025, Target, measure

MAX_CHUNK = 10_000          # replicates per task (as many as a scenario may have)
KEYS = ["scenario", "replicate", "step", "year", "quarter"]
# Per-district indicators kept in the results (numeric reporters of sim.core.metrics.DISTRICT_REPORTERS).
DISTRICT_INDICATORS = ("population", "gdp", "tech_enterprises", "high_tech_enterprises", "tech_per_10k",
                       "rd_expenditure", "rd_intensity", "zone_output", "industrial_output", "index_score", "tier",
                       "has_platform", "guiding_fund_received", "paired_in", "subsidy_granted")


# ------------------------------------------------------------------------------------------------
# One replicate
# ------------------------------------------------------------------------------------------------
def simulate(params: Params, seed: int, until: int, future_seed: int | None = None) -> InnovationModel:
    """Build a model and run it to the end of ``until``. The caller releases it."""
    return InnovationModel(params=params, seed=seed, future_seed=future_seed).run_until(until)


_frozen = False
# glibc's malloc_trim (None where the C library has none, e.g. macOS).
_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


def collect_garbage() -> None:
    """Free a released model's reference cycles, then hand the freed heap back to the system.
    In a worker process, everything imported is first handed to the collector's permanent
    generation (once), so each collection walks only the last replicate's objects instead of all
    of pandas and Mesa (about 60 ms a replicate). A task run on a thread (as a Dask worker runs
    it) allocates from a malloc arena of its own, which otherwise keeps the largest replicate's
    pages: a Dask worker stayed at 1.2–1.3 GB over an ensemble, and a thread that had run eight
    large replicates at about 500 MB against 280 MB trimmed once after each."""
    global _frozen
    if not _frozen and multiprocessing.current_process().name != "MainProcess":
        gc.collect()
        gc.freeze()
        _frozen = True
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


def first_year_met(model, target: Target, frame=None) -> float:
    """The first year-end from the start at which the target's indicator reaches its threshold."""
    frame = model.datacollector.get_model_vars_dataframe() if frame is None else frame
    for year in range(model.params.start_year + 1, model.year + 1):
        value = measure(model, target, year, frame)
        if np.isfinite(value) and value >= target.threshold:
            return float(year)
    return math.nan


def replicate_tables(model, scenario_name: str, replicate: int, targets) -> dict[str, pd.DataFrame]:
    """The tidy tables of one finished run."""
    frame = metrics.city_frame(model)
    city = frame.reset_index()
    value_cols = [c for c in city.columns if c not in ("step", "year", "quarter")]
    city = city.melt(id_vars=["step", "year", "quarter"], value_vars=value_cols, var_name="indicator")
    city.insert(0, "replicate", replicate)
    city.insert(0, "scenario", scenario_name)
    city["value"] = city["value"].astype(float)

    dist = metrics.district_frame(model)
    dist = dist.melt(id_vars=["step", "year", "quarter", "adcode", "name_zh"], value_vars=list(DISTRICT_INDICATORS),
                     var_name="indicator")
    dist.insert(0, "replicate", replicate)
    dist.insert(0, "scenario", scenario_name)
    dist["value"] = dist["value"].astype(float)

    # How much coarser than its scale the run ended (a whole number: 1 = not at all), so that a
    # reader knows which runs' counts were simulated a row for several firms (core/resolution.py).
    coarsening = int(round(model.params.scale / model.resolution))
    rows = []
    for t in targets:
        value = measure(model, t, frame=frame) if t.year <= model.year else math.nan
        rows.append(dict(scenario=scenario_name, replicate=replicate, target=t.id, year=t.year, value=value,
                         met=bool(np.isfinite(value) and value >= t.threshold),
                         year_first_met=first_year_met(model, t, frame), coarsening=coarsening))
    tgt = pd.DataFrame(rows)

    M, is_pair = model.district_network()
    codes = model.district_data["adcode"].to_numpy()
    a, b = np.triu_indices(len(codes), 1)
    keep = (M[a, b] > 0) | is_pair[a, b]
    a, b = a[keep], b[keep]
    links = pd.DataFrame(dict(scenario=scenario_name, replicate=replicate, src=codes[a], dst=codes[b],
                              weight=M[a, b], paired=is_pair[a, b]))
    return dict(city=city, districts=dist, targets=tgt, links=links)


# ------------------------------------------------------------------------------------------------
# Tasks (run in workers; only small summaries travel back)
# ------------------------------------------------------------------------------------------------
def run_task(scenario: Scenario, replicates: list[int], out: str, run_id: str | None = None) -> dict:
    """Run some replicates of a scenario and write their shards, then their completion marker.
    ``run_id`` tags the temporary files (the run that holds the output folder)."""
    parts = {name: [] for name in TABLES}
    for k in replicates:
        seed, future_seed = scenario.replicate_seeds(k)
        model = simulate(scenario.replicate_params(k), seed, scenario.until, future_seed)
        for name, df in replicate_tables(model, scenario.name, k, scenario.targets).items():
            parts[name].append(df)
        model.release()
        del model
        collect_garbage()
    shards = {}
    for name in TABLES:
        buf = io.BytesIO()
        pd.concat(parts[name], ignore_index=True).to_parquet(buf, index=False)
        shards[name] = buf.getvalue()
    summary = pd.concat(parts["targets"], ignore_index=True).to_dict(orient="records")
    marker = write_marker(Path(out), scenario, list(replicates), shards, summary, run_id or new_run_id())
    return dict(replicates=marker["replicates"], targets=marker["targets"])


def run_params_task(runs: list[tuple], replicates: list[int], seed: int, until: int,
                    targets, indicators) -> list[dict]:
    """Runs ``(run, params, draws, protected, path_seeds)``: replicate k of a run with draws
    applies draw k (except the protected keys) on top of its params, and with path seeds replays
    conditioned particle k through the published years."""
    rows = []
    for run, params, draws, protected, path_seeds in runs:
        for k in replicates:
            seed_k, future_seed = posterior.replicate_seeds(seed, k, path_seeds)
            model = simulate(posterior.replicate_params(params, draws, k, protected), seed_k, until, future_seed)
            row = dict(run=run, replicate=k)
            for t in targets:
                row[t.id] = measure(model, t)
            final = model.datacollector.get_model_vars_dataframe().iloc[-1]
            for name in indicators:
                row[name] = float(final[name])
            rows.append(row)
            model.release()
            del model
            collect_garbage()
    return rows



# A task keeps its replicates' tables in memory until it writes its shard: this many at most, so a
# worker's memory stays flat however long the ensemble (about 2 MB of tables per replicate to 2030).
MAX_TASK_ITEMS = 20
TASKS_PER_WORKER = 8


def split(items: list, workers: int, chunk: int | None = None) -> list[list]:
    """Tasks of ``chunk`` items each, or by default eight tasks per worker of near-equal size,
    and more for large ensembles, of at most MAX_TASK_ITEMS items. Replicates cost very
    different amounts (a posterior draw with a fast-growing firm pool runs ten times as long as
    the median one), so with only a few tasks per worker one worker is often left running the
    last long task alone; a task costs about a tenth of a second besides its replicates, so eight
    per worker keep that under a few per cent. (Serial runs one item per task, so a resume loses
    the least.)"""
    if chunk:
        return [items[i:i + chunk] for i in range(0, len(items), chunk)]
    n_tasks = min(len(items), TASKS_PER_WORKER * workers) if workers > 1 else len(items)
    if n_tasks and len(items) > n_tasks * MAX_TASK_ITEMS:
        n_tasks = workers * math.ceil(len(items) / (workers * MAX_TASK_ITEMS))
    return [list(part) for part in np.array_split(np.array(items, dtype=object), n_tasks) if len(part)]


# ------------------------------------------------------------------------------------------------
# Ensembles of a scenario
# ------------------------------------------------------------------------------------------------
def run_ensemble(scenario: Scenario | str, replicates: int | None = None, seed: int | None = None,
                 until: int | None = None, scale: float | None = None, backend: str = "serial",
                 workers: int | None = None, scheduler: str | None = None, out: str | Path | OutputFolder | None = None,
                 chunk: int | None = None, progress: bool = False, pool: cf.Executor | None = None,
                 wait: float | None = 0) -> EnsembleResult:
    """Run a scenario's replicates (resuming into ``out`` if it holds some) and load the results.

    ``out=None`` runs in a temporary folder that is removed afterwards. ``pool`` lets several
    ensembles share one executor (the ``compare`` command does). ``wait``: seconds to wait when
    another run holds ``out`` (None: as long as it takes; 0: refuse with OutputFolderError)."""
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    scenario = scenario.with_run(replicates=replicates, seed=seed, until=until, scale=scale)
    tmpdir = None
    if out is None:
        tmpdir = out = Path(tempfile.mkdtemp(prefix=f"cqsim-{scenario.name}-"))
    try:
        with held(out, wait) as folder:
            todo = prepare(scenario, folder)
            if todo:
                n_workers = workers or default_workers()
                tasks = split(todo, 1 if backend == "serial" else n_workers, chunk)
                with contextlib.ExitStack() as stack:
                    ex = pool or stack.enter_context(executor(backend, workers, scheduler))
                    _drive(ex, [(run_task, (scenario, t, str(folder.path), folder.run_id), len(t)) for t in tasks],
                           progress, f"{scenario.name}", len(todo))
            result = load_results(folder.path, scenario)
            if tmpdir is None:      # a folder that is kept carries each district's band
                write_district_quantiles(folder, result)
            return result
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _drive(ex: cf.Executor, jobs, progress: bool, label: str, total: int) -> list:
    """Submit every job, advance a progress bar as they finish, re-raise the first failure."""
    import tqdm as tqdm_module
    from tqdm import tqdm
    tqdm_module.tqdm.monitor_interval = 0     # no monitor thread: worker processes are forked
    results = []
    with tqdm(total=total, desc=label, unit="run", disable=not progress, leave=True, dynamic_ncols=True) as bar:
        futures = {ex.submit(fn, *args): n for fn, args, n in jobs}
        try:
            for f in cf.as_completed(futures):
                results.append(f.result())
                bar.update(futures[f])
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return results


# ------------------------------------------------------------------------------------------------
# Paired comparison
# ------------------------------------------------------------------------------------------------
def compare(reference: EnsembleResult, other: EnsembleResult, level: float = 0.95) -> pd.DataFrame:
    """Paired differences (other − reference) per target over the replicates both ran with the
    same seed: the mean difference of the target's value and of meeting it, each with a
    t-interval at ``level``."""
    from scipy import stats
    if reference.scenario.seed != other.scenario.seed:
        raise ValueError("paired comparison needs the same root seed in both ensembles "
                         f"({reference.scenario.seed} vs {other.scenario.seed})")
    a = reference.targets.set_index(["target", "replicate"])
    b = other.targets.set_index(["target", "replicate"])
    rows = []
    for t in reference.scenario.targets:
        if t.id not in b.index.get_level_values(0):
            continue
        common = a.loc[t.id].index.intersection(b.loc[t.id].index)
        va, vb = a.loc[t.id].loc[common], b.loc[t.id].loc[common]
        n = len(common)
        row = dict(target=t.id, description=t.description, reference=reference.scenario.name,
                   scenario=other.scenario.name, replicates=n, reference_parameters=reference.scenario.parameters,
                   parameters=other.scenario.parameters)
        for label, da, db in (("value", va["value"], vb["value"]), ("prob_met", va["met"], vb["met"])):
            d = (db.astype(float) - da.astype(float)).to_numpy()
            mean = float(d.mean()) if n else math.nan
            se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            half = float(stats.t.ppf(0.5 + level / 2, n - 1) * se) if n > 1 else math.nan
            row.update({f"{label}_reference": float(da.astype(float).mean()), f"{label}_scenario": float(db.astype(float).mean()),
                        f"{label}_diff": mean, f"{label}_diff_lo": mean - half, f"{label}_diff_hi": mean + half})
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# Many parameter sets (sensitivity analysis)
# ------------------------------------------------------------------------------------------------
def evaluate_params(param_sets, replicates: int = 1, seed: int = 42, until: int = 2025, targets=None,
                    indicators=(), backend: str = "serial", workers: int | None = None,
                    scheduler: str | None = None, progress: bool = False, chunk: int | None = None,
                    pool: cf.Executor | None = None, draws=()) -> pd.DataFrame:
    """Run every parameter set (``Params``, nested override dicts or ``Scenario``) for the same
    replicates and return one row per (run, replicate): each target's value at its year and each
    extra city indicator at the final year-end. Replicate ``k`` has the same seed in every run.
    ``pool`` lets many calls share one executor (a search evaluates a few sets at a time).

    Parameter uncertainty: a ``Scenario`` brings its own posterior draws (none when it runs at
    its fixed point) and replicate ``k`` runs draw ``k``, as in :func:`run_ensemble`; ``draws``
    (dicts of dotted behaviour keys) does the same for ``Params`` and dicts, never replacing a
    key a dict sets itself. By default parameter sets run as given (a sensitivity analysis
    varies the parameters itself)."""
    targets = tuple(targets or POLICY_2025)
    draws = tuple(draws or ())
    runs = []
    for i, p in enumerate(param_sets):
        if isinstance(p, Scenario):
            own = p.draws if p.parameters == posterior.POSTERIOR else ()
            seeds = p.path_seeds if p.conditioned else ()
            runs.append((i, p.params, own, frozenset(posterior.protected_keys(p.overrides)), seeds))
        elif isinstance(p, Params):
            runs.append((i, p, draws, frozenset(), ()))
        else:
            runs.append((i, Params.from_dict(p), draws, frozenset(posterior.protected_keys(p)), ()))
    unknown = [n for n in indicators if n not in metrics.CITY_REPORTERS]
    if unknown:
        raise ValueError(f"unknown indicator {unknown[0]!r}; choose city reporters of sim.core.metrics.CITY_REPORTERS")
    late = [t.id for t in targets if t.year > until]
    if late:
        raise ValueError(f"targets {late} are measured after until={until}")
    reps = list(range(replicates))
    n_workers = 1 if backend == "serial" else (workers or default_workers())
    jobs = [(run_params_task, (batch, reps, seed, until, targets, tuple(indicators)), len(batch) * len(reps))
            for batch in split(runs, n_workers, chunk)]
    with contextlib.nullcontext(pool) if pool is not None else executor(backend, workers, scheduler) as ex:
        parts = _drive(ex, jobs, progress, "runs", len(runs) * len(reps))
    rows = [r for part in parts for r in part]
    return pd.DataFrame(rows).sort_values(["run", "replicate"]).reset_index(drop=True)
