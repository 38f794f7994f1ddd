"""District (区县) agents: budgets and programmes, candidate lists, platforms, evaluation state.

The 38 districts are few, so each is a Mesa agent with plain attributes; firm aggregates are
computed for all districts at once by the model and written onto the agents.
"""

from __future__ import annotations

import mesa
import numpy as np

from ..params.constants import DT, FIRM_START
from .firms import KNOWLEDGE_GROWTH_START
from .funds import MILLION_PER_100M

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
        # 一区（县）一平台: the platforms of the inventory (platforms.csv) that exist at the start;
        # one under construction starts part-built (see Platforms.setup).
        self.n_platforms = int(row.n_platforms)
        self.has_platform = self.n_platforms > 0
        self.platform_building = bool(row.platform_building)
        self.platform_progress = 0.0
        self.ledger = {k: 0.0 for k in ("own", "guiding_fund", "paired_in", "paired_out", *PROGRAMMES)}
        self.pot = {k: 0.0 for k in PROGRAMMES}   # money set aside for each programme, 100m yuan
        # How money in splits across the pots (sums to 1): the guiding fund's use shares, set by
        # its programme before money arrives each year.
        self.use_shares = dict.fromkeys(PROGRAMMES, 1 / len(PROGRAMMES))
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
        self.innovative_county = "none"            # none | construction (listed) | passed | failed
        self.listed_year = None                    # year the county entered the national construction list
        self.accepted_year = None
        self.zone_output0 = self.zone_output = 0.0
        self.industrial_output = self.industrial_output0

    # ---- money ------------------------------------------------------------------------------
    def receive(self, source: str, amount: float):
        """Money in (100m yuan), split across the programmes by the fund's use shares."""
        self.ledger[source] += amount
        for k in PROGRAMMES:
            self.pot[k] += amount * self.use_shares[k]

    def pay_out(self, source: str, amount: float):
        """Money out to a partner (paired assistance), taken pro rata from the pots."""
        total = sum(self.pot.values())
        amount = min(amount, total)
        if amount <= 0:
            return 0.0
        for k in PROGRAMMES:
            # Paying out everything empties the pots exactly; pro-rata rounding must not leave
            # a pot a hair below zero.
            self.pot[k] = 0.0 if amount >= total else max(self.pot[k] - amount * self.pot[k] / total, 0.0)
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


# ---- district state from the firms -----------------------------------------------------------
ZONE_OUTPUT_WEIGHT = {"national": 2.0, "municipal": 1.0}  # a national zone draws twice a municipal one's share
MAX_ZONE_OUTPUT_SHARE = 0.8  # some of a district's industry is always outside its zone


def start_state(model) -> None:
    """R&D outside the firms, and high-tech-zone output at the start: the city's zone share spread
    over the zone districts by industrial output; later changes follow zone firms' revenue."""
    b, dd = model.params.behaviour, model.district_data
    firm_rd = model.district_firm_sum("rd") / MILLION_PER_100M
    for d, rd_firms in zip(model.district_list, firm_rd):
        d.non_firm_rd0 = d.non_firm_rd = float(dd.loc[d.index, "rd_expenditure"]) * (1 - b.enterprise_rd_share)
        d.rd = rd_firms + d.non_firm_rd
        d.rd_history[model.params.start_year] = d.rd
    model.universities_in = np.maximum(np.bincount([u.district_index for u in model.universities],
                                                   minlength=model.n_districts), 1)
    model.start_revenue = model.district_firm_sum("revenue")
    model.start_zone_revenue = model.district_firm_sum("revenue", model.firms.col("in_zone"))
    weight = np.array([ZONE_OUTPUT_WEIGHT.get(d.hightech_zone, 0.0) * d.industrial_output0 for d in model.district_list])
    total_output = sum(d.industrial_output0 for d in model.district_list)
    zone = b.zone_output_share_start * total_output * weight / max(weight.sum(), 1e-12)
    for d, z in zip(model.district_list, zone):
        d.zone_output0 = d.zone_output = min(float(z), MAX_ZONE_OUTPUT_SHARE * d.industrial_output0)
    # Output (100m yuan) per million yuan of zone firms' revenue; one for one in a new zone.
    zone0 = np.array([d.zone_output0 for d in model.district_list])
    model.zone_ratio = np.where(model.start_zone_revenue > 0, zone0 / np.maximum(model.start_zone_revenue, 1e-12),
                                1.0 / MILLION_PER_100M)


def refresh(model) -> None:
    """Write the firms' aggregates, GDP, R&D intensity and zone output onto the districts, and the
    research and knowledge on the universities."""
    b, p = model.params.behaviour, model.params
    years = model.steps * DT
    tech, hte, rd, revenue, zone_rev = model.district_firm_sums(
        ("registered", None), ("certified", None), (None, "rd"), (None, "revenue"), ("in_zone", "revenue"))
    rd = rd / MILLION_PER_100M
    env = model.environment
    gdp_factor = ((1 + b.gdp_growth) ** years if env is None
                  else env.gdp_factor(p.start_year + years, p.start_year, b.gdp_growth))
    for i, d in enumerate(model.district_list):
        d.tech_enterprises, d.high_tech_enterprises = float(tech[i]), float(hte[i])
        d.non_firm_rd = d.non_firm_rd0 * (1 + b.non_firm_rd_growth) ** years
        d.rd = float(rd[i]) + d.non_firm_rd
        va0 = model.start_revenue[i] * b.value_added_ratio / MILLION_PER_100M
        va = revenue[i] * b.value_added_ratio / MILLION_PER_100M
        d.gdp = max(d.gdp0 - va0, 0.0) * gdp_factor + va
        d.rd_intensity = 100.0 * d.rd / d.gdp
        d.zone_output = max(d.zone_output0 + (zone_rev[i] - model.start_zone_revenue[i]) * model.zone_ratio[i], 0.0)
        d.industrial_output = (d.industrial_output0 - d.zone_output0) * (1 + b.industrial_growth) ** years + d.zone_output
    k0 = FIRM_START["certified"][1] / (KNOWLEDGE_GROWTH_START + b.knowledge_depreciation)
    for u in model.universities:
        d = model.district_list[u.district_index]
        u.research = d.non_firm_rd / model.universities_in[u.district_index]
        u.knowledge_intensity = b.university_knowledge_ratio * k0 * (1 + b.non_firm_rd_growth) ** years


def close_year(model) -> None:
    """The year-end district state, with each district's R&D of the year recorded (for T3 and the
    innovative-county checks)."""
    refresh(model)
    for d in model.district_list:
        d.rd_history[model.year] = d.rd
