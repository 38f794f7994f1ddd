"""The tables of actors and links beyond the district layer: universities, institutes and labs,
the consortium-leading firms, the ten industry directions, paired-assistance pairs,
Sichuan–Chongqing platforms, and the published history series of the city and of districts.

Each is read through :mod:`sim.data.tables` against its schema and key, sorted by a key its
loader's docstring names (so that nothing depends on the order of a file's lines), then checked
against the district layer (:mod:`sim.data.datasets`). ``policy_parameters.csv``, the published
figures the parameters' provenance cites, is read (and checked) by :func:`load_policy_parameters`;
``evaluation_fit.toml``, the fitted method of the district evaluation, by :func:`load_evaluation_fit`.
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Callable

import pandas as pd

from ..util.messages import key_name
from . import datasets, identity
from .tables import (DataError, DataKeyError, Flag, ListOf, MapOf, Num, OneOf, SchemaT, Table, Text, adcode as _adcode,
                     chinese as _zh, enum as _enum, ident as _ident, integer as _int, label as _label, latin as _latin,
                     number as _float, prose as _prose, read_csv, read_toml, stamp, text as _str)

PAIR_STATUSES = frozenset({"verified", "proxy"})
# Ten industry directions of the seed (§(十一)), in the order used by the firm arrays.
INDUSTRY_DIRECTIONS = ("industrial_software", "electronic_devices", "intelligent_manufacturing", "big_data",
                       "biomedicine", "food_health", "modern_agriculture", "green_energy", "ecology_environment",
                       "energy_saving")
FIELDS = frozenset({"intelligent", "life", "low_carbon"})
UNI_KINDS = frozenset({"university", "institute", "lab"})


def _path(data_dir, name: str) -> Path:
    return identity.data_folder(data_dir) / name


def _simple(filename: str, schema_fn: Callable[[frozenset[str]], SchemaT], data_dir, sort: tuple[str, ...],
            key: tuple[str, ...] = ()):
    """The table, sorted by ``sort`` (which ends with the key, so the order is total)."""
    return _with_lines(filename, schema_fn, data_dir, sort, key)[0]


def _with_lines(filename: str, schema_fn: Callable[[frozenset[str]], SchemaT], data_dir, sort: tuple[str, ...],
                key: tuple[str, ...] = ()):
    """The sorted table and each row's line in the file (for errors found after reading)."""
    d = identity.data_folder(data_dir)
    codes = identity.adcodes(d)
    path = d / filename
    df, lines = _cached_simple(str(path), stamp(path), codes, schema_fn, tuple(sort), key)
    return df.copy(), list(lines)


@functools.lru_cache(maxsize=64)
def _cached_simple(path_str, stamp, codes, schema_fn, sort, key):
    df, lines = read_csv(Path(path_str), schema_fn(codes), key=key, order=sort)
    return df, tuple(lines)


# The kind of level each kind of research unit has (universities.csv).
UNI_LEVELS = {"university": frozenset({"undergraduate", "vocational"}), "lab": frozenset({"municipal_lab"}),
              "institute": frozenset({"cas_institute", "national_innovation_centre", "new_rd_institute"})}


def _uni_schema(codes):
    return {"name_zh": _zh(), "name_en": _latin(), "kind": _enum(UNI_KINDS),
            "level": _enum(frozenset().union(*UNI_LEVELS.values())),
            "adcode": _adcode(codes), "year_opened": _int(1900, 2030, required=False),
            "status": _enum(identity.STATUSES), "source": _prose()}


def _firm_schema(codes):
    return {"name_zh": _zh(), "name_en": _latin(), "adcode": _adcode(codes),
            "industry_direction": _enum(INDUSTRY_DIRECTIONS), "status": _enum(identity.STATUSES), "source": _prose()}


def _dir_schema(codes):
    return {"id": _enum(INDUSTRY_DIRECTIONS), "name_zh": _zh(), "name_en": _latin(), "field": _enum(FIELDS),
            "status": _enum(identity.STATUSES), "source": _prose()}


def _pair_schema(codes):
    return {"partner_unit": _zh(), "partner_adcode": _adcode(codes), "county_adcode": _adcode(codes),
            "status": _enum(PAIR_STATUSES), "source_or_method": _prose()}


def _sc_schema(codes):
    return {"platform": _zh(), "adcode": _adcode(codes), "chongqing_unit": _zh(), "sichuan_side": _label(),
            "since": _int(1990, 2030, required=False), "status": _enum(identity.STATUSES), "source": _prose()}


