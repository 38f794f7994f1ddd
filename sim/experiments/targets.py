"""The policy's targets and how each is measured on a model run.

The default set is the 2025 targets T1–T6 of the 2022 guiding opinions (seed §一(三)), with T5
read as the seed means "新创建": counties entering the national innovative-county construction
list; ``policy_2025_acceptance`` reads T5 as counties passing the acceptance after construction.
The 2023 "double-doubling" plan's sets are stricter alternatives. T6 counts the districts that
host a platform of the kinds seed §(七) lists (``sim/data/platforms.csv``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.identity import DATA_DIR, REGIONS
from ..util.errors import KeyedError
from ..util.messages import clip, key_name, short


@dataclass(frozen=True)
class Target:
    id: str
    description: str
    indicator: str        # a city reporter, or a special measure named below
    threshold: float
    year: int
    unit: str = ""


TARGETS_FILE = DATA_DIR / "targets.toml"
RD_GROWTH_TARGET = 0.10    # T3: each district's R&D grows at least 10 %/yr on average
SPECIAL_MEASURES = ("districts_rd_cagr_10",)   # measured by measure() itself, not a city reporter
TARGET_YEARS = (2018, 2035)                    # years a run can reach (the horizon's range)
DEFAULT_SET = "policy_2025"
TARGET_KEYS = {"id": str, "description": str, "indicator": str, "threshold": float, "year": int, "unit": str}


# Every indicator the model reports is a count, an amount, a share or an index, none below zero:
# a threshold below zero would always be met (and one above an indicator's ceiling, never).
# Counts of the 38 districts (or of the counties among them) reach 38 at most; percentages 100;
# the Gini coefficient 1.
DISTRICT_COUNTS = frozenset({"districts_rd_cagr_10", "districts_with_platform", "tier1_districts", "tier3_districts",
                             "national_innovative_counties", "new_innovative_counties", "counties_in_construction",
                             "new_innovative_counties_listed"})
N_DISTRICTS = 38
PERCENT_INDICATORS = frozenset({"rd_intensity", "hightech_zone_output_share", "clusters_rd_share",
                                "clusters_tech_share", "core_cluster_link_share", "city_index"})
UNIT_INDICATORS = frozenset({"rd_intensity_gini"})


def threshold_range(indicator: str) -> tuple[float, float]:
    """The thresholds a target of ``indicator`` may have: from 0 to the indicator's ceiling."""
    hi = (N_DISTRICTS if indicator in DISTRICT_COUNTS else 100.0 if indicator in PERCENT_INDICATORS
          else 1.0 if indicator in UNIT_INDICATORS else math.inf)
    return 0.0, hi


# The names of the target indicators in both languages, and the units' Chinese measure words: the
# report, the app and the discovery's sentences say them alike.
INDICATOR_NAMES = {
    "tech_enterprises": ("科技型企业", "tech-based SMEs"),
    "high_tech_enterprises": ("高新技术企业", "high-tech enterprises"),
    "districts_rd_cagr_10": ("研发年均增长≥10%的区县", "districts with R&D growth ≥ 10 %/yr"),
    "hightech_zone_output_share": ("高新区工业产值占比", "high-tech zones' share of industrial output"),
    "new_innovative_counties": ("新增通过验收的国家创新型县", "new national innovative counties (accepted)"),
    "new_innovative_counties_listed": ("新创建国家创新型县（列入建设名单）", "new national innovative counties (listed for construction)"),
    "districts_with_platform": ("建成特色平台的区县", "districts with a characteristic platform"),
}
UNIT_ZH = {"firms": "家", "districts": "个", "counties": "个", "%": "%"}
# The regions of the regional city reporters ("<indicator>_<region>", sim/core/metrics.py): their
# names in both languages, long (in a sentence) and short (in a table's row or column).
REGION_NAMES = {"central": ("中心城区", "central urban districts", "central"),
                "new_metro": ("主城新区", "new metropolitan districts", "new metro"),
                "clusters": ("两群", "two clusters", "two clusters"),
                "northeast": ("渝东北", "northeast cluster", "northeast"),
                "southeast": ("渝东南", "southeast cluster", "southeast")}
REGIONAL_NAMES = {"tech_enterprises": ("科技型企业", "tech-based SMEs"),
                  "high_tech_enterprises": ("高新技术企业", "high-tech enterprises"),
                  "rd_expenditure": ("研发经费", "R&D spending")}
REGIONAL_INDICATORS = {f"{base}_{region}": (base, region) for region in REGIONS for base in REGIONAL_NAMES}
INDICATOR_NAMES.update({k: (REGION_NAMES[r][0] + REGIONAL_NAMES[b][0], f"{REGIONAL_NAMES[b][1]} in the {REGION_NAMES[r][1]}")
                        for k, (b, r) in REGIONAL_INDICATORS.items()})


