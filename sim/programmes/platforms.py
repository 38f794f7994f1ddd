"""Platforms, zones and application scenarios (一区一平台, high-tech zones, 场景应用; seed §(七), §(十四)),
and the incubators the districts fund.

Levers: ``platforms.*`` and the guiding fund's platform and incubator shares. The start is the
inventory of platforms at end-2022 (``sim/data/platforms.csv``: high-tech zones, agricultural S&T
parks, core zones, named characteristic platforms, science cities and towns, the innovative
county), which is what "一区（县）一平台" counts (T6: districts with at least one). Each Q1 districts
spend on incubators (extra entrants over the year) and on building their characteristic
platform; a district without one completes it once its spending reaches the cost (a platform
under construction at the start is part-built). A platform raises firms' absorptive capacity
and growth. Firms of the
directions with application scenarios grow faster. Municipal zones that become national (in a
scenario's upgrade year, or as history approved them in a hindcast) draw more of their
district's firms in.
"""

from __future__ import annotations

import numpy as np

from ..core.funds import MILLION_PER_100M
from ..params.constants import FIRM_START, SCENARIO_DIRECTIONS, in_directions
from ._base import Programme


class Platforms(Programme):
    name = "platforms"
    sections = ("platforms",)

    def __init__(self, model):
        super().__init__(model)
        self._scenario_direction = in_directions(SCENARIO_DIRECTIONS).astype(float)

    def setup(self):
        m = self.model
        for d in m.district_list:
            if d.platform_building:
                d.platform_progress = m.params.platforms.building_progress * m.params.platforms.cost

    def _platform(self, firms) -> np.ndarray:
        return np.array([d.has_platform for d in self.model.district_list], float)[firms.col("district")]

    def enter_year(self):
        m = self.model
        if m.environment is not None:
            for adcode, level in m.environment.zones(m.year):
                self.raise_zone(next(d for d in m.district_list if str(d.adcode) == str(adcode)), level)

    def commit(self):
        m = self.model
        p = m.params.platforms
        for d in m.district_list:
            d.extra_entry = d.spend("incubators", d.pot["incubators"]) * MILLION_PER_100M / p.incubator_cost
            if p.programme:
                d.platform_progress += d.spend("platforms", d.pot["platforms"])
                if not d.has_platform and d.platform_progress >= p.cost:
                    d.has_platform, d.n_platforms = True, d.n_platforms + 1
                    m.events["platforms_completed"] += 1

    def absorption(self, capacity, firms):
        return capacity * (1 + self.model.params.platforms.absorption_boost * self._platform(firms))

    def growth(self, growth, firms):
        m = self.model
        return (growth + m.params.behaviour.growth_environment * self._platform(firms)
                + m.params.platforms.scenario_pull * self._scenario_direction[firms.col("industry")])

    def entry(self, per_year):
        return per_year + np.array([d.extra_entry for d in self.model.district_list])

    def year_end(self):
        m = self.model
        p = m.params.platforms
        if m.year == p.zone_upgrade_year:
            for d in m.district_list:
                if str(d.adcode) in p.zone_upgrades and d.hightech_zone != "national":
                    self.raise_zone(d, "national")

    def raise_zone(self, d, level: str):
        """A zone approved at a higher level draws more of its district's firms in (to the share of
        firms in a zone of that level); its output counts toward T4."""
        m = self.model
        pop, shares = m.firms, FIRM_START["zone_share"]
        old, new = shares.get(d.hightech_zone, 0.0), shares[level]
        if new > old:
            rows = np.flatnonzero(pop.col("alive") & (pop.col("district") == d.index) & ~pop.col("in_zone"))
            pop.in_zone[rows[m.stream("zones").random(len(rows)) < (new - old) / max(1 - old, 1e-9)]] = True
        if d.hightech_zone == "none":     # a new zone is a platform of 一区（县）一平台
            d.n_platforms += 1
            d.has_platform = True
        d.hightech_zone = level
        m.events["zone_upgrades"] += 1