# The unit of each city series the calibration fits or the model's start is checked against: a
# figure in another unit would be compared as if it were in this one.
CITY_HISTORY_UNITS = {"tech_enterprises": "firms", "high_tech_enterprises": "firms", "rd_expenditure": "100m_yuan",
                      "rd_intensity": "pct_gdp", "rd_expenditure_metropolitan_area": "100m_yuan",
                      "rd_expenditure_northeast_cluster": "100m_yuan", "rd_expenditure_southeast_cluster": "100m_yuan",
                      "rd_share_central_urban": "pct_city_rd", "gdp": "100m_yuan"}
# Units of counts: their values are whole numbers.
COUNT_UNITS = frozenset({"firms", "counties", "districts", "patents", "persons", "projects", "platforms", "teams",
                         "zones", "funds", "parks", "bases", "incubators", "makerspaces", "orgs", "entities",
                         "indicators", "person_times"})
# Units of percentages: from 0 to 100; of fractions: from 0 to 1. Only elasticities and growth
# rates may be below zero.
PERCENT_UNITS = frozenset({"pct", "pct_gdp", "pct_city_rd", "pct_revenue"})
FRACTION_UNITS = frozenset({"fraction", "fraction_of_loan", "fraction_of_balance", "share"})
SIGNED_UNITS = frozenset({"elasticity", "pct_per_year", "per_year"})


def _hist_schema(codes):
    # Every published city figure is a stock, a flow, a share or an index: none is below zero.
    return {"indicator": _ident(), "year": _int(2000, 2030), "value": _float(lo=0.0), "unit": _label(),
            "status": _enum(identity.STATUSES), "note": _str(required=False), "source": _prose()}


def _check_units(path: Path, df: pd.DataFrame, lines, units: dict, column: str = "indicator") -> None:
    """Each row in its indicator's unit (``units``, where it names one); counts whole, percentages ≤ 100."""
    for row, line in zip(df.itertuples(index=False), lines):
        want = units.get(getattr(row, column))
        if want is not None and row.unit != want:
            raise DataError(path, line, "unit", f"{row.unit!r} for {getattr(row, column)}", repr(want))
        if row.unit in COUNT_UNITS and float(row.value) != int(row.value):
            raise DataError(path, line, "value", f"{row.value:g} {row.unit} is not a whole number", "a count: integers >= 0")
        if row.unit in PERCENT_UNITS and row.value > 100:
            raise DataError(path, line, "value", f"{row.value:g} {row.unit} is more than 100", "percentages from 0 to 100")


# The districts' own figures the calibration compares with, and the unit each is published in.
DISTRICT_HISTORY_UNITS = {"tech_enterprises": "firms", "high_tech_enterprises": "firms",
                          "rd_expenditure": "100m_yuan", "rd_intensity": "pct_gdp"}


def _district_hist_schema(codes):
    # Years stop at 2022: the model forecasts 2023 on, and its forecasts are checked against later figures.
    return {"adcode": _adcode(codes), "name_zh": _zh(), "indicator": _enum(DISTRICT_HISTORY_UNITS),
            "year": _int(2017, 2022), "value": _float(positive=True), "unit": _enum(set(DISTRICT_HISTORY_UNITS.values())),
            "status": _enum(identity.STATUSES), "method": _prose(), "source": _prose(), "wording": _prose()}


def load_universities(data_dir=None) -> pd.DataFrame:
    """Universities, institutes and labs with host district (adcode) and provenance, sorted by
    (adcode, name_zh). Each district lists as many universities as district_indicators.csv
    counts for it (2022), so a cut-off or doubled file is caught."""
    d = identity.data_folder(data_dir)
    df, lines = _with_lines("universities.csv", _uni_schema, d, ("adcode", "name_zh"), key=("name_zh",))
    path = d / "universities.csv"
    for row, line in zip(df.itertuples(index=False), lines):
        if row.level not in UNI_LEVELS[row.kind]:
            raise DataError(path, line, "level", f"{row.level!r} for a {row.kind}", ", ".join(sorted(UNI_LEVELS[row.kind])))
    ind = datasets.load_indicators(d)
    counted = ind[(ind.indicator == "n_universities") & (ind.year == 2022)].set_index("adcode")["value"]
    listed = df[df["kind"] == "university"].groupby("adcode").size()
    for code, n in counted.items():
        if int(n) != int(listed.get(code, 0)):
            raise DataError(path, None, "adcode", f"{int(listed.get(code, 0))} universities listed for "
                            f"{code}, district_indicators.csv counts {int(n)} (n_universities, 2022)",
                            "one row per counted university")
    return df


