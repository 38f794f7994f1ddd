"""Compiled loops of the firm processes (``sim/core/firm_processes.py``) other than the ladder's and
exit's (``sim/core/ladder_kernels.py``): patents, entry, R&D, contacts, knowledge and growth, each
with its numpy twin.

A kernel here does the per-firm arithmetic and draws of one transition; the transition itself
(what it reads from the programmes, what it counts, the order of the quarter) stays in
``firm_processes``. See ``sim/util/jit.py`` for what keeps a kernel and its twin bit-identical.
"""

from __future__ import annotations

import numpy as np

from ..util.draws import normal, poisson_ptrs, poisson_small, uniform
from ..util.jit import kernel, maximum as _max, minimum as _min, seqsum


def _patents_twin(rng, rd, patents, rate, dt, keep):
    patents[:] = patents * keep + rng.poisson(rate * rd * dt)


@kernel(_patents_twin)
def patents(rng, rd, patents, rate, dt, keep):
    """Patents: the share ``keep`` of those held stays in force and Generator.poisson(rate · R&D
    · dt) are granted, the same draws as numpy's. Rows of lam >= 10 (the rejection sampler)
    are drawn outside the inner loop: a call to it inside slows the common case fivefold."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    i, n = 0, len(rd)
    while i < n:
        while i < n:
            lam = rate * rd[i] * dt
            if lam >= 10.0:
                break
            hi, lo, k = poisson_small(hi, lo, inc_hi, inc_lo, lam)
            patents[i] = patents[i] * keep + k
            i += 1
        if i < n:
            hi, lo, k = poisson_ptrs(hi, lo, inc_hi, inc_lo, rate * rd[i] * dt)
            patents[i] = patents[i] * keep + k
            i += 1
    rng[0], rng[1] = hi, lo


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
    """District by district from row ``start``: revenue and R&D intensity (lognormal: exp of the
    scaled normal draw, as numpy forms it), industry (drawn from the district's cumulative mix
    ``cdf``, as ``Generator.choice`` draws it) and zone membership, each drawn for the
    district's whole batch in turn, as numpy draws them."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    row = start
    for i in range(len(counts)):
        c = counts[i]
        for j in range(row, row + c):
            hi, lo, z = normal(hi, lo, inc_hi, inc_lo)
            revenue[j] = revenue_scale[i] * np.exp(sigma_revenue * z)
        for j in range(row, row + c):
            hi, lo, z = normal(hi, lo, inc_hi, inc_lo)
            rd_base[j] = _min(_max(median_rd * np.exp(sigma_rd * z) * rd_ratio, 0.002), max_rd_base)
        for j in range(row, row + c):
            hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
            k = 0
            while k < cdf.shape[1] and cdf[i, k] <= u:
                k += 1
            industry[j] = k
        for j in range(row, row + c):
            hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
            in_zone[j] = u < zone_share[i]
            district[j] = i
        row += max(c, 0)
    rng[0], rng[1] = hi, lo
    for j in range(start, row):
        rd_rate[j] = rd_base[j]
        rd[j] = rd_base[j] * revenue[j]
        knowledge[j] = rd[j] / knowledge_denominator * knowledge_ratio


# ---- R&D -----------------------------------------------------------------------------------------
def _choose_rd_twin(factor, cls, rd_base, revenue, alive, rd_rate, rd, max_rate):
    rd_rate[:] = np.clip(rd_base * factor[cls], 0.0, max_rate)
    rd[:] = rd_rate * revenue * alive


@kernel(_choose_rd_twin)
def choose_rd(factor, cls, rd_base, revenue, alive, rd_rate, rd, max_rate):
    """R&D intensity: the reference intensity times its class's price factor, capped."""
    for i in range(len(rd_base)):
        r = _min(_max(rd_base[i] * factor[cls[i]], 0.0), max_rate)
        rd_rate[i] = r
        rd[i] = r * revenue[i] * alive[i]


# ---- knowledge and growth ------------------------------------------------------------------------
def _contact_values_twin(knowledge, revenue, alive, registered, district, weight, table, shares):
    table[:, 0] = knowledge / np.maximum(revenue, 1e-6) * alive
    table[:, 1] = alive & registered
    table[:, 2:] = 0.0
    a = weight * alive
    shares[0] = np.bincount(district, weights=a * registered, minlength=shares.shape[1])
    shares[1] = np.bincount(district, weights=a, minlength=shares.shape[1])


