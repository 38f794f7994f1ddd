"""The city's published figures from 2023 on (``city_recent.csv``): what the forecast years have
already shown, each row with the *kind* of statement it is, so that an observation model
(:mod:`sim.experiments.observations`) can say how a simulated value is compared with it.

``city_history.csv`` holds the years up to 2022, which the calibration fits; this file holds
the later ones and is where next year's published rows are appended (one line each, same
columns). Columns: ``indicator, year, value, unit, status, kind, note, source``.

What a row may say (:data:`INDICATORS`, :data:`KINDS`, :data:`STATUSES`), checked on reading, a
:class:`~sim.data.tables.DataError` naming the file, line and column otherwise: years from
:data:`FIRST_YEAR` to :data:`LAST_YEAR` (earlier ones belong in ``city_history.csv``); each
indicator in its unit and with the kinds its nature allows (a stock is not a flow); counts whole,
percentages at most 100, stocks and yearly totals above zero; a ``partial_year`` row's note names
its period ("January–October", "by Oct" or "1—10月"), which gives the ``months`` column; one row
per (indicator, year, kind).
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd

from ..util.messages import short
from . import identity
from .tables import DataError, SchemaT, enum, integer, number, prose, read_csv, stamp, text

FILE = "city_recent.csv"
FIRST_YEAR = 2023   # city_history.csv ends with 2022, the last year the calibration fits
LAST_YEAR = 2100    # a sane bound: a four-digit typo (2203) is caught, any real year passes

# The project's statuses, and two this file needs: the figures of the forecast years are often
# first known as a preliminary estimate or only through a news summary, and an observation model
# must not treat those like a final bulletin figure.
STATUSES = identity.STATUSES | {"verified_preliminary", "secondary"}
STATUS_MEANING = {
    "verified": "a published final figure (source given)",
    "derived": "arithmetic on published figures (method in the note)",
    "estimated": "output of a documented model (method in the note)",
    "verified_preliminary": "a published figure the publisher calls preliminary (预计), before the final bulletin",
    "secondary": "published, but known only through a secondary report (a news summary, a paraphrase) "
                 "or stated as an expectation rather than a count",
}

# What each kind of statement says about the true quantity.
KINDS = {
    "level": "the year-end stock or the year's total, as finally published",
    "preliminary": "the year-end stock or the year's total, as a preliminary estimate",
    "expected": "an expectation of the year's value, stated before the final figure",
    "level_lower_bound": "the year-end stock or the year's total is above the value ('超', 'exceeded')",
    "expected_year_end_lower_bound": "a statement during the year that the year-end value is expected to pass "
                                     "the value ('有望突破')",
    "flow": "the year's gross additions (firms entering a register or a list), full year",
    "flow_lower_bound": "the year's gross additions are above the value",
    "partial_year": "gross additions from January to the month the note names",
    "event": "a dated event (a list published), not a quantity of the city",
}
LEVEL_KINDS = ("level", "preliminary", "expected", "level_lower_bound", "expected_year_end_lower_bound")
FLOW_KINDS = ("flow", "preliminary", "expected", "flow_lower_bound", "partial_year")
# The nature of an indicator decides which kinds it takes: stocks and yearly totals take the level
# kinds, gross additions the flow kinds, an event only 'event'.
NATURE_KINDS = {"stock": LEVEL_KINDS, "annual": LEVEL_KINDS, "flow": FLOW_KINDS, "event": ("event",)}
# indicator -> (unit, nature, meaning)
INDICATORS = {
    "tech_enterprises": ("firms", "stock", "科技型企业 on the register at year end"),
    "high_tech_enterprises": ("firms", "stock", "valid 高新技术企业 certificates at year end"),
    "tech_enterprises_added": ("firms", "flow", "firms newly entered in the 科技型企业 register (gross)"),
    "high_tech_enterprises_added": ("firms", "flow", "firms passing the year's 高新技术企业 review (新评审通过)"),
    "high_tech_enterprises_filed": ("firms", "flow", "certified firms filed (报备) with the ministry of S&T"),
    "specialised_smes_municipal_added": ("firms", "flow", "firms newly on the municipal 专精特新 SME list"),
    "rd_expenditure": ("100m_yuan", "annual", "全社会R&D经费, the year's total"),
    "rd_intensity": ("pct_gdp", "annual", "R&D spending / GDP"),
    "gdp": ("100m_yuan", "annual", "地区生产总值, the year's total"),
    "fiscal_st_spending": ("100m_yuan", "annual", "local general-budget S&T spending"),
    "innovation_index_city": ("pct", "annual", "重庆综合科技创新指数 of the year's data"),
    "national_innovative_county_list": ("counties", "event", "a national innovative-county construction list"),
}
COUNT_UNITS = frozenset({"firms", "counties"})
PERCENT_UNITS = frozenset({"pct", "pct_gdp"})

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
_PERIOD = re.compile(rf"\bjan(?:uary)?\s*[–—-]\s*{_MONTH}|\bby\s+(?:the\s+end\s+of\s+)?{_MONTH}|"
                     r"\b1\s*[–—-]\s*(\d{1,2})\s*月", re.I)
PERIOD_FORMS = "'January–October', 'by Oct' or '1—10月' in the note: the months from January the flow covers (1 to 11)"


def _year(v: str) -> int:
    try:
        return integer(FIRST_YEAR, LAST_YEAR)(v)
    except ValueError as exc:
        problem = str(exc).partition("|")[0]
        raise ValueError(f"{problem}|years {FIRST_YEAR} to {LAST_YEAR}; figures of {FIRST_YEAR - 1} and "
                         "earlier belong in city_history.csv") from None


def _schema() -> SchemaT:
    return {"indicator": enum(INDICATORS), "year": _year, "value": number(lo=0.0), "unit": enum(
        {u for u, _, _ in INDICATORS.values()}), "status": enum(STATUSES), "kind": enum(KINDS),
            "note": text(required=False), "source": prose()}


def period_months(note: str) -> int | None:
    """The months from January a partial-year note names (10 for "January–October" or "by Oct");
    None when it names none; ValueError when it names two different periods."""
    found = set()
    for m in _PERIOD.finditer(note):
        if m.group(3):
            found.add(int(m.group(3)))
        else:
            word = (m.group(1) or m.group(2)).lower()
            found.add(next(i + 1 for i, name in enumerate(_MONTHS) if name.startswith(word[:3])))
    if len(found) > 1:
        raise ValueError(f"names {len(found)} periods ({', '.join(map(str, sorted(found)))} months)")
    return found.pop() if found else None


def load_recent(data_dir=None) -> pd.DataFrame:
    """The rows of ``city_recent.csv`` (checked as the module docstring says), sorted by the
    file's key (indicator, year, kind), whatever the order of its lines, with one more column:
    ``months``, 12 for every kind but ``partial_year``, whose note gives it (1–11)."""
    path = identity.data_folder(data_dir) / FILE
    return _cached(str(path), stamp(path)).copy()


@functools.lru_cache(maxsize=8)
def _cached(path_str: str, stamp_: tuple) -> pd.DataFrame:
    path = Path(path_str)
    key = ("indicator", "year", "kind")
    df, lines = read_csv(path, _schema(), key=key, order=key)
    months = []
    for row, line in zip(df.itertuples(index=False), lines):
        unit, nature, _ = INDICATORS[row.indicator]
        if row.unit != unit:
            raise DataError(path, line, "unit", f"{short(row.unit)} for {row.indicator}", repr(unit))
        if row.kind not in NATURE_KINDS[nature]:
            raise DataError(path, line, "kind", f"{row.kind!r} for {row.indicator}, a {nature} indicator",
                            ", ".join(repr(k) for k in NATURE_KINDS[nature]))
        if unit in COUNT_UNITS and row.value != int(row.value):
            raise DataError(path, line, "value", f"{row.value:g} {unit} is not a whole number", "a count: integers >= 0")
        if unit in PERCENT_UNITS and row.value > 100:
            raise DataError(path, line, "value", f"{row.value:g} {unit} is more than 100", "percentages from 0 to 100")
        if nature in ("stock", "annual") and not row.value > 0:
            raise DataError(path, line, "value", f"{row.indicator} of {row.year} is {row.value:g}",
                            "numbers > 0 (a stock or a year's total)")
        n = 12
        if row.kind == "partial_year":
            try:
                n = period_months(row.note)
            except ValueError as exc:
                raise DataError(path, line, "note", f"a partial_year row's note {exc}", PERIOD_FORMS) from None
            if n is None or not 1 <= n <= 11:
                raise DataError(path, line, "note", "a partial_year row whose note names no period"
                                + ("" if n is None else f" of 1 to 11 months (it names {n})"), PERIOD_FORMS)
        months.append(n)
    return df.assign(months=months).reset_index(drop=True)