LEADING_FIRMS = 5   # the consortium leaders the guiding opinions name (seed §(十三))


def load_leading_firms(data_dir=None) -> pd.DataFrame:
    """The five consortium-leading firms named in the policy, with district and industry
    direction, sorted by (adcode, name_en, name_zh): the order in which the model gives each its
    row, whatever the order of the file's lines."""
    df = _simple("leading_firms.csv", _firm_schema, data_dir, ("adcode", "name_en", "name_zh"), key=("name_zh",))
    if len(df) != LEADING_FIRMS:
        raise DataError(_path(data_dir, "leading_firms.csv"), None, "name_zh", f"{len(df)} firms, the guiding opinions "
                        f"name {LEADING_FIRMS} consortium leaders (seed §(十三))", f"{LEADING_FIRMS} rows")
    return df


def load_industry_directions(data_dir=None) -> pd.DataFrame:
    """The ten industry directions (ids used across the project) and their field, in the order
    of INDUSTRY_DIRECTIONS (that of the firm arrays), whatever the order of the file's lines."""
    df = _simple("industry_directions.csv", _dir_schema, data_dir, ("id",), key=("id",))
    if sorted(df["id"]) != sorted(INDUSTRY_DIRECTIONS):
        raise DataError(_path(data_dir, "industry_directions.csv"), None, "id", "the ten directions must each appear once",
                        ", ".join(INDUSTRY_DIRECTIONS))
    return df.set_index("id").loc[list(INDUSTRY_DIRECTIONS)].reset_index()


def load_paired_assistance(data_dir=None) -> pd.DataFrame:
    """对口协同 pairs: partner unit/district -> cluster county; status verified or proxy. Sorted
    by the file's key (partner_adcode, county_adcode)."""
    d = identity.data_folder(data_dir)
    key = ("partner_adcode", "county_adcode")
    df, lines = _with_lines("paired_assistance.csv", _pair_schema, d, key, key=key)
    ident = identity.district_identity(d).set_index("adcode")["group"]
    path = d / "paired_assistance.csv"
    for row, line in zip(df.itertuples(), lines):
        if ident[row.county_adcode] not in ("northeast", "southeast"):
            raise DataError(path, line, "county_adcode", f"{row.county_adcode} is not a cluster county", "northeast/southeast adcodes")
        if ident[row.partner_adcode] not in ("central_urban", "new_metropolitan"):
            raise DataError(path, line, "partner_adcode", f"{row.partner_adcode} is not a metropolitan district",
                            "central_urban/new_metropolitan adcodes")
    missing = sorted(set(ident[ident.isin(["northeast", "southeast"])].index) - set(df["county_adcode"]))
    if missing:
        raise DataError(path, None, "county_adcode", f"cluster counties without a partner: {missing}")
    return df


def load_sichuan_chongqing(data_dir=None) -> pd.DataFrame:
    """川渝毗邻 cooperation platforms and their Chongqing participants, sorted by the file's key
    (platform, chongqing_unit)."""
    key = ("platform", "chongqing_unit")
    return _simple("sichuan_chongqing.csv", _sc_schema, data_dir, key, key=key)


def load_city_history(data_dir=None) -> pd.DataFrame:
    """City-level series (2015–2022) with status, note and source, sorted by the file's key
    (indicator, year). Every value is at least 0, counts are whole, percentages at most 100, and
    the series the calibration fits are in their units (CITY_HISTORY_UNITS)."""
    d = identity.data_folder(data_dir)
    key = ("indicator", "year")
    df, lines = _with_lines("city_history.csv", _hist_schema, d, key, key=key)
    _check_units(d / "city_history.csv", df, lines, CITY_HISTORY_UNITS)
    return df


def load_district_history(data_dir=None) -> pd.DataFrame:
    """Districts' own published year-end figures 2017–2022 (sim/data/district_history.csv, written by
    tools/data/district_history.py), each in its indicator's unit, sorted by the file's key
    (adcode, indicator, year)."""
    d = identity.data_folder(data_dir)
    key = ("adcode", "indicator", "year")
    df, lines = _with_lines("district_history.csv", _district_hist_schema, d, key, key=key)
    names = identity.district_identity(d).set_index("adcode")["name_zh"].to_dict()
    path = d / "district_history.csv"
    for r, line in zip(df.itertuples(), lines):
        if names.get(int(r.adcode)) != r.name_zh:
            raise DataError(path, line, "name_zh", f"{r.name_zh!r} for adcode {r.adcode}",
                            f"{names.get(int(r.adcode))!r}, the name of {r.adcode} in districts.csv")
    _check_units(path, df, lines, DISTRICT_HISTORY_UNITS)
    return df


