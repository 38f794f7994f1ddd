"""The published points a hindcast is compared with, and how far the model is from them: the
series and their weights, the ensemble band, the per-series errors and the distance.

Besides the city series, two district terms: the districts' own published figures
(``sim/data/district_history.csv``, one series ``<indicator>@<adcode>`` per district and
indicator, together one term), and the share of districts whose end-2022 evaluation tier is the
published one (重庆科技创新指数报告2023; the evaluation's benchmark is the city's value then, as in
the report). The districts start in 2017 with the 2022 split, so these terms check that the
dynamics keep each district where its own figures and the published ranking put it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import actors
from ..experiments.calibration_file import FIT_YEARS, LAST_YEAR, CalibrationError

# Series compared and their weight in the distance. The three headline series weigh most; R&D
# intensity shares its numerator with R&D (GDP follows the published path), and the regional
# points are single years.
CITY_SERIES = {"tech_enterprises": 1.0, "high_tech_enterprises": 1.0, "rd_expenditure": 1.0, "rd_intensity": 0.5}
REGIONAL_SERIES = {  # model series -> (city_history indicator, year, weight)
    "rd_metropolitan": ("rd_expenditure_metropolitan_area", 2020, 0.25),
    "rd_northeast": ("rd_expenditure_northeast_cluster", 2020, 0.25),
    "rd_southeast": ("rd_expenditure_southeast_cluster", 2020, 0.25),
    "rd_share_central_urban": ("rd_share_central_urban", 2022, 0.25),
}
# Yearly additions (stock of year y minus stock of year y-1, 2017 included as the base): the
# levels alone let a path that is too slow early and too fast late fit, and hide the 2022
# slowdown (tech-based SMEs +6,050 after +10,564). R&D intensity has no additions series: its
# yearly change is a few hundredths of a point, so a percentage error of it is noise.
ADDED_SERIES = {"tech_enterprises": 1.0, "high_tech_enterprises": 1.0, "rd_expenditure": 0.5}
SERIES = tuple(CITY_SERIES) + tuple(REGIONAL_SERIES)          # what a hindcast records
ADDED = tuple(f"{s}_added" for s in ADDED_SERIES)
FIT_SERIES = SERIES + ADDED                                    # what the distance compares
WEIGHTS = {**CITY_SERIES, **{k: v[2] for k, v in REGIONAL_SERIES.items()},
           **{f"{s}_added": w for s, w in ADDED_SERIES.items()}}
# The district terms weigh like one regional point each: a few districts' figures, some of whose
# years are inferred (see the data file), should inform the fit but not steer the city path.
DISTRICT_FIGURES, DISTRICT_WEIGHT = "district_figures", 0.5
TIERS, TIER_WEIGHT, TIER_YEAR = "tier_agreement", 0.5, 2022
WEIGHTS.update({DISTRICT_FIGURES: DISTRICT_WEIGHT, TIERS: TIER_WEIGHT})
HEADLINE = ("tech_enterprises", "high_tech_enterprises", "rd_expenditure")
AIM_MAPE = 10.0


def observed(data_dir=None, last_year: int = LAST_YEAR) -> pd.DataFrame:
    """The published points the calibration fits (years 2018 to ``last_year`` ≤ 2022), with
    status and source; additions are the differences of consecutive published stocks."""
    if not FIT_YEARS[0] <= last_year <= LAST_YEAR:
        raise CalibrationError(f"last fitted year: allowed {FIT_YEARS[0]} to {LAST_YEAR}, got {last_year}")
    hist = actors.load_city_history(data_dir)
    years = [y for y in FIT_YEARS if y <= last_year]
    rows = []

    def point(s, y):
        r = hist[(hist.indicator == s) & (hist.year == y)]
        if r.empty:
            raise CalibrationError(f"city_history.csv has no {s} for {y}")
        return r.iloc[0]

    for s in CITY_SERIES:
        for y in years:
            r = point(s, y)
            rows.append(dict(series=s, year=y, value=float(r.value), status=r.status, note=r.note, source=r.source))
    for s in ADDED_SERIES:
        for y in years:
            r, before = point(s, y), point(s, y - 1)
            status = "verified" if r.status == before.status == "verified" else "derived"
            rows.append(dict(series=f"{s}_added", year=y, value=float(r.value) - float(before.value), status=status,
                             note=f"{s} {y} minus {y - 1}", source=f"{r.source}; {before.source}"))
    for s, (ind, y, _) in REGIONAL_SERIES.items():
        if y > last_year:
            continue
        r = point(ind, y)
        rows.append(dict(series=s, year=y, value=float(r.value), status=r.status, note=r.note, source=r.source))
    for r in actors.load_district_history(data_dir).itertuples():
        if r.year in years:
            rows.append(dict(series=district_series(r.indicator, r.adcode), year=int(r.year), value=float(r.value),
                             status=r.status, note=f"{r.name_zh}: {r.method}", source=r.source))
    if TIER_YEAR <= last_year:
        rows.append(dict(series=TIERS, year=TIER_YEAR, value=100.0, status="verified",
                         note="% of the 38 districts in their published 2022 tier (all of them)",
                         source="重庆科技创新指数报告2023 (districts.csv innovation_tier)"))
    out = pd.DataFrame(rows)
    assert out["year"].max() <= LAST_YEAR  # the model's job is to forecast 2023 on
    return out


def district_series(indicator: str, adcode) -> str:
    return f"{indicator}@{adcode}"


def is_district(series: str) -> bool:
    return "@" in series


def district_points(data_dir=None) -> list[tuple[str, str, str]]:
    """(series, indicator, adcode) of every district and indicator with a published figure."""
    h = actors.load_district_history(data_dir)
    pairs = h[["indicator", "adcode"]].drop_duplicates().itertuples(index=False)
    return [(district_series(i, a), i, str(a)) for i, a in pairs]


def point_weights(obs: pd.DataFrame) -> dict:
    """Each published point's weight (``series:year``): its series' weight over the series'
    number of points (a series weighs the same whatever its number of years, as in the MAPE
    distance); the district figures share one weight over all their points."""
    district = obs.series.map(is_district)
    counts = obs[~district].groupby("series").size()
    n_district = int(district.sum())
    return {f"{r.series}:{r.year}": (DISTRICT_WEIGHT / n_district if is_district(r.series)
                                     else WEIGHTS[r.series] / counts[r.series]) for r in obs.itertuples()}


def with_additions(runs: pd.DataFrame) -> pd.DataFrame:
    """A hindcast's long frame with the yearly additions of ADDED_SERIES appended."""
    if runs.empty or "tech_enterprises_added" in set(runs["series"]):
        return runs
    lev = runs[runs.series.isin(list(ADDED_SERIES))].sort_values(["replicate", "series", "year"])
    add = lev.assign(value=lev.groupby(["replicate", "series"])["value"].diff(),
                     series=lev["series"] + "_added").dropna(subset=["value"])
    return pd.concat([runs, add], ignore_index=True)



