"""District (区县) agents: budgets and programmes, candidate lists, platforms, evaluation state.

The 38 districts are few, so each is a Mesa agent with plain attributes; firm aggregates are
computed for all districts at once by the model and written onto the agents.
"""

from __future__ import annotations

import mesa

PROGRAMMES = ("rd_subsidy", "platforms", "incubators", "talent")


class District(mesa.Agent):
    def __init__(self, model, index: int, row):
        super().__init__(model)
        self.index = index
        for attr in ("adcode", "name_zh", "short_zh", "name_pinyin", "kind", "group", "core_zone",
                     "hightech_zone", "platform_2022"):
            setattr(self, attr, getattr(row, attr))
        self.population = float(row.population)
        self.gdp0 = self.gdp = float(row.gdp)                      # 100m yuan
        self.fiscal_st = float(row.fiscal_st_spending)              # 100m yuan/yr, own money
        self.industrial_output0 = float(row.industrial_output)     # 100m yuan
        self.n_universities = int(row.n_universities)
        self.n_institutes = int(row.n_institutes)
        self.sichuan_border = bool(row.sichuan_border)
        self.tier_2022 = int(row.innovation_tier)
        self.is_county = self.kind in ("county", "autonomous_county")
        self.partners: list[int] = []
        # state
        self.has_platform = bool(isinstance(row.platform_2022, str) and row.platform_2022.strip())
        self.platform_progress = 0.0
        self.ledger = {k: 0.0 for k in ("own", "guiding_fund", "paired_in", "paired_out", *PROGRAMMES)}
        self.pot = {k: 0.0 for k in PROGRAMMES}   # money set aside for each programme, 100m yuan
        self.subsidy_rate = 0.0                    # ex-post subsidy per yuan of R&D last quarter
        self.subsidy_plan = 0.0                    # the year's subsidy money, 100m yuan
        self.talent_per_firm = 0.0                 # million yuan per registered firm per year
        self.extra_entry = 0.0                     # incubator-driven entrants per year
        self.rd = 0.0                              # R&D spending, 100m yuan/yr
        self.rd_history: dict[int, float] = {}
        self.non_firm_rd0 = self.non_firm_rd = 0.0  # universities, institutes, other, 100m yuan/yr
        self.rd_intensity = 0.0
        self.tech_enterprises = self.high_tech_enterprises = 0.0
        self.index_score = 0.0
        self.dimension_scores = (0.0,) * 5
        self.tier = self.tier_2022
        self.innovative_county = "none"            # none | construction | passed
        self.construction_start = None
        self.zone_output0 = self.zone_output = 0.0
        self.industrial_output = self.industrial_output0

    # ---- money ------------------------------------------------------------------------------
    def receive(self, source: str, amount: float):
        """Money in (100m yuan), split across the programmes by the fund's use shares."""
        self.ledger[source] += amount
        shares = self.model.programme_shares
        for k in PROGRAMMES:
            self.pot[k] += amount * shares[k]

    def pay_out(self, source: str, amount: float):
        """Money out to a partner (paired assistance), taken pro rata from the pots."""
        total = sum(self.pot.values())
        amount = min(amount, total)
        if amount <= 0:
            return 0.0
        for k in PROGRAMMES:
            self.pot[k] -= amount * self.pot[k] / total
        self.ledger[source] += amount
        return amount

    def spend(self, programme: str, amount: float) -> float:
        amount = min(amount, self.pot[programme])
        self.pot[programme] -= amount
        self.ledger[programme] += amount
        return amount

    def conservation_error(self) -> float:
        """In = own + guiding fund + paired in; out = paired out + programmes + what is left."""
        inflow = self.ledger["own"] + self.ledger["guiding_fund"] + self.ledger["paired_in"]
        outflow = self.ledger["paired_out"] + sum(self.ledger[k] for k in PROGRAMMES) + sum(self.pot.values())
        return abs(inflow - outflow)

    # ---- views ------------------------------------------------------------------------------
    @property
    def tech_per_10k(self) -> float:
        return self.tech_enterprises / self.population * 1e4

    def __repr__(self):
        return f"District({self.adcode} {self.name_zh}, {self.group})"
