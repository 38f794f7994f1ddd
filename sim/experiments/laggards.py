"""T3's laggards over an ensemble, counted as the scoreboard counts T3: run by run.

T3 asks every district to grow its R&D by at least 10 %/yr on average from the start year to the
target year. In each replicate the districts that do not are that run's laggards; the ensemble's
count is the median and the 5–95 % band of the replicates' counts (38 minus T3's median and band
on the scoreboard, since the percentiles are linear), and each district is named by the share of
the replicates in which it lags. A count made from each district's own median would disagree
with the scoreboard: ten districts each lagging in 40 % of the runs, in different runs, lag in
no district's median yet put about four laggards in a typical run.

The report's sentence and district table and the app's ensemble paragraph all read
:func:`t3_laggards`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .targets import meets_rd_growth, rd_growth_rate

T3_INDICATOR = "districts_rd_cagr_10"
MOSTLY = 0.5        # a district that lags in at least this share of the runs is named as lagging in most


@dataclass(frozen=True)
class Laggards:
    """T3's laggards over the replicates of an ensemble, from ``start_year`` to ``year``."""
    start_year: int
    year: int
    n_districts: int
    per_replicate: pd.Series        # the number of laggards in each replicate (index: replicate)
    districts: pd.DataFrame         # adcode, name_zh, lag_share (of the replicates), rd_cagr (median of the
    #                                 replicates' growth, %/yr): most often lagging first, then slowest first
    scored: bool = False            # the scoreboard has T3 at this year (its count: n_districts − these)

    @property
    def replicates(self) -> int:
        return len(self.per_replicate)

    def _q(self, q: float) -> float:
        v = self.per_replicate.to_numpy(float)
        return float(np.percentile(v, q)) if len(v) else math.nan

    @property
    def median(self) -> float:
        return self._q(50)

    @property
    def p05(self) -> float:
        return self._q(5)

    @property
    def p95(self) -> float:
        return self._q(95)

    def mostly(self) -> pd.DataFrame:
        """The districts that lag in at least half of the runs (MOSTLY), most often first."""
        return self.districts[self.districts["lag_share"] >= MOSTLY]

    def ever(self) -> pd.DataFrame:
        """The districts that lag in at least one run, most often first."""
        return self.districts[self.districts["lag_share"] > 0]


def t3_year(scenario) -> int:
    """The year T3 is counted at: its target's year when the scenario's set has T3's measure and
    the runs reach it, else the horizon."""
    years = [t.year for t in scenario.targets if t.indicator == T3_INDICATOR and t.year <= scenario.until]
    return min(years) if years else scenario.until


def t3_start(districts: pd.DataFrame, default: int) -> int:
    """The year T3's growth is counted from: that of the state the runs were built from, their
    first step (T3's measure counts from the model's start year); ``default`` for an empty table."""
    first = districts.loc[districts["step"] == districts["step"].min(), "year"] if len(districts) else ()
    return int(first.iloc[0]) if len(first) else int(default)


def t3_laggards(result) -> Laggards:
    """:func:`count_laggards` of an :class:`~sim.experiments.results.EnsembleResult`, from
    :func:`t3_start` to :func:`t3_year`."""
    d, s = result.districts, result.scenario
    year = t3_year(s)
    lag = count_laggards(d, t3_start(d, s.params.start_year), year)
    return dataclasses.replace(lag, scored=any(t.indicator == T3_INDICATOR and t.year == year for t in s.targets))


def count_laggards(districts: pd.DataFrame, start_year: int, year: int) -> Laggards:
    """T3's laggards in an ensemble's tidy district table (columns replicate, year, quarter,
    adcode, name_zh, indicator, value): a district lags in a replicate when its year-end R&D of
    ``year`` is less than 10 %/yr on average above that of ``start_year`` (as
    :func:`~sim.experiments.targets.meets_rd_growth` says, a district without R&D at the start
    lags). Replicates that have not reached ``year`` are left out."""
    q4 = districts[(districts["quarter"] == 4) & (districts["indicator"] == "rd_expenditure")
                   & districts["year"].isin([start_year, year])]
    rd = q4.pivot_table(index=["replicate", "adcode"], columns="year", values="value", aggfunc="first")
    names = districts.drop_duplicates("adcode").set_index("adcode")["name_zh"]
    n = int(districts["adcode"].nunique())
    if year <= start_year or year not in rd.columns or start_year not in rd.columns:
        empty = pd.DataFrame({"adcode": names.index, "name_zh": names.to_numpy(), "lag_share": math.nan,
                              "rd_cagr": math.nan})
        return Laggards(start_year, year, n, pd.Series(dtype=float), empty)
    reached = rd[year].notna().groupby(level="replicate").transform("any")
    rd = rd[reached]
    growth = pd.Series(100 * rd_growth_rate(rd[year], rd[start_year], year - start_year), index=rd.index)
    lags = pd.Series(~meets_rd_growth(rd[year], rd[start_year], year - start_year), index=rd.index)
    per_replicate = lags.groupby(level="replicate").sum().astype(float).rename("laggards")
    by_district = pd.DataFrame({"lag_share": lags.groupby(level="adcode").mean(),
                                "rd_cagr": growth.groupby(level="adcode").median()})
    by_district.insert(0, "name_zh", by_district.index.map(names))
    by_district = (by_district.reset_index()
                   .sort_values(["lag_share", "rd_cagr", "adcode"], ascending=[False, True, True], kind="stable")
                   .reset_index(drop=True))
    return Laggards(start_year, year, n, per_replicate, by_district)
