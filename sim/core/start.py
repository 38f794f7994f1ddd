"""The firm population at the end of the start year, built from the data layer's districts:
candidates, registered and certified firms per district with their revenue, R&D, age, industry
and zone drawn from the start distributions (``sim.params.constants.FIRM_START``)."""

from __future__ import annotations

import numpy as np

from ..data.datasets import data_origin
from ..params.constants import FIRM_START, INDUSTRY_MIX, STEPS_PER_YEAR
from .firms import KNOWLEDGE_GROWTH_START, FirmPopulation, cert_threshold


def district_rd_factor(districts, elasticity: float) -> np.ndarray:
    """Per district, the median R&D intensity of its firms relative to the city's: the district's
    R&D intensity (R&D / GDP) relative to the city's, to the power ``elasticity``. Districts that
    spend more on R&D per unit of output have firms nearer the certification threshold, so they
    keep certifying more of their registered firms (their high-tech share does not converge to
    the city's)."""
    if elasticity == 0:
        return np.ones(len(districts))
    rd, gdp = np.asarray(districts["rd_expenditure"], float), np.asarray(districts["gdp"], float)
    relative = (rd / gdp) / (rd.sum() / gdp.sum())
    return np.power(np.maximum(relative, 1e-3), elasticity)


def initial_population(districts, leaders, params, rng: np.random.Generator, rd_factor: np.ndarray,
                       resolution: float) -> FirmPopulation:
    """The firm population at the end of the start year, built from the data layer's districts.

    Per district: ``tech_enterprises`` registered firms of which ``high_tech_enterprises`` are
    certified (so certified ⊆ registered) and ``candidate_ratio`` (``candidate_ratio_2017`` for a
    start in 2017) times as many unregistered
    R&D-active firms. Revenue and R&D intensity are drawn from lognormal distributions by status
    and revenue is then rescaled so that firms' R&D adds up to the enterprise share of the
    district's published or estimated R&D spending. ``rd_factor`` (per district,
    ``district_rd_factor``) scales the median R&D intensity of the uncertified firms.
    ``resolution``: rows per real firm (``params.scale`` unless a bound on rows asks for fewer,
    ``resolution.start_resolution``).
    """
    b, scale = params.behaviour, resolution
    # The register was a year old at the end of 2017, so the pool of firms yet to register was
    # relatively larger then than in 2022: each start year has its own ratio.
    candidate_ratio = b.candidate_ratio_2017 if data_origin(params.start_year) == 2017 else b.candidate_ratio
    pop = FirmPopulation(capacity=int(1.3 * (1 + candidate_ratio) * districts["tech_enterprises"].sum() * scale) + 64)
    sigma_rev, sigma_rd = FIRM_START["revenue_sigma"], FIRM_START["rd_sigma"]
    validity_steps = STEPS_PER_YEAR * params.cultivation.validity_years
    leaders_by_district = leaders.groupby("district_index").size().to_dict() if len(leaders) else {}
    leader_rows = {d: list(g.itertuples(index=False)) for d, g in leaders.groupby("district_index", sort=False)} if len(leaders) else {}

    def stochastic_round(x):
        return int(np.floor(x + rng.random()))

    from_2022 = data_origin(params.start_year) == 2022
    cohorts = np.asarray(FIRM_START["certificate_cohorts_2022"])

    def expiry(count):
        """Quarters a valid certificate has left: uniform over its validity, or from 2022 by the
        year it was issued (a three-year certificate of 2020 expires in 2023, ...)."""
        if not from_2022 or validity_steps != len(cohorts) * STEPS_PER_YEAR:
            return rng.integers(1, validity_steps + 1, count)
        issued = rng.choice(len(cohorts), size=count, p=cohorts / cohorts.sum())
        return 1 + STEPS_PER_YEAR * issued + rng.integers(0, STEPS_PER_YEAR, count)

    for d, row in enumerate(districts.itertuples(index=False)):
        n_lead = leaders_by_district.get(d, 0)
        n_cert = stochastic_round(max(row.high_tech_enterprises - n_lead, 0) * scale)
        n_reg = n_cert + stochastic_round(max(row.tech_enterprises - row.high_tech_enterprises, 0) * scale)
        n_cand = stochastic_round(row.tech_enterprises * candidate_ratio * scale)
        zone_p = FIRM_START["zone_share"][row.hightech_zone]
        mix = np.asarray(INDUSTRY_MIX[row.group])
        start = pop.n
        for count, status, registered, certified in (
            (n_cert, "certified", True, True),
            (n_reg - n_cert, "registered", True, False),
            (n_cand, "candidate", False, False),
        ):
            med_rev, med_rd, med_age = FIRM_START[status]
            sigma = sigma_rev
            if status == "registered" and from_2022:
                med_rd = b.registered_rd_2022
                sigma = float(np.hypot(sigma_rev, FIRM_START["registered_2022_revenue_sigma"]))
            if not certified:
                med_rd = med_rd * rd_factor[d]
            revenue = med_rev * rng.lognormal(0.0, sigma, count)
            if sigma != sigma_rev and count:
                # wider, with the district's total kept at what the status medians give on average
                # (so the median falls, as in the hindcast, and the districts' start is the data's)
                revenue *= count * med_rev * np.exp(sigma_rev ** 2 / 2) / revenue.sum()
            rd_base = np.clip(med_rd * rng.lognormal(0.0, sigma_rd, count), 0.002, 0.4)
            if certified:  # a valid certificate means the firm met its band, usually with a margin
                rd_base = np.maximum(rd_base, FIRM_START["certified_margin"] * cert_threshold(revenue))
            pop.add(
                count, district=d, weight=1.0 / scale,
                industry=rng.choice(len(mix), size=count, p=mix),
                revenue=revenue, rd_base=rd_base, rd_rate=rd_base,
                age=rng.exponential(med_age, count),
                registered=registered, certified=certified,
                cert_expiry=expiry(count) if certified else 0,
                in_zone=rng.random(count) < zone_p,
            )
        # Leading firms: single real firms (weight 1), certified and listed, among the largest.
        for lead in leader_rows.get(d, ()):
            big = float(np.quantile(pop.revenue[start:pop.n], 0.999)) * 20 if pop.n > start else 1e4
            pop.add(1, district=d, weight=1.0, industry=lead.industry_index, revenue=big,
                    rd_base=0.05, rd_rate=0.05, age=30.0, registered=True, certified=True,
                    cert_expiry=int(rng.integers(1, validity_steps + 1)), specialised=False,
                    listed=True, leader=True, in_zone=zone_p > 0)
        rows = slice(start, pop.n)
        target = b.enterprise_rd_share * row.rd_expenditure * 100.0  # 100m yuan -> million yuan
        current = float((pop.rd_base[rows] * pop.revenue[rows] * pop.weight[rows]).sum())
        if current > 0:
            pop.revenue[rows] *= target / current
    n = pop.n
    pop.rd_rate[:n] = pop.rd_base[:n]
    pop.rd[:n] = pop.rd_rate[:n] * pop.revenue[:n]
    # Perpetual-inventory start: K = R&D / (growth + depreciation), growth about 10 %/yr.
    pop.knowledge[:n] = pop.rd[:n] / (KNOWLEDGE_GROWTH_START + b.knowledge_depreciation)
    pop.patents[:n] = rng.poisson(b.patent_rate * pop.knowledge[:n] * 0.5)
    if from_2022:   # registered firms waiting for a certificate: what the patent process leaves at their age
        waiting = pop.registered[:n] & ~pop.certified[:n]
        held = b.patent_rate * pop.rd[:n] * -np.expm1(-b.patent_lapse * pop.age[:n]) / max(b.patent_lapse, 1e-9)
        pop.patents[:n] = np.where(waiting, rng.poisson(held), pop.patents[:n])
    # Registration requires at least one piece of IP (Chongqing 科技型企业 criteria).
    pop.patents[:n] = np.where(pop.registered[:n], np.maximum(pop.patents[:n], 1), pop.patents[:n])
    return pop
