"""How good is the forecast, the model's side: a rolling-origin backtest's forecast of every
held-out published point, with the predictive sample it comes from.

Origins inside the fitted history (2019–2021): the ABC-SMC search is run again on the published
points up to the origin only (``search(last_year=origin)``), its runs carried on past 2022 to the
origin's last forecast year (``forecast_through``). Every particle of its posterior generation
(the last whose ESS clears ``ESS_FLOOR``, as the fit's) has run the whole hindcast from 2017, so
its later years (weight-0 statistics with a placeholder value: the held-out figures never reach
the search) are a draw of the posterior predictive at the search scale, conditioned on its own
path to the origin. Held out: the published points of 2018–2022 after the origin and the figures
published since, which these runs forecast as the update's paths do (below).

Origins after it (2022, 2023): the calibration file's own posterior, fitted on 2017–2022, forecasts
the figures published since (``sim/data/city_recent.csv``) through the update's paths
(``update.paths``: every posterior draw run ``per_draw`` times through the published years). At
2022 every path weighs the same; at a later origin each is weighted by the likelihood of the
figures published up to it, the sum ``weigh`` takes (the update's own weighing), so the forecast is the one the update
would have made had it stopped there. Each figure is compared with its model quantity
(``observations.simulated_value``: a January–October flow with the model's flow over those months).

Per held-out point (at most ``MAX_HORIZON`` years after its origin, none after
``LAST_FORECAST_YEAR``): origin, series, year, horizon, kind of statement, the published value,
the weighted 5/25/50/75/95 % quantiles of the predictive of the published figure (the model's
value times the figure's stated error: the observation model the update weighs with, the
statement's own error and the model's, ``predictive``), the absolute percentage error of the
median, whether the value lies inside the 50 % and 90 % bands, and the sample (``values``,
``weights``) that ``file.scored_backtest`` scores against the trend. The scoring is not here because ``skill``
reads this module's quantile levels. The kind of a history point is 'level': a final published
figure (a yearly addition being the difference of two final year-end stocks); after 2022 it is the
file's own kind (level, preliminary, a bound, an expectation, a flow, part of a year).
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from ..core.hindcast import latest_year
from ..data import actors, recent
from ..experiments import district_observations as district_obs
from ..experiments import observations as obs_models
from ..experiments.calibration_file import FIT_YEARS, LAST_YEAR, CalibrationError
from .fit import CITY_SERIES, FIT_SERIES, REGIONAL_SERIES, TIERS, is_district, observed
from .problem import DEFAULTS, ESS_FLOOR
from .search import later_key, later_observations, search

ORIGINS = (2023, 2022, 2021, 2020, 2019)
MAX_HORIZON = 3
# The backtest's span ends with 2024: no figure of a later year is read, as a forecast or a trend.
LAST_FORECAST_YEAR = 2024
# A plain trend as an analyst draws it: log-linear through the last three published years.
TREND_WINDOW = 3
QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
HISTORY_KIND = "level"
GROUPS = {"district figures": is_district, "district tiers": lambda s: s == TIERS,
          "regional shares": lambda s: s in REGIONAL_SERIES}


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (the smallest value whose cumulative weight reaches q)."""
    order = np.argsort(values)
    cw = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][min(np.searchsorted(cw, q), len(values) - 1)])


def ess(weights) -> float:
    """Effective sample size of weights (Kish): how many equal draws they are worth."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / (w ** 2).sum())


# Draws of the observation error per simulated value: the predictive of a published figure is the
# model's value times its stated error, sampled (seeded by the point) rather than integrated.
ERROR_DRAWS = 20


def history_sigma(series: str, status: str) -> float:
    """The log-scale error of a published history point around the model's value, as the update's
    observation models state it (``observations``, ``district_observations``): the statement's
    own error and the model's (a level's, a yearly addition's, a district's). The tier agreement
    is the model's own count: none."""
    if series == TIERS:
        return 0.0
    own = obs_models.SIGMA_BY_STATUS.get(status, obs_models.SIGMA_ESTIMATED)
    if is_district(series):
        return float(np.sqrt(own ** 2 + district_obs.SIGMA_DEFINITION ** 2 + district_obs.MODEL_ERROR_DISTRICT ** 2))
    model = obs_models.MODEL_ERROR_FLOW if series.endswith("_added") else obs_models.MODEL_ERROR_LEVEL
    return float(np.hypot(own, model))


