"""The policy environment of 2017–2022, for a model started in the past (a hindcast).

A model with ``Params.start_year = 2017`` starts from the end-2017 district state of the data
layer and, through each year up to 2022, runs under what was actually in force that year
(``sim/data/policy_environment.csv``, every row with its status and source): R&D super-deduction
rates by firm class, the city's fiscal S&T money and GDP path, the guiding fund's scale,
knowledge-value credit volumes, when paired assistance and Sichuan–Chongqing cooperation began,
high-tech zone approvals, and which levers of the 2022 guiding opinions were not yet there
(platform programme, competitive allocation, consortia). From 2023 on the scenario's own
parameters apply, so a hindcast run to 2025 is history followed by the scenario.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ..data import datasets
from ..params.parameters import Params

LAST_HISTORY_YEAR = 2022
# Directions whose firms are mostly manufacturers, for the manufacturing super-deduction rate
# of 2021 (公告2021年第13号). An approximation: the model's firms have a direction, not a sector code.
MANUFACTURING_DIRECTIONS = ("electronic_devices", "intelligent_manufacturing", "biomedicine", "green_energy", "energy_saving")


class PolicyEnvironment:
    """Year-by-year overrides and exogenous series of the hindcast years."""

    def __init__(self, table):
        self.overrides: dict[int, dict] = defaultdict(dict)
        self.series: dict[str, dict[int, float]] = defaultdict(dict)
        self.zone_changes: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for row in table.itertuples(index=False):
            if row.key.startswith("zone."):
                self.zone_changes[int(row.year)].append((row.key[5:], row.value))
            elif row.key in datasets.ENV_SPECIAL:
                self.series[row.key][int(row.year)] = float(row.value)
            else:
                self.overrides[int(row.year)][row.key] = datasets.env_value(row.key, row.value)

    @classmethod
    def load(cls, data_dir=None) -> "PolicyEnvironment":
        return cls(datasets.load_policy_environment(data_dir))

    def params_for(self, scenario: Params, year: int) -> Params:
        """The parameters in force in ``year``: the scenario's, with that year's history on top
        (from 2023 on, the scenario's alone)."""
        if year > LAST_HISTORY_YEAR or not self.overrides.get(year):
            return scenario
        return scenario.with_overrides(**{k.replace(".", "__"): v for k, v in self.overrides[year].items()})

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
        previous year's spending (as in a 2022 start), so the city's published series sets the
        level up to 2023 and the scenario's growth rate after it."""
        f = self.series["fiscal_st_city"]
        last = min(year - 1, LAST_HISTORY_YEAR)
        return f[last] / f[start] * (1 + growth) ** max(year - 1 - LAST_HISTORY_YEAR, 0)

    def gdp_factor(self, t: float, start: int, growth: float) -> float:
        """Growth of the GDP outside the modelled firms from the start to time ``t`` (years, end of
        ``start`` = start): the city's published path up to 2022 (log-linear within a year),
        the scenario's growth rate after it."""
        g = self.series["gdp_city"]
        if t >= LAST_HISTORY_YEAR:
            return g[LAST_HISTORY_YEAR] / g[start] * (1 + growth) ** (t - LAST_HISTORY_YEAR)
        y0 = int(math.floor(t))
        f = t - y0
        level = g[y0] ** (1 - f) * g[y0 + 1] ** f if f > 0 else g[y0]
        return level / g[start]