@kernel(_contact_values_twin)
def contact_values(knowledge, revenue, alive, registered, district, weight, table, shares):
    """What a firm shows its contacts, into the first two columns of ``table``: its knowledge
    intensity and whether it is registered (zero once exited), with the three columns of sums
    CollaborationGraph.contact_sums adds into zeroed (the same cache line, so no pass of its
    own); and per district (``shares``) the real firms registered and alive, added in row order
    as FirmPopulation.district_sums adds them."""
    shares[:] = 0.0
    run, reg, live = 0, 0.0, 0.0     # the current district's sums, in registers (as in _district_sums)
    for i in range(len(knowledge)):
        table[i, 0] = knowledge[i] / _max(revenue[i], 1e-6) * alive[i]
        table[i, 1] = alive[i] & registered[i]
        table[i, 2] = table[i, 3] = table[i, 4] = 0.0
        d = district[i]
        if d != run:
            shares[0, run], shares[1, run] = reg, live
            reg, live = shares[0, d], shares[1, d]
            run = d
        a = weight[i] * alive[i]
        reg += a * registered[i]
        live += a
    shares[0, run], shares[1, run] = reg, live


def _learn_twin(rng, cls, absorption, growth, c, knowledge, revenue, rd_rate, rd, alive, weight, contacts,
                univ_contacts, exponent):
    spillover, rd_reference, capacity_cap, dt, knowledge_keep, growth_knowledge, half_variance, noise_dt = c
    degree = contacts[:, 4] + univ_contacts[:, 1]
    neighbour_k = (contacts[:, 2] + univ_contacts[:, 0]) / np.maximum(degree, 1e-12)
    rev = np.maximum(revenue, 1e-6)
    k = knowledge / rev
    absorb = np.minimum(rd_rate / rd_reference, capacity_cap) * absorption[cls]
    gain = spillover * absorb * np.maximum(neighbour_k - k, 0.0) * rev * dt * (degree > 0)
    absorbed = seqsum(gain * weight * alive)
    before = knowledge.copy()
    knowledge[:] = before * knowledge_keep + rd * dt + gain
    knowledge_growth = (knowledge - before) / np.maximum(before, 1e-9) / dt
    g = growth[cls] + growth_knowledge * np.clip(knowledge_growth, -1, 1)
    exponent[:] = (g - half_variance) * dt + noise_dt * rng.standard_normal(len(g))
    return absorbed


@kernel(_learn_twin)
def learn(rng, cls, absorption, growth, c, knowledge, revenue, rd_rate, rd, alive, weight, contacts,
          univ_contacts, exponent):
    """Knowledge: depreciation, own R&D and what is absorbed from contacts (``contacts`` and
    ``univ_contacts``: the tables of CollaborationGraph.contact_sums); the exponent of the
    quarter's revenue growth (knowledge growth, the class's growth terms, noise). Returns the
    knowledge absorbed (weighted)."""
    spillover, rd_reference, capacity_cap, dt, knowledge_keep, growth_knowledge, half_variance, noise_dt = c
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    absorbed = 0.0
    for i in range(len(knowledge)):
        cl = cls[i]
        degree = contacts[i, 4] + univ_contacts[i, 1]
        neighbour_k = (contacts[i, 2] + univ_contacts[i, 0]) / _max(degree, 1e-12)
        rev = _max(revenue[i], 1e-6)
        k = knowledge[i] / rev
        absorb = _min(rd_rate[i] / rd_reference, capacity_cap) * absorption[cl]
        gain = spillover * absorb * _max(neighbour_k - k, 0.0) * rev * dt * (degree > 0)
        absorbed += gain * weight[i] * alive[i]
        before = knowledge[i]
        after = before * knowledge_keep + rd[i] * dt + gain
        knowledge[i] = after
        kg = (after - before) / _max(before, 1e-9) / dt
        g = growth[cl] + growth_knowledge * _min(_max(kg, -1.0), 1.0)
        hi, lo, z = normal(hi, lo, inc_hi, inc_lo)
        exponent[i] = (g - half_variance) * dt + noise_dt * z
    rng[0], rng[1] = hi, lo
    return absorbed


def _grow_twin(cls, push, factor, revenue, age, rd_base, dt, drift, max_rd_base):
    revenue[:] = np.maximum(revenue, 1e-6) * factor
    age += dt
    rd_base[:] = np.where(push[cls], np.minimum(rd_base * drift, max_rd_base), rd_base)


@kernel(_grow_twin)
def grow(cls, push, factor, revenue, age, rd_base, dt, drift, max_rd_base):
    """Revenue times its growth factor; a year older by the quarter; firms their class pushes
    toward certification raise their reference R&D intensity."""
    for i in range(len(revenue)):
        revenue[i] = _max(revenue[i], 1e-6) * factor[i]
        age[i] += dt
        if push[cls[i]]:
            rd_base[i] = _min(rd_base[i] * drift, max_rd_base)
