"""The method: ABC-PMC over the prior box of the free parameters, a Nelder–Mead refinement of
the best particle, and the choice of the fitted point among ensemble means."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .fit import _distance_of, distance, fit_errors, hindcast_band, observed
from .problem import DEFAULTS, FREE, CalibrationError
from .runs import _execute, _frame, _pool


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


def _weighted_cov(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    mean = w @ u
    d = u - mean
    cov = (d * w[:, None]).T @ d / max(1 - (w**2).sum(), 1e-12)
    return cov + 1e-6 * np.eye(u.shape[1])


def _mvn_logpdf(x: np.ndarray, means: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x_i; mean_j, cov) for every pair: (len(x), len(means))."""
    L = np.linalg.cholesky(cov)
    diff = x[:, None, :] - means[None, :, :]
    z = np.linalg.solve(L, diff.reshape(-1, x.shape[1]).T).T.reshape(diff.shape)
    logdet = 2 * np.log(np.diag(L)).sum()
    return -0.5 * (z**2).sum(-1) - 0.5 * (logdet + x.shape[1] * math.log(2 * math.pi))


@dataclass
class CalibrationResult:
    parameters: dict            # dotted key -> fitted value (free and derived)
    errors: pd.DataFrame        # fit of the fitted point (ensemble mean at eval_scale)
    start_errors: pd.DataFrame  # fit of the starting (default) parameters, same ensemble
    posterior: pd.DataFrame     # accepted particles of the last generation: one column per free key + weight, distance
    history: pd.DataFrame       # every simulation of the search: generation, distance, parameters
    settings: dict
    runtime_seconds: float
    band: pd.DataFrame          # the fitted point's hindcast band

    @property
    def distance(self) -> float:
        return distance(self.errors)

    def uncertainty(self) -> dict:
        w = self.posterior["weight"].to_numpy()
        out = {}
        for f in FREE:
            v = self.posterior[f.key].to_numpy()
            order = np.argsort(v)
            cw = np.cumsum(w[order])
            q = lambda p: float(v[order][min(np.searchsorted(cw, p), len(v) - 1)])  # noqa: E731
            mean = float(w @ v)
            out[f.key] = dict(mean=mean, sd=float(math.sqrt(max(w @ (v - mean) ** 2, 0.0))), q05=q(0.05), q50=q(0.5),
                              q95=q(0.95), prior_lo=f.lo, prior_hi=f.hi, prior="log-uniform" if f.log else "uniform")
        return out


def calibrate(budget: int = DEFAULTS["budget"], seed: int = DEFAULTS["seed"], scale: float = DEFAULTS["scale"],
              generations: int = DEFAULTS["generations"], accept: float = DEFAULTS["accept"],
              eval_scale: float = DEFAULTS["eval_scale"], replicates: int = DEFAULTS["replicates"],
              top: int = DEFAULTS["top"], refine: int = DEFAULTS["refine"],
              refine_replicates: int = DEFAULTS["refine_replicates"], workers: int = 1, progress: bool = True,
              data_dir=None) -> CalibrationResult:
    """Fit FREE to the 2018–2022 history by ABC-PMC with ``budget`` hindcast simulations at
    ``scale``; refine the best particle with ``refine`` Nelder–Mead evaluations (each the mean of
    ``refine_replicates`` runs); pick the fitted point among the refined one, the ``top`` best
    particles and the posterior mean by ensemble means over ``replicates`` runs at
    ``eval_scale``; derive DERIVED from that ensemble. Results do not depend on ``workers``."""
    _check_settings(budget=budget, generations=generations, accept=accept, scale=scale, eval_scale=eval_scale,
                    replicates=replicates, top=top, workers=workers, seed=seed, refine=refine,
                    refine_replicates=refine_replicates)
    t0 = time.perf_counter()
    with _pool(workers) as pool:
        return _calibrate(pool, t0, budget, seed, scale, generations, accept, eval_scale, replicates, top, refine,
                          refine_replicates, workers, progress, data_dir)


