"""The data folder and the identity of its 38 districts (``districts.csv``): adcodes, names,
kinds, groups, zones, platforms' stages. Every other table of the data layer is checked against
these adcodes, so this module is the layer's ground floor."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from ..util.messages import short
from .tables import (DataError, SchemaT, adcode as _adcode, chinese as _zh, enum as _enum, integer as _int, latin as _latin,
                     prose as _prose, read_csv, stamp, text as _str)

DATA_DIR = Path(__file__).resolve().parent

STATUSES = frozenset({"verified", "derived", "estimated"})
GROUPS = ("central_urban", "new_metropolitan", "northeast", "southeast")
GROUP_SIZES = {"central_urban": 9, "new_metropolitan": 12, "northeast": 11, "southeast": 6}
# The regions the 2023 double-doubling plan gives its 2027 goals for (一区两群), each as the groups
# above it holds: 中心城区, 主城新区 (the two make up 主城都市区), 两群 (the two clusters together),
# and each cluster on its own (渝东北三峡库区城镇群, 渝东南武陵山区城镇群).
REGIONS = {"central": ("central_urban",), "new_metro": ("new_metropolitan",), "clusters": ("northeast", "southeast"),
           "northeast": ("northeast",), "southeast": ("southeast",)}
PLAN_REGIONS = ("central", "new_metro", "clusters")      # the plan's three: together the whole city, once
KINDS = frozenset({"district", "county", "autonomous_county"})
CORE_ZONES = frozenset({"", "西部（重庆）科学城", "两江协同创新区", "广阳湾智创生态城"})
HIGHTECH = frozenset({"none", "municipal", "national"})
PLATFORM_STAGES = frozenset({"none", "existing_upgrade", "under_construction", "bid"})
INNOVATIVE_COUNTY = frozenset({"none", "candidate", "national"})


def data_folder(data_dir) -> Path:
    return Path(data_dir) if data_dir is not None else DATA_DIR


def _status_cols(prefixes, statuses=STATUSES) -> SchemaT:
    out: SchemaT = {}
    for p in prefixes:
        out[f"{p}_status"] = _enum(statuses)
        out[f"{p}_source"] = _prose()
    return out


# ----------------------------------------------------------------------------- districts.csv
def _districts_schema() -> SchemaT:
    s: SchemaT = {
        "adcode": _adcode(None), "name_zh": _zh(), "short_zh": _zh(), "name_pinyin": _latin(),
        "kind": _enum(KINDS), "group": _enum(GROUPS),
    }
    s.update(_status_cols(["identity"]))
    s.update({"core_zone": _enum(CORE_ZONES)}); s.update(_status_cols(["core_zone"]))
    s.update({"hightech_zone": _enum(HIGHTECH)}); s.update(_status_cols(["hightech_zone"]))
    s.update({"platform_2022": _str(required=False), "platform_stage": _enum(PLATFORM_STAGES)})
    s.update(_status_cols(["platform"]))
    s.update({"innovative_county": _enum(INNOVATIVE_COUNTY)}); s.update(_status_cols(["innovative_county"]))
    s.update({"sichuan_border": _int(0, 1)}); s.update(_status_cols(["sichuan_border"]))
    s.update({"seed_mentions": _str(required=False), "seed_mentions_source": _prose()})
    return s


def _identity(path_str: str) -> pd.DataFrame:
    return _identity_cached(path_str, stamp(Path(path_str)))


@functools.lru_cache(maxsize=16)
def _identity_cached(path_str: str, stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    df, lines = read_csv(path, _districts_schema(), key=("adcode",), order=("adcode",))
    if len(df) != 38:
        raise DataError(path, None, "adcode", f"{len(df)} districts, expected 38")
    sizes = df["group"].value_counts().to_dict()
    for g, n in GROUP_SIZES.items():
        if sizes.get(g, 0) != n:
            raise DataError(path, None, "group", f"group {g} has {sizes.get(g, 0)} members, expected {n}")
    for row, line in zip(df.itertuples(), lines):
        if row.short_zh not in row.name_zh:
            raise DataError(path, line, "short_zh", f"{short(row.short_zh)} is not part of the name {short(row.name_zh)}",
                            "the name without its suffix (区, 县, 自治县), e.g. 渝中 for 渝中区")
        if (row.platform_stage == "none") != (row.platform_2022 == ""):
            raise DataError(path, line, "platform_2022", "platform name and platform_stage disagree",
                            "empty name with stage 'none', or a name with another stage")
    return df.sort_values("adcode").reset_index(drop=True)


def district_identity(data_dir=None) -> pd.DataFrame:
    """The 38 districts' identity columns (districts.csv, validated), sorted by adcode (the
    file's key), whatever the order of the file's lines."""
    return _identity(str(data_folder(data_dir) / "districts.csv")).copy()


def adcodes(data_dir) -> frozenset[str]:
    return frozenset(str(c) for c in _identity(str(data_folder(data_dir) / "districts.csv"))["adcode"])
