"""Each district's band: the median and 5–95 % band across an ensemble's replicates of its three
start stocks (tech-based SMEs, high-tech enterprises, R&D) at every year end, with whether the
district's start value of each is its own published figure or an estimate (a share of a city total
split by proxies: ``sim.data.district_start.start_status``).

Every ensemble folder carries it as ``district_quantiles.csv`` (written by ``run_ensemble`` once
its replicates are in); the report's district table and maps read the same frame at the horizon.
The start year's rows show how far the runs' start values themselves spread.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data.datasets import START_YEARS
from ..data.district_start import start_status
from .outfolder import DISTRICT_QUANTILES, OutputFolder, atomic_write

# The stocks whose start is partly estimated, with their unit as the district frame holds them
# (firm counts scaled up to the whole population; R&D in 亿元).
STOCKS = {"tech_enterprises": "firms", "high_tech_enterprises": "firms", "rd_expenditure": "100m yuan"}
OWN, ESTIMATED = "own", "estimated"
# The start state start_status describes: the latest one a run is built from (end-2022). A run
# built from another (a hindcast from 2017) gets no status: its start is a different estimate.
STATUS_YEAR = max(START_YEARS)
COLUMNS = ["adcode", "name_zh", "indicator", "unit", "year", "median", "p05", "p95", "replicates", "start_status"]


def district_quantiles(result) -> pd.DataFrame:
    """One row per district, stock and year end (from the state the runs start from to the
    horizon): the median, 5 % and 95 % quantiles across the replicates (interpolated, as the
    scoreboard's), how many replicates they hold, and ``start_status`` ("own", "estimated", or
    empty when the runs start from another state than the one it describes)."""
    d = result.districts
    ends = d[(d["quarter"] == 4) & d["indicator"].isin(list(STOCKS))] if len(d) else d
    if not len(ends):
        return pd.DataFrame(columns=COLUMNS)
    g = ends.groupby(["adcode", "name_zh", "indicator", "year"])["value"]
    q = g.quantile([0.5, 0.05, 0.95]).unstack()
    q.columns = ["median", "p05", "p95"]
    q["replicates"] = g.count()
    q = q.reset_index()
    q["unit"] = q["indicator"].map(STOCKS)
    q["start_status"] = ""
    built_from = int(d.loc[d["step"] == d["step"].min(), "year"].iloc[0])
    if built_from == STATUS_YEAR:
        status = start_status().stack()         # (adcode, stock) → own / estimated
        q["start_status"] = [status.get((a, i), "") for a, i in zip(q["adcode"], q["indicator"])]
    # Stocks in the order above, not alphabetical: a reader scans one district's three stocks.
    q["order"] = q["indicator"].map(list(STOCKS).index)
    return q.sort_values(["adcode", "order", "year"]).reset_index(drop=True)[COLUMNS]


def at_year(quantiles: pd.DataFrame, year: int) -> pd.DataFrame:
    """The rows of one year end, indexed by (adcode, indicator)."""
    return quantiles[quantiles["year"] == year].set_index(["adcode", "indicator"])


def write_district_quantiles(folder: OutputFolder, result) -> Path:
    """Write the folder's ``district_quantiles.csv`` and record it as a file this project wrote (a
    resumed run removes it with the summary and writes it again, ``--overwrite`` removes it). A
    folder read again keeps its file untouched when its replicates are the same."""
    data = district_quantiles(result).to_csv(index=False).encode()
    path = folder.path / DISTRICT_QUANTILES
    try:
        same = path.read_bytes() == data
    except OSError:
        same = False
    if not same:
        atomic_write(path, data, folder.run_id)
    folder.record([DISTRICT_QUANTILES])
    return path