def predictive(values: np.ndarray, weights: np.ndarray, sigma: float, key: str) -> tuple[np.ndarray, np.ndarray]:
    """The weighted sample of a published figure: each simulated value times ``ERROR_DRAWS`` draws
    of its log-normal error ``sigma`` (the same draws for the same ``key`` on every machine)."""
    if not sigma:
        return values, weights
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    noise = np.exp(sigma * rng.standard_normal((len(values), ERROR_DRAWS)))
    return (values[:, None] * noise).ravel(), np.repeat(weights, ERROR_DRAWS)


def _point(origin: int, series: str, year: int, kind: str, value: float, values: np.ndarray, weights: np.ndarray,
           trend_comparable: bool, sigma: float = 0.0) -> dict:
    values, weights = predictive(np.asarray(values, float), np.asarray(weights, float), sigma,
                                 f"{origin}:{series}:{year}:{kind}")
    q = {k: weighted_quantile(values, weights, p) for k, p in QUANTILES.items()}
    return dict(origin=int(origin), series=series, year=int(year), horizon=int(year - origin), kind=kind,
                observed=float(value), **q, ape=100.0 * abs(q["p50"] - value) / abs(value),
                in50=bool(q["p25"] <= value <= q["p75"]), in90=bool(q["p05"] <= value <= q["p95"]),
                values=values, weights=weights, trend_comparable=trend_comparable)


def forecast_through(origin: int, data_dir=None) -> int:
    """The last year an origin forecasts: ``MAX_HORIZON`` years on, within the published years."""
    return min(origin + MAX_HORIZON, LAST_FORECAST_YEAR, latest_year(data_dir))


def forecast_points(posterior: pd.DataFrame, origin: int, data_dir=None) -> pd.DataFrame:
    """Per published point held out at ``origin``: the forecast of the search's weighted
    particles (columns ``weight`` and ``stat:<series>:<year>``), and of the figures published
    after 2022 (``stat:later:…``: the same runs carried on through those years), as the update's
    paths forecast them (``path_points``)."""
    obs = observed(data_dir, LAST_YEAR)
    held = obs[(obs.year > origin) & (obs.year <= origin + MAX_HORIZON)]
    w = posterior["weight"].to_numpy(float)
    rows = [_point(origin, r.series, r.year, HISTORY_KIND, r.value,
                   posterior[f"stat:{r.series}:{r.year}"].to_numpy(float), w, True, history_sigma(r.series, r.status))
            for r in held.itertuples()]
    later_obs, later_dobs = later_observations(forecast_through(origin, data_dir), data_dir)
    missing = [later_key(o) for o in (*later_obs, *later_dobs) if f"stat:{later_key(o)}" not in posterior]
    if missing:
        raise CalibrationError(f"backtest origin {origin}: its search did not run on past 2022 ({missing[0]} is not "
                               "recorded); pass --fresh to search again")
    particles = lambda o: posterior[f"stat:{later_key(o)}"].to_numpy(float)  # noqa: E731
    return pd.DataFrame(rows + published_points(origin, later_obs, later_dobs, particles, particles, w))


def frames_of(paths: list[dict]) -> list[pd.DataFrame]:
    """The update's paths' quarterly city frames (each built once: weights and bands read the same)."""
    return [pd.DataFrame(p["frame"]) for p in paths]


def district_values_of(paths: list[dict], dobs: list) -> list[dict[str, float]]:
    """Each path's model value of every district figure (``district_obs.district_values``)."""
    if not dobs:
        return [{} for _ in paths]
    if any("districts" not in p for p in paths):
        raise CalibrationError("the update's paths carry no district stocks; run `python run.py calibrate --update` again")
    return [district_obs.district_values(pd.DataFrame(p["districts"]), dobs) for p in paths]


def weigh(frames: list[pd.DataFrame], obs: list, district_values: list[dict] | None = None, dobs=()) -> np.ndarray:
    """Log-likelihood of each path: the sum over the published city figures ``obs`` and the
    districts' own figures ``dobs`` (with each path's values of them), as the update weighs it."""
    city = np.array([obs_models.total_log_likelihood(f, obs) for f in frames])
    if not dobs:
        return city
    return city + np.array([district_obs.total_log_likelihood(v, dobs) for v in district_values])


