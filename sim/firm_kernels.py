"""Compiled loops of the firm processes (``sim/firm_processes.py``), each with its numpy twin.

A kernel here does the per-firm arithmetic and draws of one transition; the transition itself
(what it reads from the programmes, what it counts, the order of the quarter) stays in
``firm_processes``. See ``sim/jit.py`` for what keeps a kernel and its twin bit-identical.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel


# ---- entry ---------------------------------------------------------------------------------------
def _entrants_twin(rng, counts, start, cdf, revenue_scale, zone_share, sigma_revenue, sigma_rd, median_rd, rd_ratio,
                   max_rd_base, knowledge_denominator, knowledge_ratio, district, industry, revenue, rd_base, rd_rate, rd, knowledge, in_zone):
    row = start
    for i in range(len(counts)):
        c = counts[i]
        if c <= 0:
            continue
        rows = slice(row, row + c)
        revenue[rows] = revenue_scale[i] * rng.lognormal(0, sigma_revenue, c)
        rd_base[rows] = np.clip(median_rd * rng.lognormal(0, sigma_rd, c) * rd_ratio, 0.002, max_rd_base)
        industry[rows] = cdf[i].searchsorted(rng.random(c), side="right")
        in_zone[rows] = rng.random(c) < zone_share[i]
        district[rows] = i
        row += c
    rows = slice(start, row)
    rd_rate[rows] = rd_base[rows]
    rd[rows] = rd_base[rows] * revenue[rows]
    knowledge[rows] = rd[rows] / knowledge_denominator * knowledge_ratio


@kernel(_entrants_twin)
def entrants(rng, counts, start, cdf, revenue_scale, zone_share, sigma_revenue, sigma_rd, median_rd, rd_ratio,
             max_rd_base, knowledge_denominator, knowledge_ratio, district, industry, revenue, rd_base, rd_rate, rd, knowledge, in_zone):
    """District by district from row ``start``: revenue and R&D intensity (lognormal), industry
    (drawn from the district's cumulative mix ``cdf``, as ``Generator.choice`` draws it) and
    zone membership, each drawn for the district's whole batch in turn, as numpy draws them."""
    row = start
    for i in range(len(counts)):
        c = counts[i]
        for j in range(row, row + c):
            revenue[j] = revenue_scale[i] * rng.lognormal(0.0, sigma_revenue)
        for j in range(row, row + c):
            rd_base[j] = min(max(median_rd * rng.lognormal(0.0, sigma_rd) * rd_ratio, 0.002), max_rd_base)
        for j in range(row, row + c):
            u = rng.random()
            k = 0
            while k < cdf.shape[1] and cdf[i, k] <= u:
                k += 1
            industry[j] = k
        for j in range(row, row + c):
            in_zone[j] = rng.random() < zone_share[i]
            district[j] = i
        row += max(c, 0)
    for j in range(start, row):
        rd_rate[j] = rd_base[j]
        rd[j] = rd_base[j] * revenue[j]
        knowledge[j] = rd[j] / knowledge_denominator * knowledge_ratio
