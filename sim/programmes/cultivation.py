"""Enterprise cultivation (科技型企业 → 高新技术企业, seed §(十二)) and the national R&D super-deduction.

Levers: ``cultivation.*``. Districts coach firms onto the register (a push on the Bass external
rate), keep candidate lists of their most certification-ready registered firms (listed firms
apply for certification more often and raise their R&D toward the threshold), and the
super-deduction lowers the after-tax cost of R&D, against the rates of the start year.
"""

from __future__ import annotations

import numpy as np

from ..core.firms import cert_threshold
from ..core.hindcast import MANUFACTURING_DIRECTIONS, RATES_UNTIL
from ..params.constants import in_directions
from ..util.jit import grouped_rows
from ._base import Programme

SUPER_DEDUCTION_2022_OTHER = 0.75  # non-SME rate in force for most of 2022 (公告2021年第6号)


class Cultivation(Programme):
    name = "cultivation"
    sections = ("cultivation",)

    def __init__(self, model):
        super().__init__(model)
        self._manufacturing = in_directions(MANUFACTURING_DIRECTIONS)

    def commit(self):
        """Q1: each district lists the given share of its registered, not yet certified firms,
        the closest to certification first."""
        m = self.model
        pop, c = m.firms, m.params.cultivation
        pop.on_list[: pop.n] = False
        if c.candidate_list_size <= 0:
            return
        pool = pop.col("alive") & pop.col("registered") & ~pop.col("certified")
        readiness = pop.col("rd_rate") / cert_threshold(pop.col("revenue")) + c.list_patent_weight * np.log1p(pop.col("patents"))
        order, starts, counts = grouped_rows(pop.col("district"), pool, m.n_districts)
        for i in range(m.n_districts):
            rows = order[starts[i]:starts[i] + counts[i]]   # the district's pool, in row order
            k = int(round(c.candidate_list_size * len(rows)))
            if k > 0:
                pop.on_list[rows[np.argsort(-readiness[rows])[:k]]] = True

    def rd_cost(self, cost, tax, reference: bool, firms):
        """Less the super-deduction's tax saving per yuan of R&D: at this year's rates, or at the
        start year's (the reference the firms' R&D intensities were drawn at)."""
        m = self.model
        c, registered, env = m.params.cultivation, firms.col("registered"), m.environment
        if m.params.start_year >= RATES_UNTIL:   # a run from the end of 2022: the levers carry the rates
            sd = np.where(registered, c.super_deduction_2022_sme, SUPER_DEDUCTION_2022_OTHER) if reference else c.super_deduction
        else:
            mfg = self._manufacturing[firms.col("industry")]
            if reference:
                sd = env.super_deduction(m.params.start_year, registered, mfg)
            else:
                sd = env.super_deduction(m.year, registered, mfg) if m.year <= RATES_UNTIL else c.super_deduction
        return cost - tax * sd

    def rd_push(self, push, firms):
        return push | firms.col("on_list")

    def registration_push(self, push):
        return push + self.model.params.cultivation.coaching_registration_boost

    def certification_odds(self, odds, firms):
        return odds * np.where(firms.col("on_list"), self.model.params.cultivation.candidate_list_boost, 1.0)
