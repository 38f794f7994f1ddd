"""The policy environment of the published years (2017 to the latest), for every run.

A model starts from a district state of the data layer (the end of 2017 or of 2022) and, through
each published year after it, runs under what was actually in force that year
(``sim/data/policy_environment.csv``, every row with its status and source): R&D super-deduction
rates by firm class, the city's fiscal S&T money and GDP path, the guiding fund's scale,
knowledge-value credit volumes, when paired assistance and Sichuan–Chongqing cooperation began,
high-tech zone approvals, which levers of the 2022 guiding opinions were not yet there
(platform programme, competitive allocation, consortia), and the 2023 national list of
innovative counties. The latest published year is the last year with every exogenous series
(``latest_year``); appending a year's rows moves it, with no code change.

Which levers act: up to the scenario's ``start_year`` the policy as written (every lever at its
documented default, ``as_written``), after it the scenario's own. So the default start (the
latest published year) replays the published years as they happened and the scenario takes
over after them, while ``start_year = 2022`` asks what another policy would have done in the
published years (a retrospective); ``start_year = 2017`` is the calibration's hindcast.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import identity
from ..data.tables import DataError, SchemaT, enum, integer, label, number, prose, read_csv, stamp, text
from ..params.fields import ParamError
from ..params.parameters import Params
from ..util.messages import short

FIRST_YEAR = 2017
# The super-deduction rates of the environment are read up to 2022; from 2023 the rate is the
# lever cultivation.super_deduction, whose default is 2023's (公告2023年第7号: 100 % for all).
RATES_UNTIL = 2022
SUPER_DEDUCTION = ("super_deduction_registered", "super_deduction_other", "super_deduction_manufacturing")
MAX_YEAR = 2100
# Directions whose firms are mostly manufacturers, for the manufacturing super-deduction rate
# of 2021 (公告2021年第13号). An approximation: the model's firms have a direction, not a sector code.
MANUFACTURING_DIRECTIONS = ("electronic_devices", "intelligent_manufacturing", "biomedicine", "green_energy", "energy_saving")


ENV_SPECIAL = ("super_deduction_registered", "super_deduction_other", "super_deduction_manufacturing",
               "fiscal_st_city", "gdp_city")


def load_policy_environment(data_dir=None) -> pd.DataFrame:
    """What was in force each year of the hindcast (policy_environment.csv): year, key, value
    (text), unit, status, source. Keys are dotted parameter keys (e.g. ``paired.enabled``),
    ``zone.<adcode>`` (a high-tech zone's level from that year) or one of ENV_SPECIAL. Sorted by
    the file's key (year, key), whatever the order of its lines: the zones approved in one year
    are raised in that order."""
    d = identity.data_folder(data_dir)
    path = d / "policy_environment.csv"
    return _env_cached(str(path), identity.adcodes(d), stamp(path)).copy()


@functools.lru_cache(maxsize=8)
def _env_cached(path_str: str, codes: frozenset[str], stamp: tuple) -> pd.DataFrame:
    path = Path(path_str)
    schema: SchemaT = {"year": integer(FIRST_YEAR, MAX_YEAR), "key": text(), "value": text(required=False),
                       "unit": label(), "status": enum(identity.STATUSES), "source": prose()}
    df, lines = read_csv(path, schema, key=("year", "key"), order=("year", "key"))
    for row, line in zip(df.itertuples(index=False), lines):
        if row.key.startswith("zone."):
            if row.key[5:] not in codes or row.value not in identity.HIGHTECH:
                raise DataError(path, line, "key", f"bad zone change {short(row.key)}={short(row.value)}",
                                "zone.<adcode> with none, municipal or national")
        elif row.key in ENV_SPECIAL:
            try:
                number(lo=0.0)(row.value)
            except ValueError as exc:
                problem, _, allowed = str(exc).partition("|")
                raise DataError(path, line, "value", problem, allowed) from None
        else:
            try:
                Params().with_overrides(**{row.key.replace(".", "__"): env_value(row.key, row.value)})
            except (ParamError, KeyError, ValueError, TypeError, AttributeError) as exc:
                raise DataError(path, line, "key", f"{short(row.key)}={short(row.value)}: {exc}",
                                "a dotted Params key with a valid value, zone.<adcode>, or " + ", ".join(ENV_SPECIAL)) from None
    last = int(df["year"].max())
    for key in ENV_SPECIAL:
        years, until = set(df.loc[df.key == key, "year"]), RATES_UNTIL if key in SUPER_DEDUCTION else last
        if years != set(range(FIRST_YEAR, until + 1)):
            raise DataError(path, None, "key", f"{key} needs one row per year {FIRST_YEAR}–{until}"
                            + ("" if key in SUPER_DEDUCTION else " (the file's last year)") + f", has {sorted(years)}")
    return df


def latest_year(data_dir=None) -> int:
    """The latest published year: the last year of the policy environment (every exogenous series
    has a row for it, checked as the file is read)."""
    return int(load_policy_environment(data_dir)["year"].max())


def as_written(scenario: Params) -> Params:
    """The policy as written: every lever section at its documented default, with the scenario's
    own start, scale, bound on rows and behaviour (a draw of the calibrated parameters stays a draw)."""
    return Params(start_year=scenario.start_year, scale=scenario.scale, max_firm_rows=scenario.max_firm_rows,
                  behaviour=scenario.behaviour)


def env_value(key: str, text: str):
    """A policy-environment value in the type its parameter expects."""
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


class PolicyEnvironment:
    """Year-by-year overrides and exogenous series of the hindcast years."""

    def __init__(self, table):
        self.last_year = int(table["year"].max())
        self.overrides: dict[int, dict] = defaultdict(dict)
        self.series: dict[str, dict[int, float]] = defaultdict(dict)
        self.zone_changes: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for row in table.itertuples(index=False):
            if row.key.startswith("zone."):
                self.zone_changes[int(row.year)].append((row.key[5:], row.value))
            elif row.key in ENV_SPECIAL:
                self.series[row.key][int(row.year)] = float(row.value)
            else:
                self.overrides[int(row.year)][row.key] = env_value(row.key, row.value)

    @classmethod
    def load(cls, data_dir=None) -> "PolicyEnvironment":
        return cls(load_policy_environment(data_dir))

    def params_for(self, scenario: Params, year: int) -> Params:
        """The parameters in force in ``year``: the policy as written up to the scenario's start
        year, the scenario's after it, with that year's history on top (none after the latest
        published year)."""
        base = as_written(scenario) if year <= scenario.start_year else scenario
        if year > self.last_year or not self.overrides.get(year):
            return base
        return base.with_overrides(**{k.replace(".", "__"): v for k, v in self.overrides[year].items()})

    def zones(self, year: int) -> list[tuple[str, str]]:
        return list(self.zone_changes.get(year, ()))

    def super_deduction(self, year: int, registered: np.ndarray, manufacturing: np.ndarray) -> np.ndarray:
        """Additional-deduction rate per firm in ``year`` (registered tech-based SMEs, others, and
        manufacturing firms, who get the best rate they qualify for)."""
        s = self.series
        base = np.where(registered, s["super_deduction_registered"][year], s["super_deduction_other"][year])
        return np.where(manufacturing, np.maximum(base, s["super_deduction_manufacturing"][year]), base)

    def fiscal_factor(self, year: int, start: int, growth: float) -> float:
        """Districts' own S&T money in ``year`` relative to the start year. Budgets follow the
        previous year's spending, so the city's published series sets the level up to the year
        after the latest published one and the scenario's growth rate after it."""
        f = self.series["fiscal_st_city"]
        last = min(year - 1, self.last_year)
        return f[last] / f[start] * (1 + growth) ** max(year - 1 - self.last_year, 0)

    def gdp_factor(self, t: float, start: int, growth: float) -> float:
        """Growth of the GDP outside the modelled firms from the start to time ``t`` (years, end of
        ``start`` = start): the city's published path up to the latest published year (log-linear within a year),
        the scenario's growth rate after it."""
        g = self.series["gdp_city"]
        if t >= self.last_year:
            return g[self.last_year] / g[start] * (1 + growth) ** (t - self.last_year)
        y0 = int(math.floor(t))
        f = t - y0
        level = g[y0] ** (1 - f) * g[y0 + 1] ** f if f > 0 else g[y0]
        return level / g[start]