def hindcast_band(runs: pd.DataFrame, data_dir=None) -> pd.DataFrame:
    """Per series and year (additions included): ensemble mean, 5/25/50/75/95 % quantiles, and the
    published value (NaN if none)."""
    g = with_additions(runs).groupby(["series", "year"])["value"]
    band = pd.DataFrame({"mean": g.mean(), "p05": g.quantile(0.05), "p25": g.quantile(0.25), "p50": g.quantile(0.5),
                         "p75": g.quantile(0.75), "p95": g.quantile(0.95), "replicates": g.size()}).reset_index()
    obs = observed(data_dir)[["series", "year", "value", "status"]].rename(columns={"value": "observed"})
    return band.merge(obs, on=["series", "year"], how="left")


def fit_errors(runs_or_band: pd.DataFrame, data_dir=None) -> pd.DataFrame:
    """Per series: MAPE (%) of the ensemble mean against the published points, the largest
    absolute percentage error, how many points, the weight in the distance, and the values."""
    band = runs_or_band if "mean" in runs_or_band.columns else hindcast_band(runs_or_band, data_dir)
    band = band[band.observed.notna()]
    rows = []
    groups = [(s, band.series == s) for s in FIT_SERIES + (TIERS,)]
    groups.insert(len(FIT_SERIES), (DISTRICT_FIGURES, band.series.map(is_district)))
    for s, rows_of in groups:
        b = band[rows_of].sort_values(["series", "year"])
        if b.empty:         # not fitted (a backtest stops before the series' year)
            continue
        ape = 100.0 * (b["mean"] - b["observed"]).abs() / b["observed"]
        rows.append(dict(series=s, mape=float(ape.mean()), max_ape=float(ape.max()), points=len(b), weight=WEIGHTS[s],
                         years=[int(y) for y in b.year], observed=[float(x) for x in b.observed],
                         simulated=[float(x) for x in b["mean"]],
                         bias=float((100.0 * (b["mean"] - b["observed"]) / b["observed"]).mean())))
    return pd.DataFrame(rows).set_index("series")


def distance(errors: pd.DataFrame) -> float:
    """Weighted mean of the per-series MAPEs (%): what the calibration minimises."""
    w = errors["weight"]
    return float((errors["mape"] * w).sum() / w.sum())


def value(result: dict, s: str, y: int) -> float:
    """Series ``s`` of one hindcast run in year ``y`` (an addition: the difference to y-1)."""
    if s.endswith("_added"):
        base = result["series"][s[:-len("_added")]]
        return base[y] - base[y - 1]
    return result["series"][s][y]


def distance_of(result: dict, obs: pd.DataFrame) -> float:
    """The distance of one run: as ``distance(fit_errors(...))`` for a one-run ensemble."""
    num = den = 0.0
    district = obs.series.map(is_district)
    groups = [(s, obs[obs.series == s]) for s in FIT_SERIES + (TIERS,)] + [(DISTRICT_FIGURES, obs[district])]
    for s, o in groups:
        if o.empty:
            continue
        ape = [abs(value(result, x, y) - v) / v for x, y, v in zip(o.series, o.year, o.value)]
        num += WEIGHTS[s] * 100.0 * float(np.mean(ape))
        den += WEIGHTS[s]
    return num / den
