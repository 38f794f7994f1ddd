"""The fitted point: a local Nelder–Mead refinement of the best particle of the ABC-SMC search,
then the choice among the refined point, the lowest-distance particles and the posterior mean by
ensemble means over several replicates at a larger scale, with the derived end-2022 state.

The refinement works in the unit box of the prior (log scale for log-uniform parameters) on the
mean distance of a few runs with fixed seeds (common random numbers), so its objective is a
deterministic function of the parameters.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from .fit import distance, distance_of, fit_errors, hindcast_band, observed
from .problem import FREE
from .result import CalibrationResult, SearchResult, clip_ratio, clip_rd
from .runs import execute, frame


def _to_unit(values: np.ndarray) -> np.ndarray:
    u = np.empty_like(values, dtype=float)
    for j, f in enumerate(FREE):
        x = values[..., j]
        u[..., j] = (np.log(x) - math.log(f.lo)) / (math.log(f.hi) - math.log(f.lo)) if f.log else (x - f.lo) / (f.hi - f.lo)
    return u


def _from_unit(u: np.ndarray) -> np.ndarray:
    x = np.empty_like(u, dtype=float)
    for j, f in enumerate(FREE):
        if f.log:
            x[..., j] = np.exp(math.log(f.lo) + u[..., j] * (math.log(f.hi) - math.log(f.lo)))
        else:
            x[..., j] = f.lo + u[..., j] * (f.hi - f.lo)
    return x


def _overrides(x: np.ndarray) -> dict:
    return {f.key: float(round(v, 6)) for f, v in zip(FREE, x)}


def choose(pool, t0, found: SearchResult, seed, scale, eval_scale, replicates, top, refine, refine_replicates,
           workers, progress, data_dir) -> CalibrationResult:
    """The fitted point of a search (``calibrate``'s second half): refine the best particle with
    ``refine`` Nelder–Mead evaluations, then pick the lowest ensemble-mean distance among the
    refined point, the ``top`` best particles and the posterior mean (``replicates`` runs at
    ``eval_scale`` each), and derive the end-2022 state from the chosen ensemble. ``t0``: when
    the calibration started (for its runtime)."""
    obs = observed(data_dir)
    post = found.posterior
    w = post["weight"].to_numpy()
    x = post[[f.key for f in FREE]].to_numpy()
    candidates = [{f.key: float(row[f.key]) for f in FREE} for _, row in post.nsmallest(top, "distance").iterrows()]
    # The posterior mean of log-uniform parameters is taken in log space (their prior's scale).
    u = _to_unit(x)
    candidates.append(_overrides(_from_unit((w @ u)[None, :])[0]))
    refined, n_refine = None, 0
    if refine > 0:
        best_u = _to_unit(np.array([[candidates[0][f.key] for f in FREE]]))[0]
        refined, n_refine = _refine(pool, best_u, refine, refine_replicates, seed, scale, obs, progress)
        candidates.insert(0, refined)
    evaluated = []
    for i, cand in enumerate(candidates):
        tasks = [(cand, seed, k, eval_scale, None) for k in range(replicates)]
        res = execute(tasks, pool, progress, f"ensemble {i + 1}/{len(candidates)}")
        runs = frame(res, range(replicates))
        err = fit_errors(runs, data_dir)
        derived = (float(np.mean([r["candidate_ratio"] for r in res])), float(np.nanmean([r["registered_rd"] for r in res])))
        evaluated.append((distance(err), i, cand, err, runs, derived))
    evaluated.sort(key=lambda t: (t[0], t[1]))
    best_d, _, best, errors, runs, (ratio, registered_rd) = evaluated[0]
    start_res = execute([({}, seed, k, eval_scale, None) for k in range(replicates)], pool, progress, "starting parameters")
    start_errors = fit_errors(frame(start_res, range(replicates)), data_dir)
    parameters = dict(best)
    parameters["behaviour.candidate_ratio"] = clip_ratio(ratio)
    parameters["behaviour.registered_rd_2022"] = clip_rd(registered_rd)
    s = found.settings
    settings = dict(budget=s["budget"], generations=s["generations"], accept=s["accept"], seed=s["seed"], scale=scale,
                    eval_scale=eval_scale, replicates=replicates, top=top, refine=refine,
                    refine_replicates=refine_replicates, workers=workers, population=s["population"],
                    generations_run=s["generations_run"], posterior_generation=s["posterior_generation"],
                    search_simulations=s["simulations"],
                    candidates_evaluated=len(candidates),
                    chosen=("refined" if refined is not None and best == refined else
                            "posterior mean" if best == candidates[-1] else "particle"),
                    simulations=s["simulations"] + n_refine * refine_replicates + (len(candidates) + 1) * replicates)
    return CalibrationResult(parameters=parameters, errors=errors, start_errors=start_errors, posterior=post,
                             history=found.history, settings=settings, runtime_seconds=time.perf_counter() - t0,
                             band=hindcast_band(runs, data_dir), generations=found.generations,
                             database=found.database)


def _refine(pool, u0, max_evals, replicates, seed, scale, obs, progress):
    """Nelder–Mead from the best particle, in the unit box of the prior (clipped), on the mean
    distance of ``replicates`` runs with fixed seeds (common random numbers)."""
    from scipy.optimize import minimize
    from tqdm import tqdm

    bar = tqdm(total=max_evals, desc="refinement", disable=not progress, unit="point", file=sys.stderr)
    cache: dict = {}

    def objective(u):
        x = _from_unit(np.clip(u, 0, 1))
        ov = _overrides(x)
        key = tuple(sorted(ov.items()))
        if key not in cache:
            res = execute([(ov, seed, k, scale, None) for k in range(replicates)], pool, False, "")
            cache[key] = float(np.mean([distance_of(r, obs) for r in res]))
            bar.update()
        return cache[key]

    opt = minimize(objective, u0, method="Nelder-Mead",
                   options=dict(maxfev=max_evals, initial_simplex=_simplex(u0, 0.08), xatol=1e-3, fatol=0.01))
    bar.close()
    return _overrides(_from_unit(np.clip(opt.x, 0, 1))), len(cache)


def _simplex(u0, step):
    pts = [u0]
    for j in range(len(u0)):
        v = u0.copy()
        v[j] = v[j] + step if v[j] + step <= 1 else v[j] - step
        pts.append(v)
    return np.array(pts)
