"""The municipal guiding fund for district S&T and the districts' own budgets (seed §(二十五)).

Levers: ``guiding_fund.*`` and ``district_budget.*``. Each Q1 the districts' own S&T money and
the guiding fund (split by its allocation rule) arrive in the district pots, split across the
four uses (R&D subsidy, platforms, incubators, talent); the subsidy money is paid ex post,
pro rata to registered firms' R&D, and lowers their R&D cost against the 2022 subsidy rate.
"""

from __future__ import annotations

import numpy as np

from ..core.funds import MILLION_PER_100M, GuidingFund, allocation_weights
from ..params.constants import DT
from ..util.jit import kernel, seqsum
from ._base import Programme

MAX_SUBSIDY_RATE = 0.5  # a district never pays more than half of a firm's R&D


def _subsidies_twin(rates, district, rd, registered, alive, weight, dt, out):
    out[:] = rates[district] * rd * dt * registered * alive
    return seqsum(out * weight)


@kernel(_subsidies_twin)
def _subsidies(rates, district, rd, registered, alive, weight, dt, out):
    """Each registered firm's subsidy for the quarter at its district's rate; returns the total."""
    total = 0.0
    for i in range(len(out)):
        s = rates[district[i]] * rd[i] * dt * registered[i] * alive[i]
        out[i] = s
        total += s * weight[i]
    return total


def programme_shares(params) -> dict:
    """How programme money splits across subsidy, platforms, incubators and talent (sums to 1);
    with the platform programme off its share goes to the others."""
    g = params.guiding_fund
    shares = {"rd_subsidy": g.share_rd_subsidy, "platforms": g.share_platforms if params.platforms.programme else 0.0,
              "incubators": g.share_incubators, "talent": g.share_talent}
    total = sum(shares.values())
    return {k: (v / total if total > 0 else 0.25) for k, v in shares.items()}


class GuidingFundProgramme(Programme):
    name = "guiding_fund"
    sections = ("guiding_fund", "district_budget")

    def __init__(self, model):
        super().__init__(model)
        self.fund = GuidingFund(model)
        self.subsidy_reference = None

    def setup(self):
        self.subsidy_reference = self._reference_subsidy_rates()
        for d, s in zip(self.model.district_list, self.subsidy_reference):
            d.subsidy_rate = s

    def _reference_subsidy_rates(self) -> np.ndarray:
        """Subsidy per yuan of R&D under the 2022 policy as it was (the default parameters):
        the reference against which a scenario's R&D cost is measured."""
        m = self.model
        ref = m.reference_params()
        g = ref.guiding_fund
        split = allocation_weights(g.allocation, m.district_list, g.mix, m.programmes["evaluation"].index_start)
        own = np.array([d.fiscal_st for d in m.district_list]) * ref.district_budget.own_programme_share
        money = (own + g.annual_budget * split) * programme_shares(ref)["rd_subsidy"]
        rd = m.district_firm_sum("rd", m.firms.col("registered")) / MILLION_PER_100M
        return np.minimum(money / np.maximum(rd, 1e-9), MAX_SUBSIDY_RATE)

    def budget(self):
        m = self.model
        p = m.params
        shares = programme_shares(p)      # before any money arrives: the pots split it by these
        for d in m.district_list:
            d.use_shares = shares
        years = m.year - p.start_year - 1
        growth = ((1 + p.district_budget.own_budget_growth) ** years if m.environment is None
                  else m.environment.fiscal_factor(m.year, p.start_year, p.district_budget.own_budget_growth))
        for d in m.district_list:
            d.receive("own", d.fiscal_st * growth * p.district_budget.own_programme_share)
        g = p.guiding_fund
        self.fund.allocate(m.district_list, g.allocation, g.mix, m.programmes["evaluation"].allocation_scores())

    def commit(self):
        for d in self.model.district_list:
            d.subsidy_plan = d.pot["rd_subsidy"]

    def rd_cost(self, cost, tax, reference: bool, firms):
        """Less the subsidy per yuan of registered firms' R&D (last quarter's rate, or 2022's)."""
        m = self.model
        rates = self.subsidy_reference if reference else np.array([d.subsidy_rate for d in m.district_list])
        return cost - rates[firms.col("district")] * firms.col("registered")

    def after_rd(self):
        """A quarter of the year's subsidy money, pro rata to registered firms' R&D."""
        m = self.model
        pop = m.firms
        rd_q = m.district_firm_sum("rd", "registered") * DT / MILLION_PER_100M
        for d, r in zip(m.district_list, rd_q):
            plan = d.subsidy_plan * DT
            rate = min(plan / r, MAX_SUBSIDY_RATE) if r > 0 else 0.0
            d.spend("rd_subsidy", rate * r)
            d.subsidy_rate = rate
        rates = np.array([d.subsidy_rate for d in m.district_list])
        granted = _subsidies(rates, *(pop.col(c) for c in ("district", "rd", "registered", "alive", "weight")), DT,
                             pop.col("subsidy"))
        m.events["subsidy_granted"] = granted / MILLION_PER_100M
