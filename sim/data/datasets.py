"""Loading and validation of the real-data layer in ``sim/data/``.

Every loader takes an optional ``data_dir`` (default :data:`DATA_DIR`) and returns a fresh
pandas object. Files are read through :mod:`sim.data.tables`, so any damage raises
:class:`DataError` naming the file, the 1-based line number, the column and what is allowed;
this module adds what the project's tables must hold (38 districts, published totals, one
university row per counted university, ...). Provenance (status + source) lives in the files
themselves; see sim/data/README.md.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import pandas as pd

from ..util.messages import short
from .tables import DataError, SchemaT, check_polygons, is_number, read_csv, read_json, stamp
from .tables import adcode as _adcode
from .tables import enum as _enum
from .tables import integer as _int
from .tables import number as _float
from .tables import text as _str

DATA_DIR = Path(__file__).resolve().parent

STATUSES = frozenset({"verified", "derived", "estimated"})
GROUPS = ("central_urban", "new_metropolitan", "northeast", "southeast")
GROUP_SIZES = {"central_urban": 9, "new_metropolitan": 12, "northeast": 11, "southeast": 6}
KINDS = frozenset({"district", "county", "autonomous_county"})
CORE_ZONES = frozenset({"", "西部（重庆）科学城", "两江协同创新区", "广阳湾智创生态城"})
HIGHTECH = frozenset({"none", "municipal", "national"})
PLATFORM_STAGES = frozenset({"none", "existing_upgrade", "under_construction", "bid"})
INNOVATIVE_COUNTY = frozenset({"none", "candidate", "national"})
# platforms.csv: what a district hosts. "一区（县）一平台" (seed §(七)) counts a district when it hosts
# one of the platforms §(七) itself lists: a national or municipal high-tech zone, an agricultural
# S&T park or high-tech demonstration zone, a core zone of the S&T centre, a named characteristic
# platform, science city or town, a national technology innovation centre, a national innovative
# county. Membership of a zone run from elsewhere (科学城 member, 高新区拓展园) and the agriculture
# ministry's 现代农业产业园 are recorded but do not count.
PLATFORM_KINDS = frozenset({"high_tech_zone", "agri_sci_tech_park", "agri_hitech_demo_zone", "core_zone",
                            "characteristic_platform", "sci_tech_town", "science_city", "tech_innovation_center",
                            "innovative_county", "science_city_member", "hightech_zone_extension",
                            "modern_agri_industrial_park"})
PLATFORM_COUNTING_KINDS = frozenset({"high_tech_zone", "agri_sci_tech_park", "agri_hitech_demo_zone", "core_zone",
                                     "characteristic_platform", "sci_tech_town", "science_city",
                                     "tech_innovation_center", "innovative_county"})
PLATFORM_LEVELS = frozenset({"national", "municipal", "district"})
PLATFORM_STAGES_2022 = frozenset({"existing", "under_construction", "candidate"})

# Indicators every district must have, with the year used by load_districts().
DISTRICT_INDICATORS = {
    "population": 2020, "gdp": 2022, "innovation_tier": 2022, "tech_enterprises": 2022,
    "high_tech_enterprises": 2022, "rd_expenditure": 2022, "fiscal_st_spending": 2022,
    "industrial_output": 2022, "n_universities": 2022, "n_institutes": 2022,
}
INTEGER_INDICATORS = frozenset({"population", "innovation_tier", "tech_enterprises",
                                "high_tech_enterprises", "n_universities", "n_institutes"})
# Published city totals the district values must reproduce: (indicator, year) -> (total, abs tol)
CITY_TOTALS = {
    ("tech_enterprises", 2022): (42989, 0), ("high_tech_enterprises", 2022): (6348, 0),
    ("tech_enterprises", 2017): (6725, 0), ("high_tech_enterprises", 2017): (2027, 0),
    ("rd_expenditure", 2022): (686.6, 0.01), ("fiscal_st_spending", 2022): (98.9, 0.01),
    ("population", 2020): (32054159, 0),
}
# Per-capita and per-GDP measures divide by these.
POSITIVE_INDICATORS = frozenset({"population", "gdp"})
RD_TOLERANCE = 0.01  # 100m yuan, for the published regional R&D splits
RD_2020_SPLIT = {"metropolitan": 495.54, "northeast": 26.35, "southeast": 4.9}
RD_2022_CENTRAL_SHARE = 61.2  # percent, published to one decimal
RD_SHARE_TOLERANCE = 0.05  # percentage points


def _dir(data_dir) -> Path:
    return Path(data_dir) if data_dir is not None else DATA_DIR


def _status_cols(prefixes, statuses=STATUSES) -> SchemaT:
    out: SchemaT = {}
    for p in prefixes:
        out[f"{p}_status"] = _enum(statuses)
        out[f"{p}_source"] = _str()
    return out


# ----------------------------------------------------------------------------- districts.csv
def _districts_schema() -> SchemaT:
    s: SchemaT = {
        "adcode": _adcode(None), "name_zh": _str(), "short_zh": _str(), "name_pinyin": _str(),
        "kind": _enum(KINDS), "group": _enum(GROUPS),
    }
    s.update(_status_cols(["identity"]))
    s.update({"core_zone": _enum(CORE_ZONES)}); s.update(_status_cols(["core_zone"]))
    s.update({"hightech_zone": _enum(HIGHTECH)}); s.update(_status_cols(["hightech_zone"]))
    s.update({"platform_2022": _str(required=False), "platform_stage": _enum(PLATFORM_STAGES)})
    s.update(_status_cols(["platform"]))
    s.update({"innovative_county": _enum(INNOVATIVE_COUNTY)}); s.update(_status_cols(["innovative_county"]))
    s.update({"sichuan_border": _int(0, 1)}); s.update(_status_cols(["sichuan_border"]))
    s.update({"seed_mentions": _str(required=False), "seed_mentions_source": _str()})
    return s


def _identity(path_str: str) -> pd.DataFrame:
    return _identity_cached(path_str, stamp(Path(path_str)))


@functools.lru_cache(maxsize=16)
def _identity_cached(path_str: str, stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    df, lines = read_csv(path, _districts_schema(), key=("adcode",))
    if len(df) != 38:
        raise DataError(path, None, "adcode", f"{len(df)} districts, expected 38")
    sizes = df["group"].value_counts().to_dict()
    for g, n in GROUP_SIZES.items():
        if sizes.get(g, 0) != n:
            raise DataError(path, None, "group", f"group {g} has {sizes.get(g, 0)} members, expected {n}")
    for row, line in zip(df.itertuples(), lines):
        if (row.platform_stage == "none") != (row.platform_2022 == ""):
            raise DataError(path, line, "platform_2022", "platform name and platform_stage disagree",
                            "empty name with stage 'none', or a name with another stage")
    return df.sort_values("adcode").reset_index(drop=True)


def district_identity(data_dir=None) -> pd.DataFrame:
    """The 38 districts' identity columns (districts.csv, validated), sorted by adcode."""
    return _identity(str(_dir(data_dir) / "districts.csv")).copy()


