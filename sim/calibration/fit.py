"""The published points a hindcast is compared with, and how far the model is from them: the
series and their weights, the ensemble band, the per-series errors and the distance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import datasets
from .problem import FIT_YEARS, LAST_YEAR, CalibrationError

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
SERIES = tuple(CITY_SERIES) + tuple(REGIONAL_SERIES)
WEIGHTS = {**CITY_SERIES, **{k: v[2] for k, v in REGIONAL_SERIES.items()}}
HEADLINE = ("tech_enterprises", "high_tech_enterprises", "rd_expenditure")
AIM_MAPE = 10.0


def observed(data_dir=None) -> pd.DataFrame:
    """The published points the calibration fits (years 2018–2022 only), with status and source."""
    hist = datasets.load_city_history(data_dir)
    rows = []
    for s in CITY_SERIES:
        for y in FIT_YEARS:
            r = hist[(hist.indicator == s) & (hist.year == y)]
            if r.empty:
                raise CalibrationError(f"city_history.csv has no {s} for {y}")
            r = r.iloc[0]
            rows.append(dict(series=s, year=y, value=float(r.value), status=r.status, note=r.note, source=r.source))
    for s, (ind, y, _) in REGIONAL_SERIES.items():
        r = hist[(hist.indicator == ind) & (hist.year == y)].iloc[0]
        rows.append(dict(series=s, year=y, value=float(r.value), status=r.status, note=r.note, source=r.source))
    out = pd.DataFrame(rows)
    assert out["year"].max() <= LAST_YEAR  # the model's job is to forecast 2023 on
    return out



def hindcast_band(runs: pd.DataFrame, data_dir=None) -> pd.DataFrame:
    """Per series and year: ensemble mean, 5/50/95 % quantiles, and the published value (NaN if none)."""
    g = runs.groupby(["series", "year"])["value"]
    band = pd.DataFrame({"mean": g.mean(), "p05": g.quantile(0.05), "p50": g.quantile(0.5), "p95": g.quantile(0.95),
                         "replicates": g.size()}).reset_index()
    obs = observed(data_dir)[["series", "year", "value", "status"]].rename(columns={"value": "observed"})
    return band.merge(obs, on=["series", "year"], how="left")


def fit_errors(runs_or_band: pd.DataFrame, data_dir=None) -> pd.DataFrame:
    """Per series: MAPE (%) of the ensemble mean against the published points, the largest
    absolute percentage error, how many points, the weight in the distance, and the values."""
    band = runs_or_band if "mean" in runs_or_band.columns else hindcast_band(runs_or_band, data_dir)
    rows = []
    for s in SERIES:
        b = band[(band.series == s) & band.observed.notna()].sort_values("year")
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


def _distance_of(result: dict, obs: pd.DataFrame) -> float:
    num = den = 0.0
    for s in SERIES:
        o = obs[obs.series == s]
        ape = [abs(result["series"][s][y] - v) / v for y, v in zip(o.year, o.value)]
        num += WEIGHTS[s] * 100.0 * float(np.mean(ape))
        den += WEIGHTS[s]
    return num / den
