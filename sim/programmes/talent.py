"""Talent (英才计划, S&T commissioners 科技特派员; seed §(二十一)).

Levers: ``talent.commissioners`` and the guiding fund's talent share. Each Q1 districts spend
their talent money; the money per registered firm, and the commissioners sent to the counties,
raise firms' absorptive capacity for the knowledge of their contacts.
"""

from __future__ import annotations

import numpy as np

from ..core.funds import MILLION_PER_100M
from ._base import Programme


class Talent(Programme):
    name = "talent"
    sections = ("talent",)

    def __init__(self, model):
        super().__init__(model)
        self._county = np.array([d.is_county for d in model.district_list])

    def commit(self):
        m = self.model
        registered = m.district_firm_sum(None, m.firms.col("registered"))
        for d, n_reg in zip(m.district_list, registered):
            spent = d.spend("talent", d.pot["talent"])
            d.talent_per_firm = spent * MILLION_PER_100M / max(n_reg, 1.0)

    def absorption(self, capacity, firms):
        m = self.model
        t, district = m.params.talent, firms.col("district")
        talent = np.array([d.talent_per_firm for d in m.district_list])
        commissioners = t.commissioners * t.commissioner_effect * self._county
        return capacity * (1 + t.effect * talent[district] + commissioners[district])
