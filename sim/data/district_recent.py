"""The districts' own published figures from 2023 on (``district_recent.csv``): a district's stock
of tech-based SMEs or high-tech enterprises at the end of a quarter, as a district said it.

Few were found (a fourth search, ``docs/research/district_search_2024/``): most district
bulletins and work reports could not be read as far as their S&T paragraphs. Each row says which
quarter's end it describes (a figure stated in mid-April is compared with the end of Q1) and its
``doubt``: ``year_inferred`` (an undated page whose year the context gives) or
``may_be_cumulative`` (wording such as "培育了" that may count every firm ever certified or
registered, not the current stock). The update weighs the model's paths by them and the backtest
checks the district bands against them (:mod:`sim.experiments.district_observations`).

Columns: ``adcode, indicator, year, quarter, value, unit, status, doubt, note, source, wording``;
checked on reading (a :class:`~sim.data.tables.DataError` names file, line and column): an adcode
of ``districts.csv``, an indicator of :data:`INDICATORS` in firms, a year from 2023, quarter 1–4,
a whole positive count, one row per (adcode, indicator, year, quarter).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from . import identity
from .recent import FIRST_YEAR, LAST_YEAR
from .tables import DataError, SchemaT, adcode, enum, integer, number, prose, read_csv, stamp, text

FILE = "district_recent.csv"
INDICATORS = ("tech_enterprises", "high_tech_enterprises")
DOUBTS = ("", "year_inferred", "may_be_cumulative")


def _schema(codes) -> SchemaT:
    return {"adcode": adcode(codes), "indicator": enum(INDICATORS), "year": integer(FIRST_YEAR, LAST_YEAR),
            "quarter": integer(1, 4), "value": number(positive=True), "unit": enum({"firms"}),
            "status": enum(identity.STATUSES), "doubt": enum(DOUBTS, required=False), "note": prose(),
            "source": prose(), "wording": text(required=False)}


def load_district_recent(data_dir=None) -> pd.DataFrame:
    """The rows of ``district_recent.csv``, sorted by (adcode, indicator, year, quarter)."""
    d = identity.data_folder(data_dir)
    path = d / FILE
    return _cached(str(path), stamp(path), identity.adcodes(d)).copy()


@functools.lru_cache(maxsize=8)
def _cached(path_str: str, stamp_: tuple, codes: frozenset[str]) -> pd.DataFrame:
    path = Path(path_str)
    key = ("adcode", "indicator", "year", "quarter")
    df, lines = read_csv(path, _schema(codes), key=key, order=key)
    for row, line in zip(df.itertuples(index=False), lines):
        if row.value != int(row.value):
            raise DataError(path, line, "value", f"{row.value:g} firms is not a whole number", "a count: integers > 0")
    df["adcode"] = df["adcode"].astype(int)
    df["doubt"] = df["doubt"].fillna("")
    return df.reset_index(drop=True)
