"""The method: ABC-SMC (pyabc) over the prior box of the free parameters, then (``calibrate``) the
choice of the fitted point among ensemble means, with an optional Nelder–Mead refinement of the
best particle (``refine.py``), and the check of a run's settings.

The search is pyabc's sequential Monte Carlo ABC (Toni et al. 2009; Klinger & Hasenauer 2017
for the adaptive distance): each generation perturbs the previous one's weighted particles
with a multivariate normal kernel, keeps a particle when its distance to the published points
is below a tolerance set to a quantile of the previous generation's distances, and weights it
by prior / proposal. The posterior is the last generation whose weights are still worth a tenth
of its particles (``posterior_generation``): a kernel can leave a handful of particles with
nearly all the weight. The distance (``AdaptivePNormDistance``, p = 1) compares every published
point (levels and yearly additions 2018–2022, the 2020 regional blocks, the 2022
central-district share, the districts' own figures and the share of districts in their published
2022 tier), each scaled by its spread in the current generation (re-estimated
each generation) and weighted by its series' weight over its number of points.

Reproducibility: every generation draws its simulations' seeds from ``(seed, generation)``, and
each seed drives one task that samples until it has one accepted particle (the priors and
kernels draw from numpy's global generator, which the task seeds; the model run draws its own
seed from it). The tasks are mapped over a process pool or a Dask cluster and collected in
order, so one seed gives the same posterior whatever the number of workers, and a stopped
search resumed from its SQLite history continues exactly as if it had not stopped.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiments import district_observations as district_obs
from ..experiments import observations as obs_models
from ..experiments.calibration_file import FIT_YEARS, LAST_YEAR, CalibrationError
from ..experiments.executors import SCHEDULER_TIMEOUT
from .fit import (ADDED_SERIES, CITY_SERIES, REGIONAL_SERIES, TIER_YEAR, TIERS, district_points, is_district, observed,
                  point_weights, value)
from .problem import DEFAULTS, ESS_FLOOR, FREE
from .refine import choose
from .result import CalibrationResult, SearchResult
from .runs import run_one, worker_pool

# Summary statistics that are recorded but never compared: the end-2022 state a forecast starts
# from (so every posterior draw carries its own pool of firms yet to register).
DERIVED_STATS = ("derived:candidate_ratio", "derived:registered_rd")


def _name(f) -> str:
    return f.key.split(".", 1)[1]


def _prior():
    """pyabc prior: uniform on each parameter, or on its log10 for log-uniform ones."""
    import pyabc
    return pyabc.Distribution(**{_name(f): pyabc.RV("uniform", math.log10(f.lo), math.log10(f.hi) - math.log10(f.lo))
                                 if f.log else pyabc.RV("uniform", f.lo, f.hi - f.lo) for f in FREE})


def _natural(par) -> dict:
    """A pyabc parameter (log10 for log-uniform priors) as dotted overrides in natural units."""
    return {f.key: float(round(10 ** par[_name(f)] if f.log else par[_name(f)], 6)) for f in FREE}


def stats_of(result: dict, years=FIT_YEARS) -> dict:
    """One run's summary statistics: every fitted point by name (``series:year``), the derived
    end-2022 state, and the later years (a backtest's forecast)."""
    out = {}
    for s in CITY_SERIES:
        for y in years:
            out[f"{s}:{y}"] = float(result["series"][s][y])
    for s in ADDED_SERIES:
        for y in years:
            out[f"{s}_added:{y}"] = float(value(result, f"{s}_added", y))
    for s, (_, y, _) in REGIONAL_SERIES.items():
        out[f"{s}:{y}"] = float(result["series"][s][y])
    for s in filter(is_district, result["series"]):
        for y in years:
            out[f"{s}:{y}"] = float(result["series"][s][y])
    out[f"{TIERS}:{TIER_YEAR}"] = float(result["series"][TIERS][TIER_YEAR])
    out["derived:candidate_ratio"] = float(result["candidate_ratio"])
    out["derived:registered_rd"] = float(result["registered_rd"]) if np.isfinite(result["registered_rd"]) else 0.0
    return out


def later_observations(through: int, data_dir=None) -> tuple[list, list]:
    """The city and district figures published after 2022 up to ``through`` (none when
    ``through`` is 2022): what a backtest's search records, unfitted, of its runs' later years."""
    if through <= LAST_YEAR:
        return [], []
    return ([o for o in obs_models.observations(data_dir, through) if o.year > LAST_YEAR],
            [o for o in district_obs.district_observations(data_dir) if LAST_YEAR < o.year <= through])


def later_key(o) -> str:
    """The statistic of a figure published after 2022 (a city figure by indicator, year and kind)."""
    return "later:" + (":".join(map(str, o.key)) if isinstance(o.key, tuple) else o.key)


def later_stats(result: dict, obs=(), dobs=()) -> dict:
    """One run's model value of each later figure (``observations.simulated_value``,
    ``district_observations.district_values``); a placeholder 0 for the dummy run."""
    if "later" not in result:
        return {later_key(o): 0.0 for o in (*obs, *dobs)}
    frame = pd.DataFrame(result["later"]["frame"])
    out = {later_key(o): float(obs_models.simulated_value(o, frame)) for o in obs}
    if dobs:
        values = district_obs.district_values(pd.DataFrame(result["later"]["districts"]), dobs)
        out.update({later_key(o): values[o.key] for o in dobs})
    return out


def _dummy() -> dict:
    """A run of the right shape (only its keys are used)."""
    names = (*CITY_SERIES, *REGIONAL_SERIES, *(p[0] for p in district_points()), TIERS)
    return dict(series={s: {y: 1.0 for y in range(FIT_YEARS[0] - 1, LAST_YEAR + 1)} for s in names},
                candidate_ratio=1.0, registered_rd=0.03)


def _observed_stats(obs: pd.DataFrame) -> dict:
    return {f"{r.series}:{r.year}": float(r.value) for r in obs.itertuples()}


class HindcastModel:
    """The pyabc model: one hindcast at ``scale`` from a seed drawn from numpy's global generator,
    run on to ``through`` when later figures (``obs``, ``dobs``) are recorded."""

    def __init__(self, scale: float, through: int = LAST_YEAR, obs=(), dobs=()):
        self.scale, self.through, self.obs, self.dobs = scale, through, tuple(obs), tuple(dobs)

    def __call__(self, par) -> dict:
        seed = int(np.random.randint(0, 2**31 - 1))
        result = run_one((_natural(par), seed, 0, self.scale, None, self.through))
        return {**stats_of(result), **later_stats(result, self.obs, self.dobs)}


def search(population: int = DEFAULTS["population"], budget: int = DEFAULTS["budget"],
           generations: int = DEFAULTS["generations"], accept: float = DEFAULTS["accept"], seed: int = DEFAULTS["seed"],
           scale: float = DEFAULTS["scale"], last_year: int = LAST_YEAR, database: Path | str | None = None,
           workers: int = 1, scheduler: str | None = None, progress: bool = True, fresh: bool = False,
           data_dir=None, forecast_through: int = LAST_YEAR) -> SearchResult:
    """ABC-SMC of FREE against the published points up to ``last_year`` (a backtest fits fewer
    years). Stops after ``generations`` generations or the generation in which the simulations
    reach ``budget``. ``database``: the SQLite history (a temporary file when None); a history of
    the same settings is resumed, of other settings refused (``fresh`` discards it).
    ``forecast_through``: a year after 2022 runs every hindcast on to it and records, unfitted,
    its value of every figure published after 2022 up to then (``later:`` statistics)."""
    import pyabc

    from .sampler import SeededMappingSampler
    obs = observed(data_dir, last_year)
    later_obs, later_dobs = later_observations(forecast_through, data_dir)
    through = forecast_through if later_obs or later_dobs else LAST_YEAR   # no figure to record: no need to run on
    settings = dict(population=population, budget=budget, generations=generations, accept=accept, seed=seed,
                    scale=scale, last_year=last_year, free=[f.key for f in FREE],
                    observed=_observed_stats(obs))
    if through > LAST_YEAR:   # (absent otherwise: a fit's fingerprint is what it was)
        settings["later"] = sorted(later_key(o) for o in (*later_obs, *later_dobs))
    # What a resumed history must share (more generations or a larger budget extend it).
    fingerprint = hashlib.sha256(json.dumps({k: v for k, v in settings.items() if k not in ("generations", "budget")},
                                            sort_keys=True).encode()).hexdigest()
    # Every statistic a run records is in the observed set; those not fitted (the derived state,
    # the years after last_year) have weight 0 and the placeholder 0, so the held-out published
    # values never reach the search.
    fitted = point_weights(obs)
    recorded = {**stats_of(_dummy()), **later_stats({}, later_obs, later_dobs)}
    weights = {k: fitted.get(k, 0.0) for k in recorded}
    stats_obs = {k: _observed_stats(obs).get(k, 0.0) for k in recorded}
    tmp = None
    if database is None:
        import tempfile
        tmp = tempfile.TemporaryDirectory(prefix="cqsim-abc-")
        database = Path(tmp.name) / "abc.db"
    database = Path(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    if fresh and database.exists():
        database.unlink()
    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("pyabc").setLevel(logging.WARNING)
    with contextlib.ExitStack() as stack:
        map_ = _mapper(stack, workers, scheduler)
        sampler = SeededMappingSampler(map_, seed, progress)
        dist = pyabc.AdaptivePNormDistance(p=1, fixed_weights=weights, all_particles_for_scale=False)
        abc = pyabc.ABCSMC(HindcastModel(scale, through, later_obs, later_dobs), _prior(), dist,
                           population_size=population, sampler=sampler, eps=pyabc.QuantileEpsilon(alpha=accept))
        url = f"sqlite:///{database}"
        run_id = _resumable(url, fingerprint, database) if database.exists() else None
        if run_id is None and database.exists():
            raise CalibrationError(f"{database}: holds a calibration history of other settings (or a finished one); "
                                   "pass --fresh to discard it, or another --history file")
        if run_id is not None:
            abc.load(url, run_id)
            done = abc.history.max_t + 1
        else:
            abc.new(url, stats_obs, meta_info=dict(fingerprint=fingerprint))
            done = 0
        if done < generations and abc.history.total_nr_simulations < budget:
            abc.run(max_nr_populations=generations - done, max_total_nr_simulations=budget)
        h = abc.history
        result = _collect(h, settings, str(database))
    if tmp is not None:
        tmp.cleanup()
    return result


def _resumable(url: str, fingerprint: str, database: Path) -> int | None:
    """The id of the latest search of these settings in the history, else None (pyabc keeps
    the run's meta information as the text of a dict; the fingerprint is a hex digest in it)."""
    import pyabc
    try:
        runs = pyabc.History(url, create=False).all_runs()
    except Exception:  # noqa: BLE001 — whatever the database layer raises, the file is no history
        raise CalibrationError(f"{database}: is damaged or not a calibration history (it cannot be read as one); "
                               "pass --fresh to discard it, or give another --history file") from None
    if not runs:
        raise CalibrationError(f"{database}: holds no calibration history (an empty or damaged file); pass --fresh to "
                               "discard it, or give another --history file")
    found = [r.id for r in runs if fingerprint in (r.json_parameters or "")]
    return found[-1] if found else None


def _mapper(stack: contextlib.ExitStack, workers: int, scheduler: str | None):
    if scheduler:
        from distributed import Client
        client = stack.enter_context(Client(scheduler, timeout=SCHEDULER_TIMEOUT))
        return lambda fn, items: (f.result() for f in client.map(fn, items, pure=False))
    if workers <= 1:
        return map
    pool = stack.enter_context(worker_pool(workers))
    return functools.partial(pool.map, chunksize=1)


def _collect(h, settings: dict, database: str) -> SearchResult:
    rows, gens = [], []
    pops = h.get_all_populations()
    for t in range(h.max_t + 1):
        pop = h.get_population(t=t)
        w = np.array([p.weight for p in pop.particles], float)
        w = w / w.sum()
        for p, wi in zip(pop.particles, w):
            rows.append(dict(generation=t, distance=float(p.distance), weight=float(wi), **_natural(p.parameter),
                             **{f"stat:{k}": float(v) for k, v in p.sum_stat.items()}))
        row = pops[pops.t == t].iloc[0]
        gens.append(dict(generation=t, epsilon=float(row.epsilon), simulations=int(row.samples),
                         accepted=len(pop.particles), ess=float(1.0 / (w ** 2).sum())))
    history = pd.DataFrame(rows)
    gens = pd.DataFrame(gens)
    chosen = posterior_generation(gens, settings["population"])
    posterior = history[history.generation == chosen].drop(columns="generation").reset_index(drop=True)
    posterior = posterior.rename(columns={"stat:derived:candidate_ratio": "derived:candidate_ratio",
                                          "stat:derived:registered_rd": "derived:registered_rd"})
    settings = {**settings, "generations_run": int(h.max_t + 1), "simulations": int(gens["simulations"].sum()),
                "posterior_generation": chosen}
    return SearchResult(posterior=posterior, history=history, generations=gens, settings=settings, database=database)


def posterior_generation(generations: pd.DataFrame, population: int) -> int:
    """The generation taken as the posterior: the last whose ESS is at least ``ESS_FLOOR`` of
    ``population`` (the first, drawn from the prior with equal weights, always is)."""
    ok = generations[generations["ess"] >= ESS_FLOOR * population]
    return int(ok["generation"].max()) if len(ok) else int(generations["generation"].min())


def calibrate(budget: int = DEFAULTS["budget"], seed: int = DEFAULTS["seed"], scale: float = DEFAULTS["scale"],
              generations: int = DEFAULTS["generations"], accept: float = DEFAULTS["accept"],
              eval_scale: float = DEFAULTS["eval_scale"], replicates: int = DEFAULTS["replicates"],
              top: int = DEFAULTS["top"], refine: int = DEFAULTS["refine"],
              refine_replicates: int = DEFAULTS["refine_replicates"], workers: int = 1, progress: bool = True,
              data_dir=None, population: int = DEFAULTS["population"], history: Path | str | None = None,
              fresh: bool = False, scheduler: str | None = None) -> CalibrationResult:
    """Fit FREE to the 2018–2022 history by ABC-SMC (``population`` particles a generation, at
    most ``generations`` generations, stopping after the generation that reaches ``budget``
    simulations at ``scale``); refine the best particle with ``refine`` Nelder–Mead evaluations
    (each the mean of ``refine_replicates`` runs); pick the fitted point among the refined one,
    the ``top`` best particles of the last generation and the posterior mean by ensemble means
    over ``replicates`` runs at ``eval_scale``; derive DERIVED from that ensemble. Results do not
    depend on ``workers``. ``history``: the SQLite file of the search (resumed if it holds this
    search unfinished)."""
    check_settings(budget=budget, generations=generations, accept=accept, scale=scale, eval_scale=eval_scale,
                   replicates=replicates, top=top, workers=workers, seed=seed, refine=refine,
                   refine_replicates=refine_replicates, population=population)
    t0 = time.perf_counter()
    found = search(population=population, budget=budget, generations=generations, accept=accept, seed=seed,
                   scale=scale, database=history, workers=workers, scheduler=scheduler, progress=progress,
                   fresh=fresh, data_dir=data_dir)
    with worker_pool(workers) as pool:
        return choose(pool, t0, found, seed, scale, eval_scale, replicates, top, refine, refine_replicates, workers,
                      progress, data_dir)


def check_settings(**s):
    """Check ``calibrate``'s settings (its keyword names; the backtest checks its own with it):
    a CalibrationError names the command-line option and what it allows."""
    def bad(opt, msg):
        raise CalibrationError(f"--{opt.replace('_', '-')}: {msg}")
    for name in ("budget", "generations", "replicates", "top", "workers", "seed", "refine", "refine_replicates",
                 "population"):
        v = s[name]
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            bad(name, f"expected an integer, got {v!r}")
    if s["generations"] < 1 or s["generations"] > 50:
        bad("generations", f"allowed 1 to 50, got {s['generations']}")
    if not 4 <= s["population"] <= 100_000:
        bad("population", f"particles per generation: allowed 4 to 100000, got {s['population']}")
    if s["budget"] < s["population"]:
        bad("budget", f"needs at least one generation's simulations (--population {s['population']}), got {s['budget']}")
    if s["budget"] > 1_000_000:
        bad("budget", f"allowed up to 1000000 simulations, got {s['budget']}")
    if not 0 < s["accept"] < 1:
        bad("accept", f"the quantile of the last generation's distances that sets the next tolerance must be in (0, 1), got {s['accept']}")
    for name in ("scale", "eval_scale"):
        if not 0.001 <= s[name] <= 1.0:
            bad(name, f"simulated firms per real firm must be 0.001 to 1, got {s[name]}")
    if not 0 <= s["refine"] <= 100_000:
        bad("refine", f"allowed 0 (no refinement) to 100000 evaluations, got {s['refine']}")
    for name, hi in (("replicates", 10_000), ("top", 1000), ("workers", 256), ("refine_replicates", 1000)):
        if not 1 <= s[name] <= hi:
            bad(name, f"allowed 1 to {hi}, got {s[name]}")
    if not 0 <= s["seed"] < 2**63:
        bad("seed", f"allowed 0 to 2**63-1, got {s['seed']}")
