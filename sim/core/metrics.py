"""What the model reports: city indicators (the targets' measures), inequality across districts,
money flows and network reach, plus a per-district table, through one Mesa DataCollector."""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd

from ..data.identity import REGIONS
from .districts import District

EVENTS = ("births", "registrations", "deregistrations", "certifications", "renewals", "lapses",
          "specialised", "listings", "exits", "exits_registered", "spinoffs", "subsidy_granted",
          "loans_issued", "loan_defaults", "equity_invested", "platforms_completed", "knowledge_absorbed", "zone_upgrades",
          "innovative_counties_passed", "innovative_counties_listed")


def empty_events() -> dict:
    return dict.fromkeys(EVENTS, 0.0)


def gini(x) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    x = np.sort(np.asarray(x, float))
    n = len(x)
    total = math.fsum(x)
    if n == 0 or total <= 0:
        return 0.0
    # Exactly rounded sums, not a BLAS dot product: the dot product's rounding depends on the
    # processor's kernel, and a seed must give the same figures on every machine.
    return math.fsum((2 * np.arange(1, n + 1) - n - 1) * x) / (n * total)


def theil(values, population) -> float:
    """Theil T index of a per-capita quantity across districts, population-weighted."""
    v, pop = np.asarray(values, float), np.asarray(population, float)
    share_v, share_p = v / v.sum(), pop / pop.sum()
    m = share_v > 0
    return float((share_v[m] * np.log(share_v[m] / share_p[m])).sum())


def _sum(m, attr):
    return float(sum(getattr(d, attr) for d in m.district_list))


def _cluster_share(m, attr):
    total = _sum(m, attr)
    return float(sum(getattr(d, attr) for d, c in zip(m.district_list, m.is_cluster) if c) / total) if total else 0.0


def _region_sum(m, attr, groups) -> float:
    return float(sum(getattr(d, attr) for d in m.district_list if d.group in groups))


# Stocks and R&D by region (sim.data.identity.REGIONS: the double-doubling plan's 中心城区, 主城新区
# and 两群, and each cluster): "<indicator>_<region>", e.g. tech_enterprises_central, summed over
# the region's districts as the city's indicator is summed over all 38.
REGIONAL_BASES = {"tech_enterprises": "tech_enterprises", "high_tech_enterprises": "high_tech_enterprises",
                  "rd_expenditure": "rd"}
REGIONAL_REPORTERS = {f"{name}_{region}": (lambda attr, groups: lambda m: _region_sum(m, attr, groups))(attr, groups)
                      for region, groups in REGIONS.items() for name, attr in REGIONAL_BASES.items()}


def _core_cluster_link_share(m) -> float:
    """Share of firm-link weight that connects the two clusters with the metropolitan area."""
    links = m.totals["links"]
    return links["cross_cluster_weight"] / links["weight"] if links["weight"] else 0.0