def path_weights(frames: list[pd.DataFrame], known: list, district_values=(), district_known=()) -> np.ndarray:
    """Each path's weight given the figures ``known`` at the origin (and the districts' own
    figures ``district_known``, with each path's values of them): the likelihood the update gives
    it (``weigh``), normalised; equal weights when nothing is known yet."""
    if not known and not district_known:
        return np.full(len(frames), 1.0 / len(frames))
    ll = weigh(frames, known, district_values, district_known)
    if not np.isfinite(ll.max()):
        raise CalibrationError(f"no path of the update is compatible with the figures published to {known[-1].year}")
    w = np.exp(ll - ll.max())
    return w / w.sum()


def path_points(frames: list[pd.DataFrame], origin: int, obs: list, weights=None, district_values=(),
                district_known=()) -> pd.DataFrame:
    """Per published figure after ``origin`` (within the horizon): the forecast of the paths'
    quarterly city frames, weighted by ``weights`` (equal when None); then per district figure
    (``district_known``, with each path's values of them), the district's band."""
    w = np.full(len(frames), 1.0) if weights is None else np.asarray(weights, float)
    last = min(origin + MAX_HORIZON, LAST_FORECAST_YEAR)
    return pd.DataFrame(published_points(
        origin, [o for o in obs if origin < o.year <= last], [o for o in district_known if origin < o.year <= last],
        lambda o: np.array([obs_models.simulated_value(o, f) for f in frames]),
        lambda o: np.array([v[o.key] for v in district_values]), w))


def published_points(origin: int, obs: list, dobs: list, city_values, district_values, weights) -> list[dict]:
    """The points of the city figures ``obs`` and district figures ``dobs`` published since 2022,
    each of its own kind and stated error, from the model's values of it (``city_values(o)``,
    ``district_values(o)``: one per path or particle, weighted by ``weights``)."""
    # the figures published since 2022 count gross flows (firms entering a register, every
    # certificate granted) while the history's yearly additions are net changes of the stock, so
    # no trend of the history forecasts them
    rows = [_point(origin, o.indicator, o.year, o.kind, o.value, city_values(o), weights, not o.is_flow, o.sigma)
            for o in obs]
    # a district figure has no published history to draw a trend through: scored for coverage only
    # its error without the branch in which it measures something else: a band that covers a
    # figure only by calling it an outlier would say nothing
    return rows + [_point(origin, o.series, o.year, HISTORY_KIND, o.value, district_values(o), weights, False, o.sigma)
                   for o in dobs]


def check_origins(origins) -> list[int]:
    """The origins, latest first; each one of ``ORIGINS``."""
    out = sorted({int(o) for o in origins}, reverse=True)
    bad = [o for o in out if o not in ORIGINS]
    if not out or bad:
        raise CalibrationError(f"backtest origin {bad[0] if bad else 'none'}: allowed "
                               f"{', '.join(map(str, sorted(ORIGINS)))}")
    return out