def _codes(data_dir) -> frozenset[str]:
    return frozenset(str(c) for c in _identity(str(_dir(data_dir) / "districts.csv"))["adcode"])


def _read_indicator_rows(path: Path, codes: frozenset[str]):
    """Rows of a district-indicator file (adcode, indicator, year, value, unit, status, source),
    each (district, indicator, year) at most once."""
    schema: SchemaT = {
        "adcode": _adcode(codes), "indicator": _str(), "year": _int(2000, 2030),
        "value": _float(lo=0.0), "unit": _str(), "status": _enum(STATUSES), "source": _str(),
    }
    df, lines = read_csv(path, schema, key=("adcode", "indicator", "year"))
    for row, line in zip(df.itertuples(index=False), lines):
        if row.indicator in POSITIVE_INDICATORS and not row.value > 0:
            raise DataError(path, line, "value", f"{row.indicator} of {row.adcode} in {row.year} is {row.value:g}; "
                            "the model divides by it", "numbers > 0")
    return df, lines


# ----------------------------------------------------------------------------- indicators
def _indicators(path_str: str, codes: frozenset[str]) -> pd.DataFrame:
    return _indicators_cached(path_str, codes, stamp(Path(path_str)))


@functools.lru_cache(maxsize=16)
def _indicators_cached(path_str: str, codes: frozenset[str], stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    df, lines = _read_indicator_rows(path, codes)
    for row, line in zip(df.itertuples(index=False), lines):
        if row.indicator in INTEGER_INDICATORS and float(row.value) != int(row.value):
            raise DataError(path, line, "value", f"{row.indicator} must be a whole number, got {row.value}", "integers")
        if row.indicator == "innovation_tier" and row.value not in (1, 2, 3):
            raise DataError(path, line, "value", f"innovation_tier {row.value}", "1, 2, 3")
    # completeness: each district has each required indicator in its year
    for ind, year in DISTRICT_INDICATORS.items():
        have = set(df.loc[(df.indicator == ind) & (df.year == year), "adcode"])
        missing = sorted(int(c) for c in codes if int(c) not in have)
        if missing:
            raise DataError(path, None, "indicator", f"{ind} ({year}) missing for adcodes {missing[:5]}{'…' if len(missing) > 5 else ''}",
                            "one row per district")
    # totals
    for (ind, year), (total, tol) in CITY_TOTALS.items():
        sub = df[(df.indicator == ind) & (df.year == year)]
        if sub.empty:
            continue
        s = float(sub["value"].sum())
        if abs(s - total) > tol + 1e-9:
            raise DataError(path, None, "value", f"{ind} {year} sums to {s:g}, published city total is {total:g}",
                            f"sum within ±{tol:g}")
    # high-tech <= tech-based per district and year
    for year in sorted(set(df.loc[df.indicator == "high_tech_enterprises", "year"])):
        t = df[(df.indicator == "tech_enterprises") & (df.year == year)].set_index("adcode")["value"]
        h = df[(df.indicator == "high_tech_enterprises") & (df.year == year)].set_index("adcode")["value"]
        bad = [c for c in h.index if c in t.index and h[c] > t[c]]
        if bad:
            line = next(n for r, n in zip(df.itertuples(index=False), lines)
                        if (r.adcode, r.indicator, r.year) == (bad[0], "high_tech_enterprises", year))
            raise DataError(path, line, "value", f"high_tech_enterprises exceeds tech_enterprises for {bad[0]} in {year}",
                            "high_tech_enterprises <= tech_enterprises")
    df["adcode"] = df["adcode"].astype(int)
    return df


def load_indicators(data_dir=None) -> pd.DataFrame:
    """The long indicator table (adcode, indicator, year, value, unit, status, source)."""
    d = _dir(data_dir)
    return _indicators(str(d / "district_indicators.csv"), _codes(d)).copy()


def provenance(indicator: str, adcode: int | str, year: int = 2022, data_dir=None) -> dict:
    """Status and source of one district value; falls back to the latest year <= ``year``."""
    df = load_indicators(data_dir)
    sub = df[(df.indicator == indicator) & (df.adcode == int(adcode)) & (df.year <= year)]
    if sub.empty:
        raise KeyError(f"no {indicator!r} value for adcode {adcode} in or before {year}")
    row = sub.sort_values("year").iloc[-1]
    return {"status": row["status"], "source": row["source"], "year": int(row["year"]),
            "value": float(row["value"]), "unit": row["unit"]}


# ----------------------------------------------------------------------------- boundaries
def _boundaries(path_str: str, codes: frozenset[str]) -> str:
    return _boundaries_cached(path_str, codes, stamp(Path(path_str)))


@functools.lru_cache(maxsize=16)
def _boundaries_cached(path_str: str, codes: frozenset[str], stamp: tuple) -> str:
    path = Path(path_str)
    gj = read_json(path)
    feats = gj.get("features") if isinstance(gj, dict) else None
    if not isinstance(gj, dict) or gj.get("type") != "FeatureCollection" or not isinstance(feats, list):
        raise DataError(path, None, "type", "not a GeoJSON FeatureCollection", '{"type": "FeatureCollection", "features": [...]}')
    if "license" not in gj:
        raise DataError(path, None, "license", "licence attribution missing")
    seen = set()
    for i, f in enumerate(feats, start=1):
        where = f"feature {i}"
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            raise DataError(path, None, f"{where}.properties", "missing properties", "a GeoJSON Feature with properties")
        for key in ("adcode", "name_zh", "rep_lon", "rep_lat", "source"):
            if key not in props:
                raise DataError(path, None, f"{where}.properties.{key}", "missing property")
        code = str(props["adcode"])
        if code not in codes:
            raise DataError(path, None, f"{where}.properties.adcode", f"unknown adcode {short(code)}", "adcodes in districts.csv")
        if code in seen:
            raise DataError(path, None, f"{where}.properties.adcode", f"duplicate adcode {code}")
        seen.add(code)
        for key, (lo, hi) in (("rep_lon", LON_RANGE), ("rep_lat", LAT_RANGE)):
            if not (is_number(props[key]) and lo < props[key] < hi):
                raise DataError(path, None, f"{where}.properties.{key}", f"representative point {short(props[key])} "
                                "is not a number inside Chongqing", f"numbers from {lo} to {hi}")
        check_polygons(path, f"{where}.geometry", f.get("geometry"), LON_RANGE, LAT_RANGE)
    if seen != set(codes):
        raise DataError(path, None, "adcode", f"missing features for {sorted(set(codes) - seen)}")
    return json.dumps(gj, ensure_ascii=False)


LON_RANGE, LAT_RANGE = (105.0, 111.0), (28.0, 33.0)   # a box around Chongqing


def load_boundaries(data_dir=None) -> dict:
    """The 38 simplified district polygons as a GeoJSON dict (properties adcode, name_zh, rep_lon, rep_lat)."""
    d = _dir(data_dir)
    return json.loads(_boundaries(str(d / "boundaries.geojson"), _codes(d)))


# ----------------------------------------------------------------------------- districts view
def load_districts(data_dir=None, year: int = 2022) -> pd.DataFrame:
    """38 rows sorted by adcode: identity columns + one column per 2022 indicator + lon/lat.

    ``year=2017`` gives the end-2017 state of the hindcast instead: firm stocks of 2017
    (district_indicators.csv), R&D, GDP, fiscal S&T money, industrial output, research units and
    high-tech zones of 2017 (hindcast_2017.csv); population (2020 census) and the innovation
    tier (2022, the only published one) are shared with 2022.
    """
    if year not in START_YEARS:
        raise DataError(_dir(data_dir) / "district_indicators.csv", None, "year",
                        f"no district start state for {year}", ", ".join(map(str, START_YEARS)))
    d = _dir(data_dir)
    # Every model builds this view; ensembles and calibration build thousands of models, so the
    # validated view is kept until one of its files changes.
    stamps = tuple(stamp(d / f) for f in ("districts.csv", "district_indicators.csv", "boundaries.geojson",
                                           "hindcast_2017.csv", "platforms.csv"))
    return _districts_view(str(d), year, stamps).copy()


@functools.lru_cache(maxsize=8)
def _districts_view(dir_str: str, year: int, stamps: tuple) -> pd.DataFrame:
    ident = _load_districts_2022(dir_str)
    if year == 2022:
        return _with_platforms(ident, Path(dir_str), year)
    d = Path(dir_str)
    ind = load_indicators(d)
    hind = load_hindcast_indicators(d)
    for name in DISTRICT_INDICATORS:
        if name in ("population", "innovation_tier"):
            continue
        src = ind if name in ("tech_enterprises", "high_tech_enterprises") else hind
        s = src[(src.indicator == name) & (src.year == year)].set_index("adcode")["value"]
        col = ident["adcode"].map(s)
        ident[name] = col.astype("int64") if name in INTEGER_INDICATORS else col.astype(float)
    zones = hind[hind.indicator == "hightech_zone"].set_index("adcode")["value"]
    levels = ("none", "municipal", "national")
    ident["hightech_zone"] = [levels[int(zones[c])] if c in zones.index else z
                              for c, z in zip(ident["adcode"], ident["hightech_zone"])]
    return _with_platforms(ident, d, year)


def load_platforms(data_dir=None) -> pd.DataFrame:
    """The district S&T platforms at end-2022 (platforms.csv): adcode, platform, kind, level,
    stage (existing, under_construction, candidate), year (of establishment, blank if not
    found), status, source, wording; plus ``counts`` (the kind counts for 一区（县）一平台)."""
    d = _dir(data_dir)
    path = d / "platforms.csv"
    return _platforms_cached(str(path), _codes(d), stamp(path), stamp(d / "districts.csv")).copy()


@functools.lru_cache(maxsize=8)
def _platforms_cached(path_str: str, codes: frozenset[str], stamp: tuple, ident_stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    schema: SchemaT = {"adcode": _adcode(codes), "platform": _str(), "kind": _enum(PLATFORM_KINDS),
                       "level": _enum(PLATFORM_LEVELS), "stage": _enum(PLATFORM_STAGES_2022),
                       "year": _int(1949, 2022, required=False), "status": _enum(STATUSES), "source": _str(),
                       "wording": _str()}
    df, lines = read_csv(path, schema, key=("adcode", "platform"))
    zones = _identity(str(path.parent / "districts.csv")).set_index("adcode")["hightech_zone"]
    for row, line in zip(df.itertuples(index=False), lines):
        # The zone level the model starts from is districts.csv's; the inventory must agree.
        if row.kind == "high_tech_zone" and row.stage == "existing" and zones[int(row.adcode)] != row.level:
            raise DataError(path, line, "level", f"{row.adcode} has a {row.level} high-tech zone here but "
                            f"'{zones[int(row.adcode)]}' in districts.csv", "the level districts.csv gives")
    df["adcode"] = df["adcode"].astype(int)
    df["counts"] = df["kind"].isin(PLATFORM_COUNTING_KINDS)
    return df


def _with_platforms(ident: pd.DataFrame, d: Path, year: int) -> pd.DataFrame:
    """Adds ``n_platforms`` (platforms that count for 一区（县）一平台, existing at the end of
    ``year``) and ``platform_building`` (one is under construction, none exists). A high-tech zone
    counts from the zone level of that year (the hindcast's zone history); other platforms from
    their year of establishment, a blank year counting as older."""
    pf = load_platforms(d)
    other = pf[pf["counts"] & (pf.kind != "high_tech_zone")]
    opened = pd.Series([y is None or y != y or y <= year for y in other["year"]], index=other.index, dtype=bool)
    existing = other[(other.stage == "existing") & opened]
    n = existing.groupby("adcode").size()
    building = set(other.loc[other.stage == "under_construction", "adcode"])
    ident["n_platforms"] = [int(n.get(c, 0)) + (z != "none") for c, z in zip(ident["adcode"], ident["hightech_zone"])]
    ident["platform_building"] = [k == 0 and c in building for c, k in zip(ident["adcode"], ident["n_platforms"])]
    return ident


START_YEARS = (2017, 2022)
HINDCAST_INDICATORS = {"gdp": 2017, "rd_expenditure": 2017, "fiscal_st_spending": 2017,
                       "industrial_output": 2017, "n_universities": 2017, "n_institutes": 2017}
HINDCAST_TOTALS = {("rd_expenditure", 2017): (361.0, 0.01)}


def load_hindcast_indicators(data_dir=None) -> pd.DataFrame:
    """The end-2017 district values a hindcast needs beyond the firm stocks (hindcast_2017.csv,
    same layout as district_indicators.csv; written by tools/estimate_hindcast.py)."""
    d = _dir(data_dir)
    path = d / "hindcast_2017.csv"
    return _hindcast_cached(str(path), _codes(d), stamp(path)).copy()


@functools.lru_cache(maxsize=8)
def _hindcast_cached(path_str: str, codes: frozenset[str], stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    df, lines = _read_indicator_rows(path, codes)
    for row, line in zip(df.itertuples(index=False), lines):
        if row.indicator == "hightech_zone" and row.value not in (0, 1, 2):
            raise DataError(path, line, "value", f"hightech_zone level {row.value}", "0 (none), 1 (municipal), 2 (national)")
    for ind, year in HINDCAST_INDICATORS.items():
        have = set(df.loc[(df.indicator == ind) & (df.year == year), "adcode"])
        missing = sorted(int(c) for c in codes if int(c) not in have)
        if missing:
            raise DataError(path, None, "indicator", f"{ind} ({year}) missing for adcodes {missing[:5]}", "one row per district")
    for (ind, year), (total, tol) in HINDCAST_TOTALS.items():
        s = float(df.loc[(df.indicator == ind) & (df.year == year), "value"].sum())
        if abs(s - total) > tol + 1e-9:
            raise DataError(path, None, "value", f"{ind} {year} sums to {s:g}, the city total is {total:g}", f"sum within ±{tol:g}")
    df["adcode"] = df["adcode"].astype(int)
    return df


ENV_SPECIAL = ("super_deduction_registered", "super_deduction_other", "super_deduction_manufacturing",
               "fiscal_st_city", "gdp_city")


def load_policy_environment(data_dir=None) -> pd.DataFrame:
    """What was in force each year of the hindcast (policy_environment.csv): year, key, value
    (text), unit, status, source. Keys are dotted parameter keys (e.g. ``paired.enabled``),
    ``zone.<adcode>`` (a high-tech zone's level from that year) or one of ENV_SPECIAL."""
    d = _dir(data_dir)
    path = d / "policy_environment.csv"
    return _env_cached(str(path), _codes(d), stamp(path)).copy()


@functools.lru_cache(maxsize=8)
def _env_cached(path_str: str, codes: frozenset[str], stamp: tuple) -> pd.DataFrame:
    from ..params.parameters import Params, ParamError  # the data layer otherwise does not need the model's parameters
    path = Path(path_str)
    schema: SchemaT = {"year": _int(2017, 2022), "key": _str(), "value": _str(required=False), "unit": _str(),
                       "status": _enum(STATUSES), "source": _str()}
    df, lines = read_csv(path, schema, key=("year", "key"))
    for row, line in zip(df.itertuples(index=False), lines):
        if row.key.startswith("zone."):
            if row.key[5:] not in codes or row.value not in HIGHTECH:
                raise DataError(path, line, "key", f"bad zone change {short(row.key)}={short(row.value)}",
                                "zone.<adcode> with none, municipal or national")
        elif row.key in ENV_SPECIAL:
            try:
                _float(lo=0.0)(row.value)
            except ValueError as exc:
                problem, _, allowed = str(exc).partition("|")
                raise DataError(path, line, "value", problem, allowed) from None
        else:
            try:
                Params().with_overrides(**{row.key.replace(".", "__"): env_value(row.key, row.value)})
            except (ParamError, KeyError, ValueError, TypeError, AttributeError) as exc:
                raise DataError(path, line, "key", f"{short(row.key)}={short(row.value)}: {exc}",
                                "a dotted Params key with a valid value, zone.<adcode>, or " + ", ".join(ENV_SPECIAL)) from None
    for key in ENV_SPECIAL:
        years = set(df.loc[df.key == key, "year"])
        if years != set(range(2017, 2023)):
            raise DataError(path, None, "key", f"{key} needs one row per year 2017–2022, has {sorted(years)}")
    return df


def env_value(key: str, text: str):
    """A policy-environment value in the type its parameter expects."""
    from ..params.parameters import Params
    node = Params()
    for part in key.split("."):
        if not (dataclasses.is_dataclass(node) and part in {f.name for f in dataclasses.fields(node)}):
            raise KeyError(f"unknown parameter key {short(key)}")
        node = getattr(node, part)
    if isinstance(node, bool):
        if text not in ("True", "False"):
            raise ValueError("expected True or False")
        return text == "True"
    if isinstance(node, tuple):
        return tuple(x for x in text.split("|") if x)
    if isinstance(node, int):
        return int(text) if len(text) <= 30 else int("x")   # Python refuses int() of 4,300+ digits anyway
    if isinstance(node, float):
        return float(text)
    return text


def _load_districts_2022(data_dir=None) -> pd.DataFrame:
    d = _dir(data_dir)
    ident = _identity(str(d / "districts.csv")).copy()
    ind = load_indicators(d)
    for name, year in DISTRICT_INDICATORS.items():
        s = ind[(ind.indicator == name) & (ind.year == year)].set_index("adcode")["value"]
        col = ident["adcode"].map(s)
        ident[name] = col.astype("int64") if name in INTEGER_INDICATORS else col.astype(float)
    gj = load_boundaries(d)
    pts = {int(f["properties"]["adcode"]): (f["properties"]["rep_lon"], f["properties"]["rep_lat"]) for f in gj["features"]}
    ident["lon"] = ident["adcode"].map(lambda c: float(pts[c][0]))
    ident["lat"] = ident["adcode"].map(lambda c: float(pts[c][1]))
    # regional R&D checks (published splits)
    path = d / "district_indicators.csv"
    rd20 = ind[(ind.indicator == "rd_expenditure") & (ind.year == 2020)].set_index("adcode")["value"]
    if not rd20.empty:
        grp = ident.set_index("adcode")["group"]
        blocks = {"metropolitan": rd20[grp[rd20.index].isin(["central_urban", "new_metropolitan"]).values].sum(),
                  "northeast": rd20[(grp[rd20.index] == "northeast").values].sum(),
                  "southeast": rd20[(grp[rd20.index] == "southeast").values].sum()}
        for k, v in RD_2020_SPLIT.items():
            if abs(blocks[k] - v) > RD_TOLERANCE:
                raise DataError(path, None, "value", f"2020 R&D of {k} sums to {blocks[k]:.3f}, published {v}",
                                f"within ±{RD_TOLERANCE}")
    share = 100 * ident.loc[ident.group == "central_urban", "rd_expenditure"].sum() / ident["rd_expenditure"].sum()
    if abs(share - RD_2022_CENTRAL_SHARE) > RD_SHARE_TOLERANCE:
        raise DataError(path, None, "value", f"central-urban R&D share 2022 is {share:.2f}%, published {RD_2022_CENTRAL_SHARE}%",
                        f"within ±{RD_SHARE_TOLERANCE} pp")
    return ident.reset_index(drop=True)


# The tables of actors and links beyond the district layer live in their own module; their
# names stay importable from here.
from .actors import DIRECTIONS, FIELDS, LEADING_FIRMS, PAIR_STATUSES, UNI_KINDS, load_city_history, load_district_history, load_industry_directions, load_leading_firms, load_paired_assistance, load_sichuan_chongqing, load_universities

__all__ = [
    "DATA_DIR", "DataError", "load_districts", "load_indicators", "provenance", "load_universities",
    "load_leading_firms", "load_industry_directions", "load_paired_assistance", "load_sichuan_chongqing",
    "load_city_history", "load_district_history", "load_boundaries", "load_hindcast_indicators", "load_policy_environment",
    "START_YEARS", "district_identity", "LEADING_FIRMS", "load_platforms",
]
