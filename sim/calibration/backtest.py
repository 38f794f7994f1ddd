"""How good is the forecast: a rolling-origin backtest inside the history.

For each origin year (2020, 2019) the ABC-SMC search is run again on the published points up
to that year only; the held-out years (origin+1 to 2022) are then forecast by the posterior
itself: every particle of the last generation has run the whole hindcast 2017→2022, so its
later years are a draw of the posterior predictive (parameter uncertainty and chance at the
search scale). Per held-out point: the weighted median, the 50 % and 90 % bands, the absolute
percentage error of the median and whether the published value falls inside each band. The
held-out values never reach the search (they are weight-0 statistics with a placeholder value).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments.calibration_file import LAST_YEAR
from .fit import ADDED, CITY_SERIES, FIT_SERIES, TIERS, is_district, observed
from .problem import DEFAULTS
from .search import search

ORIGINS = (2020, 2019)
QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (the smallest value whose cumulative weight reaches q)."""
    order = np.argsort(values)
    cw = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][min(np.searchsorted(cw, q), len(values) - 1)])


def forecast_points(posterior: pd.DataFrame, origin: int, data_dir=None) -> pd.DataFrame:
    """Per held-out published point (year > origin): the posterior predictive bands and checks."""
    obs = observed(data_dir, LAST_YEAR)
    w = posterior["weight"].to_numpy(float)
    rows = []
    for r in obs[obs.year > origin].itertuples():
        col = f"stat:{r.series}:{r.year}"
        v = posterior[col].to_numpy(float)
        q = {k: weighted_quantile(v, w, p) for k, p in QUANTILES.items()}
        rows.append(dict(origin=origin, series=r.series, year=int(r.year), observed=float(r.value), **q,
                         ape=100.0 * abs(q["p50"] - r.value) / abs(r.value),
                         in50=bool(q["p25"] <= r.value <= q["p75"]), in90=bool(q["p05"] <= r.value <= q["p95"])))
    return pd.DataFrame(rows)


KINDS = ("city levels", "yearly additions", "regional shares", "district figures", "district tiers")


def kind(series: str) -> str:
    """Which kind of held-out point a series is (the city levels are what the targets measure)."""
    if is_district(series):
        return "district figures"
    if series == TIERS:
        return "district tiers"
    if series in CITY_SERIES:
        return "city levels"
    return "yearly additions" if series in ADDED else "regional shares"


def summary_by_kind(points: pd.DataFrame) -> pd.DataFrame:
    """Coverage and error per kind of held-out point, both origins together."""
    g = points.assign(kind=points.series.map(kind)).groupby("kind")
    out = pd.DataFrame(dict(points=g.size(), coverage50=g.in50.mean(), coverage90=g.in90.mean(),
                            median_ape=g.ape.median(), mean_ape=g.ape.mean()))
    return out.reindex([k for k in KINDS if k in out.index])


def summary(points: pd.DataFrame) -> pd.DataFrame:
    """Per origin (and all together): held-out points, share inside the 50 % and 90 % bands,
    median and mean absolute percentage error of the median forecast."""
    def one(g):
        return pd.Series(dict(points=len(g), coverage50=float(g.in50.mean()), coverage90=float(g.in90.mean()),
                              median_ape=float(g.ape.median()), mean_ape=float(g.ape.mean())))
    per = points.groupby("origin").apply(one, include_groups=False)
    per.loc["all"] = one(points)
    return per


def backtest(origins=ORIGINS, population: int = DEFAULTS["population"], budget: int = DEFAULTS["budget"],
             generations: int = DEFAULTS["generations"], accept: float = DEFAULTS["accept"],
             seed: int = DEFAULTS["seed"], scale: float = DEFAULTS["scale"], workers: int = 1,
             scheduler: str | None = None, progress: bool = True, folder=None, data_dir=None) -> pd.DataFrame:
    """Fit on the history up to each origin and forecast the held-out years; one row per held-out
    point (``forecast_points``). ``folder``: where each origin's SQLite history is kept (resumable)."""
    parts = []
    for origin in origins:
        db = None if folder is None else f"{folder}/backtest_{origin}.db"
        found = search(population=population, budget=budget, generations=generations, accept=accept, seed=seed,
                       scale=scale, last_year=origin, database=db, workers=workers, scheduler=scheduler,
                       progress=progress, data_dir=data_dir)
        pts = forecast_points(found.posterior, origin, data_dir)
        pts["generations"] = int(found.settings["generations_run"])
        pts["simulations"] = int(found.settings["simulations"])
        parts.append(pts)
    return pd.concat(parts, ignore_index=True)


AIMS = dict(coverage90=0.85, median_ape=8.0)


def series_order(points: pd.DataFrame) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(FIT_SERIES + (TIERS,))}
    order.update({s: len(order) + i for i, s in enumerate(sorted(set(points.series) - set(order)))})
    return points.sort_values(["origin", "series", "year"], key=lambda c: c.map(order) if c.name == "series" else c,
                              ascending=[False, True, True]).reset_index(drop=True)