def regional(indicator: str) -> tuple[str, str] | None:
    """``(indicator of the city, region)`` of a regional indicator, e.g. ``("tech_enterprises",
    "central")`` of ``tech_enterprises_central``; None for any other."""
    return REGIONAL_INDICATORS.get(indicator)


class TargetError(KeyedError):
    """A target file that cannot be used; the message names the file, the key and what is allowed."""


def load_target_sets(path: Path = TARGETS_FILE) -> dict[str, tuple[Target, ...]]:
    """Target sets are data: one TOML table per set (a title, its source, an array of targets).
    Every indicator must be one the model reports, so a typo fails here, not after the
    simulation, and every threshold one the indicator can reach and miss (:func:`threshold_range`)."""
    from ..core.metrics import CITY_REPORTERS
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as e:
        raise TargetError(path, "(file)", f"cannot be read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise TargetError(path, "(file)", f"not UTF-8 text: {e}") from None
    except (ValueError, RecursionError) as e:      # TOMLDecodeError is a ValueError
        raise TargetError(path, "(file)", f"not valid TOML: {clip(str(e) or 'nested too deeply', 200)}") from None
    if not raw:
        raise TargetError(path, "(file)", f"holds no target sets; each is a table with an array of targets, e.g. [{DEFAULT_SET}]")
    indicators = sorted(CITY_REPORTERS) + list(SPECIAL_MEASURES)
    sets, bases = {}, {}
    for name, table in raw.items():
        if not isinstance(table, dict) or not isinstance(table.get("targets"), list) or not table["targets"]:
            raise TargetError(path, name, "a target set is a table with a non-empty array of [[<set>.targets]]")
        extra = sorted(set(table) - {"title", "source", "targets", "extends"})
        if extra:
            raise TargetError(path, f"{name}.{clip(extra[0], 80)}", "unknown key; allowed: title, source, extends, targets")
        for key, what in (("title", "what the set is"), ("source", "the document the targets come from (provenance)")):
            if not (isinstance(table.get(key), str) and table[key].strip()):
                raise TargetError(path, f"{name}.{key}", f"expected a non-empty string ({what}), got "
                                  f"{short(table[key]) if key in table else 'nothing'}")
        if "extends" in table:
            bases[name] = table["extends"]
        targets = []
        for i, t in enumerate(table["targets"]):
            where = f"{name}.targets[{i}]"
            if not isinstance(t, dict):
                raise TargetError(path, where, f"expected a table of {', '.join(TARGET_KEYS)}, got {short(t)}")
            unknown = sorted(set(t) - set(TARGET_KEYS))
            if unknown:
                raise TargetError(path, f"{where}.{key_name(unknown[0])}", f"unknown key; allowed: {', '.join(TARGET_KEYS)}")
            for key, typ in TARGET_KEYS.items():
                if key not in t:
                    if key == "unit":
                        continue
                    raise TargetError(path, f"{where}.{key}", "missing")
                v = t[key]
                ok = (isinstance(v, str) and v.strip() if typ is str else
                      isinstance(v, int) and not isinstance(v, bool) if typ is int else
                      isinstance(v, (int, float)) and not isinstance(v, bool) and _finite(v))
                if not ok:
                    kind = {str: "a non-empty string", int: "an integer", float: "a finite number"}[typ]
                    raise TargetError(path, f"{where}.{key}", f"expected {kind}, got {short(v)}")
            if t["indicator"] not in indicators:
                raise TargetError(path, f"{where}.indicator", f"{short(t['indicator'])} is not an indicator the model "
                                  f"reports; choose one of: {', '.join(indicators)}")
            lo, hi = threshold_range(t["indicator"])
            if not lo <= t["threshold"] <= hi:
                raise TargetError(path, f"{where}.threshold", f"{short(t['threshold'])} is out of range for "
                                  f"{t['indicator']} (never below 0{'' if math.isinf(hi) else f', at most {hi:g}'}), so the "
                                  f"target would always or never be met; allowed {lo:g} to {'any finite number' if math.isinf(hi) else f'{hi:g}'}")
            if not TARGET_YEARS[0] <= t["year"] <= TARGET_YEARS[1]:
                raise TargetError(path, f"{where}.year", f"{short(t['year'])} is out of range; allowed "
                                  f"{TARGET_YEARS[0]} to {TARGET_YEARS[1]}")
            if any(x.id == t["id"] for x in targets):
                raise TargetError(path, f"{where}.id", f"{short(t['id'])} appears twice in the set {name!r}")
            targets.append(Target(t["id"], t["description"], t["indicator"], float(t["threshold"]), t["year"],
                                  t.get("unit", "")))
        sets[name] = tuple(targets)
    if DEFAULT_SET not in sets:
        raise TargetError(path, DEFAULT_SET, "the default target set of every scenario is missing")
    for name, base in bases.items():
        if not isinstance(base, str) or base not in sets or base in bases:
            raise TargetError(path, f"{name}.extends", f"{short(base)} is not a set of this file without an "
                              f"'extends' of its own; choose one of: {', '.join(s for s in sets if s not in bases)}")
        own = {x.id: x for x in sets[name]}
        sets[name] = tuple([own.pop(x.id, x) for x in sets[base]] + list(own.values()))
    return sets


def _finite(x) -> bool:
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


class _TargetSets(Mapping):
    """The target sets of targets.toml, read and checked when first used: a damaged file is then
    a clear error of the command that needs it, not a traceback of every import."""

    def __init__(self, path: Path):
        self.path, self._sets = path, None

    def _get(self) -> dict:
        if self._sets is None:
            self._sets = load_target_sets(self.path)
        return self._sets

    def __getitem__(self, name):
        return self._get()[name]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())


