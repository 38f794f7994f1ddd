"""Every number printed as what it is, in the terminal and the report: counts as whole numbers,
shares and amounts with their decimals, a probability's change in percentage points, each figure
with its unit and the short name of what it measures.

A median over an even number of runs can fall halfway between two counts (the middle two runs
differ): it is printed with its half ("22.5"), never rounded to a count no run had. A band's ends
are interpolated percentiles; for a count they are printed rounded outward to whole numbers, so
the printed band still holds the runs the interpolated one holds.
"""

from __future__ import annotations

import math

from ..experiments.targets import DISTRICT_COUNTS, PERCENT_INDICATORS, REGION_NAMES, REGIONAL_INDICATORS, regional

# Units a target may declare (sim/data/targets.toml) that count things.
COUNT_UNITS = frozenset({"firms", "districts", "counties", "enterprises", "platforms", "count"})
# Short names of the target indicators, for a table's row (the long ones are text.INDICATOR_NAMES).
SHORT_NAMES = {
    "tech_enterprises": ("科技型企业", "tech-based SMEs"),
    "high_tech_enterprises": ("高新技术企业", "high-tech enterprises"),
    "districts_rd_cagr_10": ("研发年增≥10%的区县", "districts R&D ≥ +10 %/yr"),
    "hightech_zone_output_share": ("高新区产值占比", "zones' share of output"),
    "new_innovative_counties": ("新增创新型县（验收）", "new innov. counties (accepted)"),
    "new_innovative_counties_listed": ("新创建创新型县（名单）", "new innov. counties (listed)"),
    "districts_with_platform": ("有平台的区县", "districts with a platform"),
    "rd_expenditure": ("研发经费", "R&D spending"),
}
# A region's indicator: the city indicator's short name and the region's ("tech-based SMEs, central").
SHORT_NAMES.update({k: (REGION_NAMES[r][0] + SHORT_NAMES[b][0], f"{SHORT_NAMES[b][1]}, {REGION_NAMES[r][2]}")
                    for k, (b, r) in REGIONAL_INDICATORS.items()})


def is_count(target=None, indicator: str | None = None, unit: str | None = None) -> bool:
    """Whether a target's (or an indicator's) values are counts of things."""
    if target is not None:
        indicator, unit = target.indicator, target.unit
    if unit == "%" or indicator in PERCENT_INDICATORS:
        return False
    indicator = (regional(indicator) or (indicator,))[0] if indicator else indicator
    return unit in COUNT_UNITS or indicator in DISTRICT_COUNTS or bool(indicator and indicator.endswith("_enterprises"))


def unit_of(target) -> str:
    """A target's unit as printed beside its figures ("%" for a share)."""
    if target is None:
        return ""
    if target.unit:
        return target.unit
    return "%" if target.indicator in PERCENT_INDICATORS else ""


def short_name(target, lang: str = "en") -> str:
    """A target's short name: its indicator's, else the indicator's own name in words."""
    names = SHORT_NAMES.get(target.indicator)
    if names:
        return names[0 if lang == "zh" else 1]
    return target.indicator.replace("_", " ")


def missing(x) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def whole(x: float) -> bool:
    """A whole number, up to the rounding of a count scaled up from a sample of the firms."""
    return abs(x - round(x)) <= 1e-6 * max(1.0, abs(x))


def value(x, count: bool = False, digits: int = 1) -> str:
    """One figure: a count whole ("53", "22.5" when a median falls between two counts), anything
    else with ``digits`` decimals below 100 and none from 100."""
    if missing(x):
        return "—"
    x = float(x)
    if count:
        return f"{x:,.0f}" if whole(x) else f"{x:,.1f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def threshold(x) -> str:
    """A target's threshold as the policy states it: whole when whole ("30", "45,000")."""
    if missing(x):
        return "—"
    return f"{float(x):,.0f}" if whole(float(x)) else f"{float(x):,.1f}"


def band(lo, hi, count: bool = False, digits: int = 1, sep: str = " – ") -> str:
    """A 5–95 % band; a count's ends rounded outward to whole numbers."""
    if count and not missing(lo) and not missing(hi):
        lo, hi = math.floor(float(lo) + 1e-9), math.ceil(float(hi) - 1e-9)
    return value(lo, count, digits) + sep + value(hi, count, digits)


def with_unit(text: str, unit: str) -> str:
    if not unit or text == "—":
        return text
    return f"{text} %" if unit == "%" else f"{text} {unit}"


def difference(x, reference_scale: float, digits: int | None = None) -> str:
    """A signed (mean) difference: whole from 100 of the reference's scale, else two decimals."""
    if missing(x):
        return "—"
    digits = (2 if abs(reference_scale) < 100 else 0) if digits is None else digits
    return f"{float(x):+,.{digits}f}"


def points(p) -> str:
    """A change of probability (a share, e.g. 0.25) in percentage points: "+25 pp"."""
    return "—" if missing(p) else f"{100 * float(p):+.0f} pp"


def diff_unit(target) -> str:
    """The unit of a difference of a target's values: a share's difference is in points."""
    u = unit_of(target)
    return "pts of %" if u == "%" else u