def backtest(origins=ORIGINS, population: int = DEFAULTS["population"], budget: int = DEFAULTS["budget"],
             generations: int = DEFAULTS["generations"], accept: float = DEFAULTS["accept"],
             seed: int = DEFAULTS["seed"], scale: float = DEFAULTS["scale"], workers: int = 1,
             scheduler: str | None = None, progress: bool = True, folder=None, fresh: bool = False,
             paths: list[dict] | None = None, data_dir=None) -> pd.DataFrame:
    """One row per held-out published point of each origin (module docstring). The origins up to
    2021 search again (``folder``: where each keeps its resumable SQLite history, which ``fresh``
    discards); the later ones need ``paths``, the update's paths of the calibration file
    (``update.paths``). Besides the point's columns: source (how the origin forecast), ess
    (effective sample size of its weights), generations_run and simulations (of a search; NaN
    otherwise)."""
    parts, frames, obs, dobs, dvalues = [], [], [], [], []
    origins = check_origins(origins)
    late = [o for o in origins if o >= LAST_YEAR]
    if late:
        if not paths:
            raise CalibrationError(f"backtest origin {late[0]}: forecasts with the update's paths, and none were given")
        frames = frames_of(paths)
        through = min(int(min(f["year"].max() for f in frames)), LAST_FORECAST_YEAR)
        if late[0] >= through:
            raise CalibrationError(f"backtest origin {late[0]}: the update's paths end in {through}, "
                                   "so nothing after it can be forecast")
        obs = [o for o in obs_models.observations(data_dir) if o.year <= through]
        dobs = [o for o in district_obs.district_observations(data_dir) if o.year <= through]
        dvalues = district_values_of(paths, dobs)
    for origin in origins:
        if origin >= LAST_YEAR:
            known = [o for o in obs if o.year <= origin]
            dknown = [o for o in dobs if o.year <= origin]
            w = path_weights(frames, known, dvalues, dknown)
            pts = path_points(frames, origin, obs, w, dvalues, dobs)
            how = (f"{len(frames)} paths of the update, weighted by the {len(known)} city and {len(dknown)} district "
                   f"figures published to {origin}" if known or dknown else f"{len(frames)} paths of the update, equally weighted")
            pts = pts.assign(source=how, ess=ess(w), generations_run=np.nan, simulations=np.nan)
        else:
            db = None if folder is None else f"{folder}/backtest_{origin}.db"
            found = search(population=population, budget=budget, generations=generations, accept=accept, seed=seed,
                           scale=scale, last_year=origin, database=db, workers=workers, scheduler=scheduler,
                           progress=progress, fresh=fresh, data_dir=data_dir,
                           forecast_through=forecast_through(origin, data_dir))
            pts = forecast_points(found.posterior, origin, data_dir)
            t, n = found.settings["posterior_generation"], found.settings["generations_run"]
            pts = pts.assign(source=f"ABC-SMC on the published points to {origin} (generation {t + 1} of {n}: the last "
                                    f"whose ESS is at least {100 * ESS_FLOOR:g} % of its particles)",
                             ess=ess(found.posterior["weight"]), generations_run=int(found.settings["generations_run"]),
                             simulations=int(found.settings["simulations"]))
        parts.append(pts)
    return series_order(pd.concat(parts, ignore_index=True))


def trend_history(data_dir=None) -> tuple[pd.DataFrame, list[str]]:
    """What the trend extrapolates (only each origin's years up to it are read): the points the
    calibration fits (``observed()``, 2018–2022), the city levels' earlier published years, and
    after 2022 the city levels published as final or preliminary figures (most of 2023's are
    bounds or expectations, which no trend can start from). Returns the table (series, year,
    value) and, in words, what it took from after 2022."""
    hist = actors.load_city_history(data_dir)
    early = hist[hist.indicator.isin(list(CITY_SERIES)) & (hist.year < FIT_YEARS[0])]
    rec = recent.load_recent(data_dir)
    later = rec[rec.indicator.isin(list(CITY_SERIES)) & rec.kind.isin(["level", "preliminary"])
                & (rec.year < LAST_FORECAST_YEAR)]
    later = later.sort_values("kind").drop_duplicates(["indicator", "year"])    # 'level' before 'preliminary'
    used = [f"{r.indicator} {r.year} = {r.value:g} ({r.kind})" for r in later.itertuples()]
    table = pd.concat([observed(data_dir)[["series", "year", "value"]],
                       *(t.rename(columns={"indicator": "series"})[["series", "year", "value"]] for t in (early, later))],
                      ignore_index=True)
    return table.astype({"year": int, "value": float}), used


def group_of(series: str) -> str:
    """The label a point is scored under: a city series by its name, the many district figures,
    regional shares and the tiers each as one group."""
    return next((g for g, member in GROUPS.items() if member(series)), series)


def series_order(points: pd.DataFrame) -> pd.DataFrame:
    """Latest origin first, then the fitted series in their order, then any other, by year."""
    order = {s: i for i, s in enumerate(FIT_SERIES + (TIERS,))}
    order.update({s: len(order) + i for i, s in enumerate(sorted(set(points.series) - set(order)))})
    return points.sort_values(["origin", "series", "year", "kind"],
                              key=lambda c: c.map(order) if c.name == "series" else c,
                              ascending=[False, True, True, True]).reset_index(drop=True)
