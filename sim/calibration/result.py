"""What a calibration returns: the ABC-SMC search alone (``SearchResult``), the fitted point
with its posterior (``CalibrationResult``), and the clipping of the derived end-2022 state into
its parameters' ranges (applied both to the fitted point and to every posterior draw)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .fit import distance
from .problem import FREE


@dataclass
class SearchResult:
    posterior: pd.DataFrame     # the posterior generation (search.posterior_generation): one column per free
                                # key, weight, distance, derived stats, sum stats
    history: pd.DataFrame       # every accepted particle of every generation: generation, distance, weight, parameters
    generations: pd.DataFrame   # per generation: epsilon, simulations, accepted, ESS
    settings: dict
    database: str


@dataclass
class CalibrationResult:
    parameters: dict            # dotted key -> fitted value (free and derived)
    errors: pd.DataFrame        # fit of the fitted point (ensemble mean at eval_scale)
    start_errors: pd.DataFrame  # fit of the starting (default) parameters, same ensemble
    posterior: pd.DataFrame     # the posterior generation's particles: one column per free key + weight, distance, derived
    history: pd.DataFrame       # every accepted particle of every generation
    settings: dict
    runtime_seconds: float
    band: pd.DataFrame          # the fitted point's hindcast band
    generations: pd.DataFrame | None = None   # per generation: epsilon, simulations, accepted, ESS
    database: str | None = None

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

    @property
    def ess(self) -> float:
        w = self.posterior["weight"].to_numpy()
        return float(1.0 / (w ** 2).sum())


def clip_ratio(v: float) -> float:
    return float(round(min(max(v, 0.05), 20.0), 4))


def clip_rd(v: float) -> float:
    return float(round(min(max(v if np.isfinite(v) and v > 0 else 0.035, 0.002), 0.4), 5))