TARGET_SETS: Mapping[str, tuple[Target, ...]] = _TargetSets(TARGETS_FILE)
_NAMED = {"POLICY_2025": "policy_2025", "POLICY_2025_ACCEPTANCE": "policy_2025_acceptance",
          "DOUBLE_DOUBLING_2025": "double_doubling_2025",
          "DOUBLE_DOUBLING_2027": "double_doubling_2027"}


def __getattr__(name):
    # POLICY_2025 and the other named sets resolve on first use (see _TargetSets).
    if name in _NAMED:
        try:
            return TARGET_SETS[_NAMED[name]]
        except KeyError:
            raise TargetError(TARGETS_FILE, _NAMED[name], "this target set is missing") from None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def rd_growth_rate(rd_now, rd_start, years):
    """Average yearly growth of R&D over ``years`` (arrays or numbers); nan where the start is
    not positive."""
    rd_now, rd_start = np.asarray(rd_now, float), np.asarray(rd_start, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rd_start > 0, (rd_now / rd_start) ** (1.0 / years) - 1.0, np.nan)


def meets_rd_growth(rd_now, rd_start, years):
    """T3's test of a district: its R&D grew at least ``RD_GROWTH_TARGET`` a year on average.
    The targets, the app and the report all count T3 with this."""
    return rd_growth_rate(rd_now, rd_start, years) >= RD_GROWTH_TARGET


def rd_cagr(history: dict, start: int, end: int) -> float:
    if start not in history or end not in history:
        return float("nan")
    return float(rd_growth_rate(history[end], history[start], end - start))


def measure(model, target: Target, year: int | None = None, frame=None) -> float:
    """The value of a target's indicator at the end of ``year`` (default: the target year) —
    from the model's collected Q4 data, so it can be asked after the run has gone past it.
    ``frame``: the model's city data frame, when the caller already has it."""
    year = target.year if year is None else year
    if target.indicator == "districts_rd_cagr_10":
        start = model.params.start_year
        hist = [d.rd_history for d in model.district_list]
        if year == start:
            return 0.0           # no growth to measure yet
        if any(year not in h for h in hist):
            return float("nan")
        return float(np.sum(meets_rd_growth([h[year] for h in hist], [h[start] for h in hist], year - start)))
    df = model.datacollector.get_model_vars_dataframe() if frame is None else frame
    rows = df[(df["year"] == year) & (df["quarter"] == 4)]
    if rows.empty:
        return float("nan")
    return float(rows[target.indicator].iloc[-1])


def city_rd_cagr(model, year: int) -> float:
    start = model.params.start_year
    total = {y: sum(d.rd_history.get(y, np.nan) for d in model.district_list) for y in (start, year)}
    return rd_cagr(total, start, year)


def scoreboard(model, targets=None) -> list[dict]:
    """Each target's value now (or at its year, if reached) and whether it is met (default:
    the 2025 targets T1–T6)."""
    targets = TARGET_SETS[DEFAULT_SET] if targets is None else targets
    rows = []
    for t in targets:
        year = min(t.year, model.year if model.quarter == 4 else model.year - 1)
        value = measure(model, t, year)
        met = bool(value >= t.threshold) if np.isfinite(value) else False
        rows.append(dict(target=t.id, description=t.description, threshold=t.threshold, unit=t.unit,
                         year=year, value=value, met=met))
    return rows
