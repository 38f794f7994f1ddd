"""The tables of actors and links beyond the district layer: universities, institutes and labs,
the consortium-leading firms, the ten industry directions, paired-assistance pairs,
Sichuan–Chongqing platforms, and the published history series of the city and of districts.

Each is read through :mod:`sim.data.tables` against its schema and key, then checked against the
district layer (:mod:`sim.data.datasets`).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import pandas as pd

from . import datasets, identity
from .tables import (DataError, SchemaT, adcode as _adcode, enum as _enum, integer as _int, number as _float, read_csv,
                     stamp, text as _str)

PAIR_STATUSES = frozenset({"verified", "proxy"})
# Ten industry directions of the seed (§(十一)), in the order used by the firm arrays.
INDUSTRY_DIRECTIONS = ("industrial_software", "electronic_devices", "intelligent_manufacturing", "big_data",
                       "biomedicine", "food_health", "modern_agriculture", "green_energy", "ecology_environment",
                       "energy_saving")
FIELDS = frozenset({"intelligent", "life", "low_carbon"})
UNI_KINDS = frozenset({"university", "institute", "lab"})


def _path(data_dir, name: str) -> Path:
    return identity.data_folder(data_dir) / name


def _simple(filename: str, schema_fn: Callable[[frozenset[str]], SchemaT], data_dir, sort: list[str] | None = None,
            key: tuple[str, ...] = ()):
    d = identity.data_folder(data_dir)
    codes = identity.adcodes(d)
    path = d / filename
    return _cached_simple(str(path), stamp(path), codes, schema_fn, tuple(sort or ()), key).copy()


@functools.lru_cache(maxsize=64)
def _cached_simple(path_str, stamp, codes, schema_fn, sort, key):
    df, _ = read_csv(Path(path_str), schema_fn(codes), key=key)
    if sort:
        df = df.sort_values(list(sort), kind="stable").reset_index(drop=True)
    return df


def _uni_schema(codes):
    return {"name_zh": _str(), "name_en": _str(), "kind": _enum(UNI_KINDS), "level": _str(),
            "adcode": _adcode(codes), "year_opened": _int(1900, 2030, required=False),
            "status": _enum(identity.STATUSES), "source": _str()}


def _firm_schema(codes):
    return {"name_zh": _str(), "name_en": _str(), "adcode": _adcode(codes),
            "industry_direction": _enum(INDUSTRY_DIRECTIONS), "status": _enum(identity.STATUSES), "source": _str()}


def _dir_schema(codes):
    return {"id": _enum(INDUSTRY_DIRECTIONS), "name_zh": _str(), "name_en": _str(), "field": _enum(FIELDS),
            "status": _enum(identity.STATUSES), "source": _str()}


def _pair_schema(codes):
    return {"partner_unit": _str(), "partner_adcode": _adcode(codes), "county_adcode": _adcode(codes),
            "status": _enum(PAIR_STATUSES), "source_or_method": _str()}


def _sc_schema(codes):
    return {"platform": _str(), "adcode": _adcode(codes), "chongqing_unit": _str(), "sichuan_side": _str(),
            "since": _int(1990, 2030, required=False), "status": _enum(identity.STATUSES), "source": _str()}


def _hist_schema(codes):
    return {"indicator": _str(), "year": _int(2000, 2030), "value": _float(), "unit": _str(),
            "status": _enum(identity.STATUSES), "note": _str(required=False), "source": _str()}


# The districts' own figures the calibration compares with, and the unit each is published in.
DISTRICT_HISTORY_UNITS = {"tech_enterprises": "firms", "high_tech_enterprises": "firms",
                          "rd_expenditure": "100m_yuan", "rd_intensity": "pct_gdp"}


def _district_hist_schema(codes):
    # Years stop at 2022: the model forecasts 2023 on, and its forecasts are checked against later figures.
    return {"adcode": _adcode(codes), "name_zh": _str(), "indicator": _enum(DISTRICT_HISTORY_UNITS),
            "year": _int(2017, 2022), "value": _float(positive=True), "unit": _enum(set(DISTRICT_HISTORY_UNITS.values())),
            "status": _enum(identity.STATUSES), "method": _str(), "source": _str(), "wording": _str()}


def load_universities(data_dir=None) -> pd.DataFrame:
    """Universities, institutes and labs with host district (adcode) and provenance. Each
    district lists as many universities as district_indicators.csv counts for it (2022), so a
    cut-off or doubled file is caught."""
    d = identity.data_folder(data_dir)
    df = _simple("universities.csv", _uni_schema, d, key=("name_zh",))
    ind = datasets.load_indicators(d)
    counted = ind[(ind.indicator == "n_universities") & (ind.year == 2022)].set_index("adcode")["value"]
    listed = df[df["kind"] == "university"].groupby("adcode").size()
    for code, n in counted.items():
        if int(n) != int(listed.get(code, 0)):
            raise DataError(d / "universities.csv", None, "adcode", f"{int(listed.get(code, 0))} universities listed for "
                            f"{code}, district_indicators.csv counts {int(n)} (n_universities, 2022)",
                            "one row per counted university")
    return df


LEADING_FIRMS = 5   # the consortium leaders the guiding opinions name (seed §(十三))


def load_leading_firms(data_dir=None) -> pd.DataFrame:
    """The five consortium-leading firms named in the policy, with district and industry direction."""
    df = _simple("leading_firms.csv", _firm_schema, data_dir, key=("name_zh",))
    if len(df) != LEADING_FIRMS:
        raise DataError(_path(data_dir, "leading_firms.csv"), None, "name_zh", f"{len(df)} firms, the guiding opinions "
                        f"name {LEADING_FIRMS} consortium leaders (seed §(十三))", f"{LEADING_FIRMS} rows")
    return df


def load_industry_directions(data_dir=None) -> pd.DataFrame:
    """The ten industry directions (ids used across the project) and their field."""
    df = _simple("industry_directions.csv", _dir_schema, data_dir, key=("id",))
    if sorted(df["id"]) != sorted(INDUSTRY_DIRECTIONS):
        raise DataError(_path(data_dir, "industry_directions.csv"), None, "id", "the ten directions must each appear once",
                        ", ".join(INDUSTRY_DIRECTIONS))
    return df


def load_paired_assistance(data_dir=None) -> pd.DataFrame:
    """对口协同 pairs: partner unit/district -> cluster county; status verified or proxy."""
    d = identity.data_folder(data_dir)
    df = _simple("paired_assistance.csv", _pair_schema, d, key=("partner_adcode", "county_adcode"))
    ident = identity.district_identity(d).set_index("adcode")["group"]
    path = d / "paired_assistance.csv"
    for i, row in enumerate(df.itertuples(), start=2):
        if ident[row.county_adcode] not in ("northeast", "southeast"):
            raise DataError(path, i, "county_adcode", f"{row.county_adcode} is not a cluster county", "northeast/southeast adcodes")
        if ident[row.partner_adcode] not in ("central_urban", "new_metropolitan"):
            raise DataError(path, i, "partner_adcode", f"{row.partner_adcode} is not a metropolitan district",
                            "central_urban/new_metropolitan adcodes")
    missing = sorted(set(ident[ident.isin(["northeast", "southeast"])].index) - set(df["county_adcode"]))
    if missing:
        raise DataError(path, None, "county_adcode", f"cluster counties without a partner: {missing}")
    return df


def load_sichuan_chongqing(data_dir=None) -> pd.DataFrame:
    """川渝毗邻 cooperation platforms and their Chongqing participants."""
    return _simple("sichuan_chongqing.csv", _sc_schema, data_dir, key=("platform", "chongqing_unit"))


def load_city_history(data_dir=None) -> pd.DataFrame:
    """City-level series (2015–2022) with status, note and source."""
    return _simple("city_history.csv", _hist_schema, data_dir, sort=["indicator", "year"], key=("indicator", "year"))


def load_district_history(data_dir=None) -> pd.DataFrame:
    """Districts' own published year-end figures 2017–2022 (sim/data/district_history.csv, written by
    tools/data/district_history.py), each in its indicator's unit."""
    d = identity.data_folder(data_dir)
    df = _simple("district_history.csv", _district_hist_schema, d, sort=["adcode", "indicator", "year"],
                 key=("adcode", "indicator", "year"))
    names = identity.district_identity(d).set_index("adcode")["name_zh"].to_dict()
    for r in df.itertuples():
        if names.get(int(r.adcode)) != r.name_zh:
            raise DataError(d / "district_history.csv", None, "name_zh", f"{r.name_zh!r} for adcode {r.adcode}",
                            f"{names.get(int(r.adcode))!r}, the name of {r.adcode} in districts.csv")
        if r.unit != DISTRICT_HISTORY_UNITS[r.indicator]:
            raise DataError(d / "district_history.csv", None, "unit", f"{r.unit!r} for {r.indicator} ({r.adcode} {r.year})",
                            repr(DISTRICT_HISTORY_UNITS[r.indicator]))
    return df
