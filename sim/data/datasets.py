"""Loading and validation of the real-data layer in ``sim/data/``.

Every loader takes an optional ``data_dir`` (default :data:`DATA_DIR`) and returns a fresh
pandas object. Files are read through :mod:`sim.data.tables`, so any damage raises
:class:`DataError` naming the file, the 1-based line number, the column and what is allowed;
this module adds what the project's tables must hold (38 districts, published totals, one
university row per counted university, ...). Provenance (status + source) lives in the files
themselves; see sim/data/README.md.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd

from ..util.messages import short
from .identity import STATUSES, adcodes, data_folder, district_identity
from .tables import (DataError, SchemaT, adcode as _adcode, chinese as _zh, enum as _enum, integer as _int, is_number,
                     label as _label, number as _float, prose as _prose, read_csv, read_json, stamp)

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
# The one unit each district indicator is given in (district_indicators.csv, hindcast_2017.csv):
# a value in another unit would be read as if it were in this one.
INDICATOR_UNITS = {"population": "persons", "gdp": "100m_yuan", "innovation_tier": "tier",
                   "tech_enterprises": "firms", "high_tech_enterprises": "firms", "rd_expenditure": "100m_yuan",
                   "fiscal_st_spending": "100m_yuan", "industrial_output": "100m_yuan", "n_universities": "count",
                   "n_institutes": "count", "hightech_zone": "level (0 none, 1 municipal, 2 national)"}
RD_TOLERANCE = 0.01  # 100m yuan, for the published regional R&D splits
RD_2020_SPLIT = {"metropolitan": 495.54, "northeast": 26.35, "southeast": 4.9}
RD_2022_CENTRAL_SHARE = 61.2  # percent, published to one decimal
RD_SHARE_TOLERANCE = 0.05  # percentage points


def _read_indicator_rows(path: Path, codes: frozenset[str], indicators):
    """Rows of a district-indicator file (adcode, indicator, year, value, unit, status, source),
    each (district, indicator, year) at most once, sorted by that key; ``indicators``: those the
    file may hold, each in its unit of INDICATOR_UNITS."""
    schema: SchemaT = {
        "adcode": _adcode(codes), "indicator": _enum(indicators), "year": _int(2000, 2030),
        "value": _float(lo=0.0), "unit": _label(), "status": _enum(STATUSES), "source": _prose(),
    }
    key = ("adcode", "indicator", "year")
    df, lines = read_csv(path, schema, key=key, order=key)
    for row, line in zip(df.itertuples(index=False), lines):
        if row.unit != INDICATOR_UNITS[row.indicator]:
            raise DataError(path, line, "unit", f"{short(row.unit)} for {row.indicator}", repr(INDICATOR_UNITS[row.indicator]))
        if row.indicator in POSITIVE_INDICATORS and not row.value > 0:
            raise DataError(path, line, "value", f"{row.indicator} of {row.adcode} in {row.year} is {row.value:g}; "
                            "the model divides by it", "numbers > 0")
        if row.indicator in INTEGER_INDICATORS and float(row.value) != int(row.value):
            raise DataError(path, line, "value", f"{row.indicator} must be a whole number, got {row.value}", "integers")
    return df, lines


# ----------------------------------------------------------------------------- indicators
def _indicators(path_str: str, codes: frozenset[str]) -> pd.DataFrame:
    return _indicators_cached(path_str, codes, stamp(Path(path_str)))


@functools.lru_cache(maxsize=16)
def _indicators_cached(path_str: str, codes: frozenset[str], stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    df, lines = _read_indicator_rows(path, codes, DISTRICT_INDICATORS)
    for row, line in zip(df.itertuples(index=False), lines):
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
    """The long indicator table (adcode, indicator, year, value, unit, status, source), sorted by
    its key (adcode, indicator, year) whatever the order of the file's lines."""
    d = data_folder(data_dir)
    return _indicators(str(d / "district_indicators.csv"), adcodes(d)).copy()


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
    path = Path(path_str)
    return _boundaries_cached(path_str, codes, stamp(path), stamp(path.parent / "districts.csv"))