CITY_REPORTERS = {
    "year": lambda m: m.year,
    "quarter": lambda m: m.quarter,
    "tech_enterprises": lambda m: _sum(m, "tech_enterprises"),
    "high_tech_enterprises": lambda m: _sum(m, "high_tech_enterprises"),
    "candidate_firms": lambda m: m.totals["firms"]["candidates"],
    "specialised_enterprises": lambda m: m.totals["firms"]["specialised"],
    "listed_enterprises": lambda m: m.totals["firms"]["listed"],
    "rd_expenditure": lambda m: _sum(m, "rd"),
    "knowledge_stock": lambda m: m.totals["firms"]["knowledge"] / 100.0,
    "gdp": lambda m: _sum(m, "gdp"),
    "rd_intensity": lambda m: 100.0 * _sum(m, "rd") / _sum(m, "gdp"),
    "hightech_zone_output_share": lambda m: 100.0 * _sum(m, "zone_output") / _sum(m, "industrial_output"),
    "national_innovative_counties": lambda m: sum(d.innovative_county == "passed" for d in m.district_list),
    "new_innovative_counties": lambda m: sum(d.innovative_county == "passed" for d in m.district_list) - m.innovative_counties_start,
    "counties_in_construction": lambda m: sum(d.innovative_county == "construction" for d in m.district_list),
    # T5 as the seed reads it (新创建): counties that entered the national construction list after the start
    "new_innovative_counties_listed": lambda m: sum(d.listed_year is not None and d.listed_year > m.params.start_year
                                                    for d in m.district_list),
    "districts_with_platform": lambda m: sum(d.has_platform for d in m.district_list),
    "city_index": lambda m: m.city_index,
    "tier1_districts": lambda m: sum(d.tier == 1 for d in m.district_list),
    "tier3_districts": lambda m: sum(d.tier == 3 for d in m.district_list),
    "rd_intensity_gini": lambda m: gini([d.rd_intensity for d in m.district_list]),
    "rd_per_capita_theil": lambda m: theil([d.rd / d.population for d in m.district_list], [d.population for d in m.district_list]),
    "tech_per_capita_theil": lambda m: theil([d.tech_enterprises / d.population for d in m.district_list], [d.population for d in m.district_list]),
    "clusters_rd_share": lambda m: 100.0 * _cluster_share(m, "rd"),
    "clusters_tech_share": lambda m: 100.0 * _cluster_share(m, "tech_enterprises"),
    "links": lambda m: float(len(m.network.w)),
    "core_cluster_link_share": lambda m: 100.0 * _core_cluster_link_share(m),
    "paired_link_weight": lambda m: m.totals["links"]["paired_weight"],
    "consortium_reach": lambda m: m.totals["links"]["consortium_reach"],
    # money, 100m yuan (cumulative unless said otherwise)
    "guiding_fund_transferred": lambda m: m.guiding_fund.transferred,
    "district_programme_spent": lambda m: float(sum(sum(d.ledger[k] for k in ("rd_subsidy", "platforms", "incubators", "talent")) for d in m.district_list)),
    "district_unspent": lambda m: float(sum(sum(d.pot.values()) for d in m.district_list)),
    "equity_invested": lambda m: m.cultivation_fund.invested,
    "equity_outstanding": lambda m: m.cultivation_fund.outstanding,
    "equity_distributed": lambda m: m.cultivation_fund.distributed,
    "equity_written_off": lambda m: m.cultivation_fund.written_off,
    "loans_lent": lambda m: m.credit_pool.lent,
    "loans_outstanding": lambda m: m.credit_pool.outstanding,
    "loans_defaulted": lambda m: m.credit_pool.defaulted,
    "risk_pool_balance": lambda m: m.credit_pool.pool_balance,
    "risk_compensation_paid": lambda m: m.credit_pool.compensation_paid,
}
CITY_REPORTERS.update(REGIONAL_REPORTERS)
CITY_REPORTERS.update({f"{e}_q": (lambda e: lambda m: m.events[e])(e) for e in EVENTS})

DISTRICT_REPORTERS = {
    "year": lambda d: d.model.year,
    "quarter": lambda d: d.model.quarter,
    "adcode": "adcode",
    "name_zh": "name_zh",
    "group": "group",
    "population": "population",
    "gdp": "gdp",
    "tech_enterprises": "tech_enterprises",
    "high_tech_enterprises": "high_tech_enterprises",
    "tech_per_10k": "tech_per_10k",
    "rd_expenditure": "rd",
    "rd_intensity": "rd_intensity",
    "zone_output": "zone_output",
    "industrial_output": "industrial_output",
    "index_score": "index_score",
    "tier": "tier",
    "has_platform": "has_platform",
    "innovative_county": "innovative_county",
    "guiding_fund_received": lambda d: d.ledger["guiding_fund"],
    "paired_in": lambda d: d.ledger["paired_in"],
    "subsidy_granted": lambda d: d.ledger["rd_subsidy"],
}


class Collector(mesa.DataCollector):
    """Mesa's DataCollector, which first takes the firm and link totals its reporters share
    (``model.totals``), one pass over the firms and one over the links."""

    def collect(self, model):
        model.totals = dict(firms=model.firms.totals(), links=model.network.totals(model.firms))
        super().collect(model)


def make_datacollector() -> mesa.DataCollector:
    return Collector(model_reporters=CITY_REPORTERS, agenttype_reporters={District: DISTRICT_REPORTERS})


def city_frame(model) -> pd.DataFrame:
    """City indicators per step (step 0 = end of the start year)."""
    df = model.datacollector.get_model_vars_dataframe()
    df.index.name = "step"
    return df


def district_frame(model) -> pd.DataFrame:
    """Per-district indicators per step, tidy (one row per district and step)."""
    df = model.datacollector.get_agenttype_vars_dataframe(District).reset_index()
    return df.drop(columns=["AgentID"]).rename(columns={"Step": "step"})


def district_table(model) -> pd.DataFrame:
    """The current state of the 38 districts."""
    rows = []
    for d in model.district_list:
        rows.append({name: (rep(d) if callable(rep) else getattr(d, rep)) for name, rep in DISTRICT_REPORTERS.items()})
    return pd.DataFrame(rows)


def money_check(model) -> float:
    """Total conservation error over every fund and district ledger (100m yuan; should be ~0)."""
    err = model.guiding_fund.conservation_error(model.district_list)
    err += model.cultivation_fund.conservation_error(model.firms)
    err += model.credit_pool.conservation_error(model.firms)
    err += sum(d.conservation_error() for d in model.district_list)
    return float(err)