def _calibrate(pool, t0, budget, seed, scale, generations, accept, eval_scale, replicates, top, refine,
               refine_replicates, workers, progress, data_dir) -> CalibrationResult:
    obs = observed(data_dir)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    d = len(FREE)
    per_gen = [budget // generations + (1 if g < budget % generations else 0) for g in range(generations)]
    history = []
    sim_index = 0
    accepted_u = weights = None
    cov = None
    for g, n in enumerate(per_gen):
        if g == 0:
            from scipy.stats import qmc
            u = qmc.LatinHypercube(d=d, seed=rng).random(n)
        else:
            picks = rng.choice(len(accepted_u), size=n, p=weights)
            u = np.empty((n, d))
            for i, j in enumerate(picks):
                for _ in range(1000):  # truncate the kernel to the prior box
                    cand = rng.multivariate_normal(accepted_u[j], cov)
                    if np.all((cand >= 0) & (cand <= 1)):
                        break
                else:
                    cand = np.clip(cand, 0, 1)
                u[i] = cand
        x = _from_unit(u)
        # Every particle of the search uses replicate 0 of the root seed: common random numbers
        # make the distance a smooth function of the parameters.
        tasks = [(_overrides(xi), seed, 0, scale, None) for xi in x]
        results = _execute(tasks, pool, progress, f"generation {g + 1}/{generations}")
        dist = np.array([_distance_of(r, obs) for r in results])
        for xi, di in zip(x, dist):
            history.append(dict(generation=g, simulation=sim_index, distance=float(di), **_overrides(xi)))
            sim_index += 1
        eps = float(np.quantile(dist, accept))
        keep = dist <= eps
        if g == 0:
            w_new = np.ones(keep.sum())
        else:
            logq = _mvn_logpdf(u[keep], accepted_u, cov)
            m = logq.max(axis=1, keepdims=True)
            w_new = 1.0 / (np.exp(logq - m) @ weights * np.exp(m[:, 0]))
        accepted_u, weights, accepted_d = u[keep], w_new / w_new.sum(), dist[keep]
        cov = 2.0 * _weighted_cov(accepted_u, weights)
    hist = pd.DataFrame(history)
    post_x = _from_unit(accepted_u)
    posterior = pd.DataFrame(post_x, columns=[f.key for f in FREE])
    posterior["weight"] = weights
    posterior["distance"] = accepted_d

    # Fitted point: the refined best particle, the best particles and the posterior mean, each
    # as an ensemble mean.
    candidates = [{f.key: float(row[f.key]) for f in FREE} for _, row in hist.nsmallest(top, "distance").iterrows()]
    candidates.append(_overrides(weights @ post_x))
    refined = None
    if refine > 0:
        best_u = _to_unit(np.array([[candidates[0][f.key] for f in FREE]]))[0]
        refined, n_refine = _refine(pool, best_u, refine, refine_replicates, seed, scale, obs, progress)
        candidates.insert(0, refined)
    evaluated = []
    for i, cand in enumerate(candidates):
        tasks = [(cand, seed, k, eval_scale, None) for k in range(replicates)]
        res = _execute(tasks, pool, progress, f"ensemble {i + 1}/{len(candidates)}")
        runs = _frame(res, range(replicates))
        err = fit_errors(runs, data_dir)
        derived = (float(np.mean([r["candidate_ratio"] for r in res])), float(np.nanmean([r["registered_rd"] for r in res])))
        evaluated.append((distance(err), i, cand, err, runs, derived))
    evaluated.sort(key=lambda t: (t[0], t[1]))
    best_d, _, best, errors, runs, (ratio, registered_rd) = evaluated[0]
    start_res = _execute([({}, seed, k, eval_scale, None) for k in range(replicates)], pool, progress, "starting parameters")
    start_errors = fit_errors(_frame(start_res, range(replicates)), data_dir)
    parameters = dict(best)
    parameters["behaviour.candidate_ratio"] = float(round(min(max(ratio, 0.05), 20.0), 4))
    parameters["behaviour.registered_rd_2022"] = float(round(min(max(registered_rd, 0.002), 0.4), 5))
    settings = dict(budget=budget, generations=generations, accept=accept, seed=seed, scale=scale, eval_scale=eval_scale,
                    replicates=replicates, top=top, refine=refine, refine_replicates=refine_replicates, workers=workers,
                    candidates_evaluated=len(candidates), chosen=("refined" if refined is not None and best == refined else "particle"),
                    simulations=budget + (n_refine * refine_replicates if refine > 0 else 0) + (len(candidates) + 1) * replicates)
    return CalibrationResult(parameters=parameters, errors=errors, start_errors=start_errors, posterior=posterior,
                             history=hist, settings=settings, runtime_seconds=time.perf_counter() - t0,
                             band=hindcast_band(runs, data_dir))


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
            res = _execute([(ov, seed, k, scale, None) for k in range(replicates)], pool, False, "")
            cache[key] = float(np.mean([_distance_of(r, obs) for r in res]))
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


def _check_settings(**s):
    def bad(opt, msg):
        raise CalibrationError(f"--{opt.replace('_', '-')}: {msg}")
    for name in ("budget", "generations", "replicates", "top", "workers", "seed", "refine", "refine_replicates"):
        v = s[name]
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            bad(name, f"expected an integer, got {v!r}")
    if s["generations"] < 1 or s["generations"] > 20:
        bad("generations", f"allowed 1 to 20, got {s['generations']}")
    if s["budget"] < 4 * s["generations"]:
        bad("budget", f"needs at least 4 simulations per generation ({4 * s['generations']} for {s['generations']} generations), got {s['budget']}")
    if s["budget"] > 1_000_000:
        bad("budget", f"allowed up to 1000000 simulations, got {s['budget']}")
    if not 0 < s["accept"] < 1:
        bad("accept", f"the accepted share per generation must be in (0, 1), got {s['accept']}")
    if s["budget"] // s["generations"] * s["accept"] < 2:
        bad("accept", "fewer than 2 particles would be accepted per generation; raise --budget or --accept")
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