@functools.lru_cache(maxsize=16)
def _boundaries_cached(path_str: str, codes: frozenset[str], stamp: tuple, ident_stamp: tuple) -> str:
    path = Path(path_str)
    gj = read_json(path)
    feats = gj.get("features") if isinstance(gj, dict) else None
    if not isinstance(gj, dict) or gj.get("type") != "FeatureCollection" or not isinstance(feats, list):
        raise DataError(path, None, "type", "not a GeoJSON FeatureCollection", '{"type": "FeatureCollection", "features": [...]}')
    if not (isinstance(gj.get("license"), str) and gj["license"].strip()):
        raise DataError(path, None, "license", "licence attribution missing", "a non-empty text naming the source and its licence")
    names = district_identity(path.parent).set_index("adcode")["name_zh"]
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
        if props["name_zh"] != names[int(code)]:
            raise DataError(path, None, f"{where}.properties.name_zh", f"{short(props['name_zh'])} for {code}",
                            f"{names[int(code)]!r}, the name of {code} in districts.csv")
        if not (isinstance(props["source"], str) and props["source"].strip()):
            raise DataError(path, None, f"{where}.properties.source", f"{short(props['source'])} is not a source",
                            "a non-empty text")
        for key, (lo, hi) in (("rep_lon", LON_RANGE), ("rep_lat", LAT_RANGE)):
            if not (is_number(props[key]) and lo < props[key] < hi):
                raise DataError(path, None, f"{where}.properties.{key}", f"representative point {short(props[key])} "
                                "is not a number inside Chongqing", f"numbers from {lo} to {hi}")
        check_polygons(path, f"{where}.geometry", f.get("geometry"), LON_RANGE, LAT_RANGE)
    if seen != set(codes):
        raise DataError(path, None, "adcode", f"missing features for {sorted(set(codes) - seen)}")
    gj["features"] = sorted(feats, key=lambda f: int(f["properties"]["adcode"]))
    return json.dumps(gj, ensure_ascii=False)


LON_RANGE, LAT_RANGE = (105.0, 111.0), (28.0, 33.0)   # a box around Chongqing