def _policy_parameters_schema(codes):
    return {"key": _ident(), "description": _prose(), "value": _float(), "unit": _label(), "year": _int(1949, 2035),
            "status": _enum(identity.STATUSES), "source": _prose(), "note": _str(required=False)}


def load_policy_parameters(data_dir=None) -> pd.DataFrame:
    """The published figures the parameters' provenance cites (policy_parameters.csv: key,
    description, value, unit, year, status, source, note), sorted by the file's key (key, year). Values
    are finite; counts are whole and at least 0; percentages from 0 to 100."""
    d = identity.data_folder(data_dir)
    df, lines = _with_lines("policy_parameters.csv", _policy_parameters_schema, d, ("key", "year"), key=("key", "year"))
    path = d / "policy_parameters.csv"
    for row, line in zip(df.itertuples(index=False), lines):
        if row.unit in FRACTION_UNITS and not 0 <= row.value <= 1:
            raise DataError(path, line, "value", f"{row.value:g} {row.unit}", "a fraction from 0 to 1")
        if row.unit not in SIGNED_UNITS and row.value < 0:
            raise DataError(path, line, "value", f"{row.value:g} {row.unit}", "numbers >= 0 (only "
                            f"{', '.join(sorted(SIGNED_UNITS))} may be negative)")
    _check_units(path, df, lines, {}, column="key")
    return df


# ----------------------------------------------------------------------------- evaluation_fit.toml
# evaluation_fit.toml (written by tools/data/fit_evaluation.py): the fitted weights of the five
# dimensions and the elasticities of the nine indicators of the district evaluation, which
# EvaluationParams (sim/params/levers.py) carries, and each district's mean start score.
EVALUATION_FIT = Table({
    "fit": Table({"status": OneOf(sorted(identity.STATUSES)), "restated": Flag(), "method": Text(), "published": Text(),
                  "seeds": ListOf(Num(0, 2**63 - 1, integer=True), 1, 1000), "scale": Num(0.001, 1),
                  "date": Text(r"\d{4}-\d\d-\d\d", "a date such as 2024-12-01"), "weights": ListOf(Num(0, 1), 5, 5),
                  "exponents": ListOf(Num(0, 10), 9, 9), "margin": Num(), "city_index": Num(0, 100),
                  "mismatches": ListOf(Num(0, 38, integer=True), 1, 1000), "mismatched": ListOf(Text(), 0, 38)}),
    "start_scores": MapOf(Num(0, 100)),
})


def load_evaluation_fit(data_dir=None) -> dict:
    """evaluation_fit.toml, checked: [fit] (status, method, source, the five weights summing to 1,
    the nine elasticities, one mismatch count per seed) and [start_scores] (each of the 38
    districts by its short name, a score from 0 to 100)."""
    d = identity.data_folder(data_dir)
    path = d / "evaluation_fit.toml"
    return copy.deepcopy(_evaluation_cached(str(path), stamp(path), stamp(d / "districts.csv")))


@functools.lru_cache(maxsize=8)
def _evaluation_cached(path_str: str, stamp: tuple, ident_stamp: tuple) -> dict:
    path = Path(path_str)
    raw = EVALUATION_FIT.check(path, "", read_toml(path))
    fit = raw["fit"]
    if abs(sum(fit["weights"]) - 1.0) > 0.005:
        raise DataKeyError(path, "fit.weights", f"the weights sum to {sum(fit['weights']):g}", "five weights summing to 1")
    if len(fit["mismatches"]) != len(fit["seeds"]):
        raise DataKeyError(path, "fit.mismatches", f"{len(fit['mismatches'])} counts for {len(fit['seeds'])} seeds",
                           "one count per seed")
    names = set(identity.district_identity(path.parent)["short_zh"])
    scores = raw["start_scores"]
    for name in scores:
        if name not in names:
            raise DataKeyError(path, f"start_scores.{key_name(name)}", "not a district's short name (districts.csv short_zh)",
                               "the 38 short names, e.g. 渝中")
    missing = sorted(names - set(scores))
    if missing:
        raise DataKeyError(path, f"start_scores.{missing[0]}", "missing", "one score for each of the 38 districts")
    return raw
