"""Is the model worth its trouble: its held-out forecasts scored against a plain trend.

The rolling-origin backtest (``backtest``) gives, per origin and held-out published point, the
posterior predictive quantiles of the model. A forecast is only useful if it beats what any
analyst could draw with a ruler on log paper, so each point is also forecast by ``trend_forecast``
and both are scored with the continuous ranked probability score (CRPS), which rewards a sharp
distribution only where it is also right and is in the units of the series.

The trend. Centre: the log-linear least-squares line through the last ``window`` published years
up to and including the origin (what a spreadsheet's LOGEST/GROWTH gives), extrapolated. Spread:
the level ``d`` years after the last published year is lognormal, log X ~ N(mu, sigma_d²) with

    sigma_d = s · sqrt(d + d² / span),

the predictive sd of a random walk with drift on the log scale (Hyndman & Athanasopoulos, FPP3
§5.5, drift method): ``d`` years of yearly shocks plus the error of a slope estimated over
``span`` years (exact for three consecutive years, whose least-squares slope is the end-to-end
one). ``s`` is the sd of the year-on-year log growth over all the published history up to the
origin (irregular gaps weighted as Brownian increments: a two-year gap counts as two years).

Why not the residuals of the three-point line with a Student-t, the textbook interval: three
points leave one residual degree of freedom, so the residual sd is a one-draw guess (a nearly
straight run gives a near-zero band) and a t with one degree of freedom is a Cauchy, whose mean
and CRPS are infinite — it cannot be scored at all. The growth spread uses every published year
before the origin. A t on the growth spread would still have only 1–3 degrees of freedom (the
city series start in 2017), so the benchmark uses the plug-in normal on the log scale, as the
drift method conventionally does; if that makes it overconfident, CRPS charges it for that.

Scoring (``score``). Only points whose kind is exact enough (``EXACT_KINDS``: published levels
and preliminary figures) get an error score: coverage of the 50 % and 90 % bands, the absolute
percentage error of the median and CRPS divided by the observed value (so series of different
size average), each for the model and the trend on the same points, and the skill score
1 − mean CRPS(model) / mean CRPS(trend). Lower or upper bounds (kinds containing ``lower_bound``
or ``upper_bound``: "expected to pass 55,000") are only checked: does the median satisfy them.
Other kinds (an "expected" figure) are counted and not scored.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .backtest import QUANTILES

EXACT_KINDS = ("level", "preliminary")
ALL = "all"
# The backtest's aims: bands honest at 90 % and neither too wide nor too narrow at 50 %, and a
# forecast better than the trend where the trend is weakest, two and three years out.
AIMS = dict(cover90=0.80, cover50=(0.35, 0.65), skill_horizons=(2, 3))
MODEL_Q = tuple(QUANTILES)
TREND_Q = tuple(f"trend_{k}" for k in QUANTILES)
REQUIRED = ("origin", "series", "year", "horizon", "kind", "observed", *MODEL_Q, "crps", *TREND_Q, "trend_crps")
_Z = {k: float(stats.norm.ppf(q)) for k, q in QUANTILES.items()}
_SQRT_PI = math.sqrt(math.pi)


def _published(history: pd.Series, origin: int) -> pd.Series:
    h = pd.Series(history, dtype=float).dropna()
    h.index = h.index.astype(int)
    h = h[h.index <= origin].sort_index()
    if not h.index.is_unique:
        raise ValueError("the history has a year twice")
    if (h <= 0).any():
        raise ValueError("a log-linear trend needs positive values")
    return h


def growth_spread(history: pd.Series) -> float:
    """The sd of the yearly log growth of ``history`` (years in the index): each gap of ``d`` years
    is a Brownian increment, variance d·s², around the average growth over the whole span."""
    years = history.index.to_numpy(float)
    dl, d = np.diff(np.log(history.to_numpy(float))), np.diff(years)
    if len(d) < 2:
        raise ValueError("the growth spread needs at least three published years")
    g = dl.sum() / d.sum()
    return float(math.sqrt(np.sum((dl - g * d) ** 2 / d) / (len(d) - 1)))


def trend_forecast(history: pd.Series, origin: int, horizons=(1, 2, 3), window: int = 3) -> pd.DataFrame:
    """The log-linear trend of the last ``window`` published years up to ``origin``, forecast
    ``origin + h`` for each horizon, lognormal around it (module docstring). Columns: origin,
    year, horizon, mu, sigma (of the log level), p05, p25, p50, p75, p95 (levels)."""
    if window < 2:
        raise ValueError("a trend needs a window of at least two years")
    h = _published(history, origin)
    fit = h.iloc[-window:]
    if len(fit) < 2:
        raise ValueError(f"fewer than two published years up to {origin}")
    x = fit.index.to_numpy(float) - origin
    slope, at_origin = np.polyfit(x, np.log(fit.to_numpy(float)), 1)
    span, s, last = x[-1] - x[0], growth_spread(h), int(h.index[-1])
    rows = []
    for hz in horizons:
        year = origin + int(hz)
        d = year - last
        mu, sigma = at_origin + slope * hz, s * math.sqrt(d + d * d / span)
        rows.append(dict(origin=origin, year=year, horizon=int(hz), mu=float(mu), sigma=float(sigma),
                         **{k: float(math.exp(mu + z * sigma)) for k, z in _Z.items()}))
    return pd.DataFrame(rows)


def crps_sample(samples, y: float, weights=None) -> float:
    """CRPS of the (weighted) empirical distribution of ``samples`` at ``y``: E|X−y| − ½E|X−X'|,
    the pairwise term from the sorted sample in O(n log n)."""
    x = np.asarray(samples, float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, float).ravel()
    if x.size == 0 or w.shape != x.shape or not (np.isfinite(x).all() and np.isfinite(w).all()):
        raise ValueError("samples must be a non-empty finite array, weights (if any) of the same length")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be non-negative and not all zero")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order] / w.sum()
    # centring does not change the pairwise sum (its coefficients add to zero) but keeps the
    # cancellation small for large levels with a narrow spread
    c = x[len(x) // 2]
    x, y = x - c, float(y) - c
    F = np.cumsum(w)
    return float(np.sum(w * np.abs(x - y)) - np.sum(w * x * (2.0 * F - w - 1.0)))


def _out(v):
    return float(v) if np.ndim(v) == 0 else v


def crps_normal(mu, sigma, y):
    """Closed-form CRPS of N(mu, sigma²) at y (Gneiting & Raftery 2007); sigma 0 is a point mass."""
    mu, sigma, y = np.broadcast_arrays(*(np.asarray(a, float) for a in (mu, sigma, y)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (y - mu) / sigma
        v = sigma * (z * (2.0 * stats.norm.cdf(z) - 1.0) + 2.0 * stats.norm.pdf(z) - 1.0 / _SQRT_PI)
    return _out(np.where(sigma > 0, v, np.abs(y - mu)))


def crps_lognormal(mu, sigma, y):
    """Closed-form CRPS at y of the lognormal with log-scale mean mu and sd sigma (Baran & Lerch
    2015); sigma 0 is a point mass at exp(mu), and y ≤ 0 lies below the whole distribution."""
    mu, sigma, y = np.broadcast_arrays(*(np.asarray(a, float) for a in (mu, sigma, y)))
    mean = np.exp(mu + sigma ** 2 / 2.0)
    half_pairs = mean * (2.0 * stats.norm.cdf(sigma / math.sqrt(2.0)) - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = (np.log(np.where(y > 0, y, 1.0)) - mu) / sigma
        above = (y * (2.0 * stats.norm.cdf(w) - 1.0)
                 - 2.0 * mean * (stats.norm.cdf(w - sigma) + stats.norm.cdf(sigma / math.sqrt(2.0)) - 1.0))
    v = np.where(y > 0, above, mean - y - half_pairs)
    return _out(np.where(sigma > 0, v, np.abs(y - np.exp(mu))))


def add_trend(points: pd.DataFrame, history: pd.DataFrame, window: int = 3) -> pd.DataFrame:
    """``points`` (origin, series, year, observed, ...) with the trend's forecast of each beside it:
    trend_mu, trend_sigma, trend_p05 … trend_p95 and trend_crps (at the observed value), and
    horizon = year − origin where it is missing. ``history``: long (series, year, value), e.g.
    ``observed()``; only years up to each origin are read. Where a series has too short a history
    for the trend, its columns are NaN (``score`` then leaves the point unscored)."""
    out = points.copy()
    if "horizon" not in out:
        out["horizon"] = out["year"] - out["origin"]
    cols = ["trend_mu", "trend_sigma", *TREND_Q]
    for c in (*cols, "trend_crps"):
        out[c] = np.nan
    for (origin, series), g in out.groupby(["origin", "series"]):
        past = history[history["series"] == series].set_index("year")["value"]
        try:
            tf = trend_forecast(past, int(origin), horizons=sorted(set(g["year"] - origin)), window=window)
        except ValueError:
            continue
        tf = tf.set_index("year").rename(columns=lambda c: f"trend_{c}")
        out.loc[g.index, cols] = tf.loc[g["year"], cols].to_numpy()
    out["trend_crps"] = crps_lognormal(out["trend_mu"], out["trend_sigma"], out["observed"])
    return out


def point_class(kind: str) -> str:
    """'exact' (scored), 'lower' or 'upper' (a bound, only checked) or 'other' (counted only)."""
    if kind in EXACT_KINDS:
        return "exact"
    if "lower_bound" in kind:
        return "lower"
    return "upper" if "upper_bound" in kind else "other"


def _checks(points: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in points]
    if missing:
        raise ValueError(f"score needs the columns {missing}")
    p = points.copy()
    cls = p["kind"].map(point_class)
    y = p["observed"].astype(float)
    nums = p[["observed", *MODEL_Q, "crps", *TREND_Q, "trend_crps"]].astype(float)
    # model and trend are compared on the same points, so a point either lacks is scored for neither
    p["scored"] = cls.eq("exact") & np.isfinite(nums).all(axis=1) & y.ne(0)
    p["bound"] = cls.isin(["lower", "upper"]) & np.isfinite(y)
    for who, pre in (("model", ""), ("trend", "trend_")):
        lo50, hi50, lo90, hi90, med = (p[pre + k].astype(float) for k in ("p25", "p75", "p05", "p95", "p50"))
        on = p["scored"]
        p[f"{who}_in50"] = ((lo50 <= y) & (y <= hi50)).astype(float).where(on)
        p[f"{who}_in90"] = ((lo90 <= y) & (y <= hi90)).astype(float).where(on)
        p[f"{who}_ape"] = (100.0 * (med - y).abs() / y.abs()).where(on)
        p[f"{who}_rcrps"] = (p[pre + "crps"].astype(float) / y.abs()).where(on)
        met = np.where(cls.eq("lower"), med >= y, med <= y)
        p[f"{who}_bound_met"] = pd.Series(met, index=p.index, dtype=float).where(p["bound"] & med.notna())
    return p


def _summary(g: pd.DataFrame) -> dict:
    row = dict(n=len(g), n_scored=int(g["scored"].sum()), n_bounds=int(g["bound"].sum()))
    for what, col in (("cover50", "in50"), ("cover90", "in90")):
        for who in ("model", "trend"):
            row[f"{who}_{what}"] = g[f"{who}_{col}"].mean()
    for who in ("model", "trend"):
        row[f"{who}_mdape"] = g[f"{who}_ape"].median()
    for who in ("model", "trend"):
        row[f"{who}_crps"] = g[f"{who}_rcrps"].mean()
    m, t = row["model_crps"], row["trend_crps"]
    row["skill"] = 1.0 - m / t if t > 0 else (0.0 if m == 0 else np.nan)
    for who in ("model", "trend"):
        row[f"{who}_bound_met"] = g[f"{who}_bound_met"].mean()
    return row


def score(points: pd.DataFrame) -> pd.DataFrame:
    """Per series, horizon and kind of held-out point, each also pooled as 'all' (origins are always
    pooled). ``points``: one row per (origin, series, year, kind) with the columns ``REQUIRED``
    (model quantiles p05…p95 and crps, trend_p05…trend_p95 and trend_crps, in the series' units).

    Columns: series, horizon, kind, n (points), n_scored (exact kinds with every number present),
    n_bounds, model_cover50, trend_cover50, model_cover90, trend_cover90 (share of scored points
    inside the band), model_mdape, trend_mdape (median absolute % error of the median),
    model_crps, trend_crps (mean CRPS / observed value), skill (1 − model_crps / trend_crps),
    model_bound_met, trend_bound_met (share of bounds the median satisfies). NaN where a group
    has nothing to measure."""
    p = _checks(points)
    series = [*sorted(p["series"].unique()), ALL]
    horizons = [*sorted(int(h) for h in p["horizon"].unique()), ALL]
    found = set(p["kind"])
    kinds = [*(k for k in EXACT_KINDS if k in found), *sorted(found - set(EXACT_KINDS)), ALL]
    rows = []
    for s in series:
        by_s = p if s == ALL else p[p["series"] == s]
        for h in horizons:
            by_h = by_s if h == ALL else by_s[by_s["horizon"] == h]
            for k in kinds:
                g = by_h if k == ALL else by_h[by_h["kind"] == k]
                if len(g):
                    rows.append(dict(series=s, horizon=h, kind=k, **_summary(g)))
    return pd.DataFrame(rows)


def _pick(table: pd.DataFrame, series=ALL, horizon=ALL, kind=ALL):
    hit = table[(table["series"] == series) & (table["horizon"] == horizon) & (table["kind"] == kind)]
    return None if hit.empty else hit.iloc[0]


def _pct(v: float) -> str:
    return f"{100.0 * v:.0f} %"


def verdict(table: pd.DataFrame, aims: dict = AIMS) -> list[str]:
    """Plain sentences on a ``score`` table: the overall coverage and error, the skill at each
    horizon, each series and horizon where the model loses to the trend, the bounds, and whether
    each aim (``AIMS``) is met."""
    top = _pick(table)
    if top is None or top["n_scored"] == 0:
        return ["No held-out point is exact enough to score (kinds " + ", ".join(EXACT_KINDS) + ")."]
    out = [f"Over {top['n_scored']} scored held-out points the model's 90 % bands cover {_pct(top['model_cover90'])} "
           f"(the trend's {_pct(top['trend_cover90'])}) and its 50 % bands {_pct(top['model_cover50'])} "
           f"(the trend's {_pct(top['trend_cover50'])}); the median is off by {top['model_mdape']:.1f} % "
           f"(median absolute percentage error; the trend's {top['trend_mdape']:.1f} %)."]
    c90, (lo, hi) = top["model_cover90"], aims["cover50"]
    if c90 >= aims["cover90"]:
        out.append(f"Aim met: the 90 % bands cover at least {_pct(aims['cover90'])} of the held-out points.")
    else:
        out.append(f"Aim not met: the 90 % bands cover {_pct(c90)} of the held-out points, "
                   f"short of {_pct(aims['cover90'])}: they are too narrow.")
    c50 = top["model_cover50"]
    if lo <= c50 <= hi:
        out.append(f"Aim met: the 50 % bands cover {_pct(c50)}, within {_pct(lo)}–{_pct(hi)}.")
    else:
        out.append(f"Aim not met: the 50 % bands cover {_pct(c50)}, outside {_pct(lo)}–{_pct(hi)}: "
                   f"they are too {'narrow' if c50 < lo else 'wide'}.")
    horizons = [h for h in table["horizon"].unique() if h != ALL]
    for h in sorted(horizons):
        r = _pick(table, horizon=h)
        if r is None or r["n_scored"] == 0:
            continue
        how = ("cannot be compared" if pd.isna(r["skill"]) else "beats the trend" if r["skill"] > 0
               else "loses to the trend" if r["skill"] < 0 else "ties with the trend")
        out.append(f"At horizon {h} ({r['n_scored']} points) the model's mean CRPS is {100 * r['model_crps']:.1f} % of "
                   f"the observed value against the trend's {100 * r['trend_crps']:.1f} %: skill {r['skill']:+.2f}, "
                   f"the model {how}.")
    wanted = aims["skill_horizons"]
    lacking = [h for h in wanted if (r := _pick(table, horizon=h)) is None or r["n_scored"] == 0]
    failing = [h for h in wanted if h not in lacking and not _pick(table, horizon=h)["skill"] > 0]
    years = " and ".join(str(h) for h in wanted)
    if lacking:
        out.append(f"Aim not judged: no scored held-out point at horizon {', '.join(map(str, lacking))}.")
    if failing:
        out.append(f"Aim not met: skill is not above 0 at horizon {', '.join(map(str, failing))} "
                   f"(the aim is skill > 0 at {years} years).")
    elif not lacking:
        out.append(f"Aim met: the model beats the trend (skill > 0) at {years} years.")
    per = table[(table["series"] != ALL) & (table["horizon"] != ALL) & (table["kind"] == ALL)]
    for r in per.itertuples():
        if r.n_scored and r.skill < 0:
            out.append(f"The model loses to the trend at horizon {r.horizon} for {r.series} (mean CRPS "
                       f"{100 * r.model_crps:.1f} % against {100 * r.trend_crps:.1f} % of the observed value, "
                       f"{r.n_scored} point{'s' if r.n_scored != 1 else ''}).")
    if top["n_bounds"]:
        n = int(top["n_bounds"])
        m, t = (int(round(top[f"{w}_bound_met"] * n)) for w in ("model", "trend"))
        out.append(f"Of {n} published bound{'s' if n != 1 else ''} the model's median satisfies {m} "
                   f"and the trend's {t}.")
    return out