def check_polygons(path, where: str, geom, lon_range, lat_range) -> None:
    """A GeoJSON Polygon or MultiPolygon of rings of at least four [lon, lat] points inside the
    box (maps draw every point, so one bad point is an error here rather than a broken figure)."""
    kind = geom.get("type") if isinstance(geom, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise DataError(path, None, where, "geometry must be Polygon or MultiPolygon")
    coords = geom.get("coordinates")
    polygons = [coords] if kind == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise DataError(path, None, f"{where}.coordinates", "no polygons", "a list of rings of [lon, lat] points")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise DataError(path, None, f"{where}.coordinates", "a polygon is not a list of rings")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise DataError(path, None, f"{where}.coordinates", "a ring has fewer than four points",
                                "closed rings of at least four [lon, lat] points")
            for pt in ring:
                if not (isinstance(pt, list) and len(pt) >= 2 and is_number(pt[0]) and is_number(pt[1])
                        and lon_range[0] < pt[0] < lon_range[1] and lat_range[0] < pt[1] < lat_range[1]):
                    raise DataError(path, None, f"{where}.coordinates", f"point {short(pt)} is not [lon, lat] in the "
                                    "expected area", f"lon {lon_range[0]}–{lon_range[1]}, lat {lat_range[0]}–{lat_range[1]}")


def load_boundaries(data_dir=None) -> dict:
    """The 38 simplified district polygons as a GeoJSON dict (properties adcode, name_zh, rep_lon, rep_lat),
    the features sorted by adcode whatever their order in the file."""
    d = data_folder(data_dir)
    return json.loads(_boundaries(str(d / "boundaries.geojson"), adcodes(d)))


# ----------------------------------------------------------------------------- districts view
def load_districts(data_dir=None, year: int = 2022) -> pd.DataFrame:
    """38 rows sorted by adcode: identity columns + one column per 2022 indicator + lon/lat.

    ``year=2017`` gives the end-2017 state of the hindcast instead: firm stocks of 2017
    (district_indicators.csv), R&D, GDP, fiscal S&T money, industrial output, research units and
    high-tech zones of 2017 (hindcast_2017.csv); population (2020 census) and the innovation
    tier (2022, the only published one) are shared with 2022.
    """
    if year not in START_YEARS:
        raise DataError(data_folder(data_dir) / "district_indicators.csv", None, "year",
                        f"no district start state for {year}", ", ".join(map(str, START_YEARS)))
    d = data_folder(data_dir)
    # Every model builds this view; ensembles and calibration build thousands of models, so the
    # validated view is kept until one of its files changes.
    return _districts_view(str(d), year, view_stamps(d)).copy()


# The files the districts view is built from.
VIEW_FILES = ("districts.csv", "district_indicators.csv", "boundaries.geojson", "hindcast_2017.csv", "platforms.csv")


def view_stamps(data_dir=None) -> tuple:
    """The stamps of the files the districts view is read from: what a cache of anything derived
    from the view is keyed by."""
    d = data_folder(data_dir)
    return tuple(stamp(d / f) for f in VIEW_FILES)


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
    found), status, source, wording; plus ``counts`` (the kind counts for 一区（县）一平台). Sorted
    by the file's key (adcode, platform)."""
    d = data_folder(data_dir)
    path = d / "platforms.csv"
    return _platforms_cached(str(path), adcodes(d), stamp(path), stamp(d / "districts.csv")).copy()


@functools.lru_cache(maxsize=8)
def _platforms_cached(path_str: str, codes: frozenset[str], stamp: tuple, ident_stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    schema: SchemaT = {"adcode": _adcode(codes), "platform": _zh(), "kind": _enum(PLATFORM_KINDS),
                       "level": _enum(PLATFORM_LEVELS), "stage": _enum(PLATFORM_STAGES_2022),
                       "year": _int(1949, 2022, required=False), "status": _enum(STATUSES), "source": _prose(),
                       "wording": _prose()}
    df, lines = read_csv(path, schema, key=("adcode", "platform"), order=("adcode", "platform"))
    zones = district_identity(path.parent).set_index("adcode")["hightech_zone"]
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


def data_origin(start_year: int) -> int:
    """The district state a run with this ``start_year`` is built from: the latest of
    ``START_YEARS`` not after it (a start after 2022 replays the published years from 2022)."""
    return max(y for y in START_YEARS if y <= start_year)
HINDCAST_INDICATORS = {"gdp": 2017, "rd_expenditure": 2017, "fiscal_st_spending": 2017,
                       "industrial_output": 2017, "n_universities": 2017, "n_institutes": 2017}
HINDCAST_TOTALS = {("rd_expenditure", 2017): (361.0, 0.01)}


def load_hindcast_indicators(data_dir=None) -> pd.DataFrame:
    """The end-2017 district values a hindcast needs beyond the firm stocks (hindcast_2017.csv,
    same layout as district_indicators.csv; written by tools/estimate_hindcast.py), sorted by its
    key (adcode, indicator, year)."""
    d = data_folder(data_dir)
    path = d / "hindcast_2017.csv"
    return _hindcast_cached(str(path), adcodes(d), stamp(path)).copy()


@functools.lru_cache(maxsize=8)
def _hindcast_cached(path_str: str, codes: frozenset[str], stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    df, lines = _read_indicator_rows(path, codes, [*HINDCAST_INDICATORS, "hightech_zone"])
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


def _load_districts_2022(data_dir=None) -> pd.DataFrame:
    d = data_folder(data_dir)
    ident = district_identity(d)
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
