"""Compiled loops of the firm processes (``sim/firm_processes.py``), each with its numpy twin.

A kernel here does the per-firm arithmetic and draws of one transition; the transition itself
(what it reads from the programmes, what it counts, the order of the quarter) stays in
``firm_processes``. See ``sim/jit.py`` for what keeps a kernel and its twin bit-identical.
"""

from __future__ import annotations

import numpy as np

from .firms import seqsum
from .draws import uniform
from .jit import inline, kernel


# ---- helpers -------------------------------------------------------------------------------------
@inline
def _max(a, b):
    """numpy's maximum (NaN-propagating; of equal values the second)."""
    return a if (a > b or a != a) else b


@inline
def _min(a, b):
    return a if (a < b or a != a) else b


_LOGGAM = (8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04, -5.952380952380952e-04,
           8.417508417508418e-04, -1.917526917526918e-03, 6.410256410256410e-03, -2.955065359477124e-02,
           1.796443723688307e-01, -1.39243221690590e+00)


@inline
def _loggam(x):
    """numpy's random_loggam (Stirling series), which its Poisson sampler uses."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = int(7 - x) if x < 7.0 else 0
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    gl0 = _LOGGAM[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM[k]
    gl = gl0 / x0 + 0.5 * 1.8378770664093453 + (x0 - 0.5) * np.log(x0) - x0
    if x < 7.0:
        for _ in range(n):
            gl -= np.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@inline
def _poisson_ptrs(hi, lo, inc_hi, inc_lo, lam):
    """numpy's PTRS rejection sampler for lam >= 10, step for step (numba's own rounds the
    candidate toward zero where numpy floors it, and so differs now and then)."""
    slam = np.sqrt(lam)
    loglam = np.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        hi, lo, v = uniform(hi, lo, inc_hi, inc_lo)
        u -= 0.5
        us = 0.5 - abs(u)
        k = np.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return hi, lo, int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if np.log(v) + np.log(invalpha) - np.log(a / (us * us) + b) <= -lam + k * loglam - _loggam(k + 1):
            return hi, lo, int(k)


@inline
def _poisson_small(hi, lo, inc_hi, inc_lo, lam):
    """numpy's multiplication sampler for 0 <= lam < 10, draw for draw. The first uniform
    usually decides a small lam: exp(-lam) >= 1 - lam, so a uniform below that (less a margin
    far above rounding) gives 0 without computing the exponential."""
    if lam == 0.0:
        return hi, lo, 0
    hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
    if u < 1.0 - lam - 1e-15:
        return hi, lo, 0
    enlam = np.exp(-lam)
    x, prod = 0, u
    while prod > enlam:
        x += 1
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        prod *= u
    return hi, lo, x


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
            hi, lo, k = _poisson_small(hi, lo, inc_hi, inc_lo, lam)
            patents[i] = patents[i] * keep + k
            i += 1
        if i < n:
            hi, lo, k = _poisson_ptrs(hi, lo, inc_hi, inc_lo, rate * rd[i] * dt)
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
    row = start
    for i in range(len(counts)):
        c = counts[i]
        for j in range(row, row + c):
            revenue[j] = revenue_scale[i] * np.exp(sigma_revenue * rng.standard_normal())
        for j in range(row, row + c):
            rd_base[j] = _min(_max(median_rd * np.exp(sigma_rd * rng.standard_normal()) * rd_ratio, 0.002), max_rd_base)
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
    a = weight * alive
    shares[0] = np.bincount(district, weights=a * registered, minlength=shares.shape[1])
    shares[1] = np.bincount(district, weights=a, minlength=shares.shape[1])


@kernel(_contact_values_twin)
def contact_values(knowledge, revenue, alive, registered, district, weight, table, shares):
    """What a firm shows its contacts, into the first two columns of ``table``: its knowledge
    intensity and whether it is registered (zero once exited); and per district (``shares``)
    the real firms registered and alive, added in row order as FirmPopulation.district_sums
    adds them."""
    shares[:] = 0.0
    run, reg, live = 0, 0.0, 0.0     # the current district's sums, in registers (as in _district_sums)
    for i in range(len(knowledge)):
        table[i, 0] = knowledge[i] / _max(revenue[i], 1e-6) * alive[i]
        table[i, 1] = alive[i] & registered[i]
        d = district[i]
        if d != run:
            shares[0, run], shares[1, run] = reg, live
            reg, live = shares[0, d], shares[1, d]
            run = d
        a = weight[i] * alive[i]
        reg += a * registered[i]
        live += a
    shares[0, run], shares[1, run] = reg, live


def _learn_twin(rng_growth, cls, absorption, growth, c, knowledge, revenue, rd_rate, rd, alive, weight, contacts,
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
    exponent[:] = (g - half_variance) * dt + noise_dt * rng_growth.standard_normal(len(g))
    return absorbed


@kernel(_learn_twin)
def learn(rng_growth, cls, absorption, growth, c, knowledge, revenue, rd_rate, rd, alive, weight, contacts,
          univ_contacts, exponent):
    """Knowledge: depreciation, own R&D and what is absorbed from contacts (``contacts`` and
    ``univ_contacts``: the tables of CollaborationGraph.contact_sums); the exponent of the
    quarter's revenue growth (knowledge growth, the class's growth terms, noise). Returns the
    knowledge absorbed (weighted)."""
    spillover, rd_reference, capacity_cap, dt, knowledge_keep, growth_knowledge, half_variance, noise_dt = c
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
        exponent[i] = (g - half_variance) * dt + noise_dt * rng_growth.standard_normal()
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


# ---- the ladder ----------------------------------------------------------------------------------
def _exposure_exponent_twin(share, district, contacts, contact_weight, push, imitation, dt, out):
    s = share[district]
    neighbour = contacts[:, 3] / np.maximum(contacts[:, 4], 1e-12)
    exposure = np.where(contacts[:, 4] > 0, contact_weight * neighbour + (1 - contact_weight) * s, s)
    out[:] = -(push + imitation * exposure) * dt


@kernel(_exposure_exponent_twin)
def exposure_exponent(share, district, contacts, contact_weight, push, imitation, dt, out):
    """-(p·push + q·exposure)·dt per firm, exposure being the registered share among its
    contacts (weight ``contact_weight``; ``contacts`` is the table of
    CollaborationGraph.contact_sums) and in its district, or its district's alone."""
    for i in range(len(out)):
        s = share[district[i]]
        degree = contacts[i, 4]
        if degree > 0:
            exposure = contact_weight * (contacts[i, 3] / _max(degree, 1e-12)) + (1 - contact_weight) * s
        else:
            exposure = s
        out[i] = -(push + imitation * exposure) * dt


def _register_twin(rng, hazard, alive, registered, patents, weight, flags):
    new = alive & ~registered & (rng.random(len(hazard)) < hazard)
    registered |= new
    patents[new] = np.maximum(patents[new], 1)
    flags[:] = new
    return seqsum(weight * new)


@kernel(_register_twin)
def register(rng, hazard, alive, registered, patents, weight, flags):
    """Unregistered firms register with their hazard (a uniform per row); registration needs
    IP. ``flags`` is left flagging them; returns their weighted count."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    count = 0.0
    for i in range(len(hazard)):
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        # bitwise, not short-circuit, tests: branches on random data mispredict
        new = alive[i] & (not registered[i]) & (u < hazard[i])
        flags[i] = new
        registered[i] |= new
        p = patents[i]
        patents[i] = _max(p, 1.0) if new else p
        count += weight[i] * new
    rng[0], rng[1] = hi, lo
    return count


def _deregister_twin(rng, alive, registered, certified, rd_rate, floor, rate, weight, flags):
    drop = alive & registered & ~certified & (rd_rate < floor) & (rng.random(len(alive)) < rate)
    registered &= ~drop
    flags[:] = drop
    return seqsum(weight * drop)


@kernel(_deregister_twin)
def deregister(rng, alive, registered, certified, rd_rate, floor, rate, weight, flags):
    """Registered, uncertified firms below the R&D floor are removed with the given rate (a
    uniform per row); ``flags`` is left flagging them; returns their weighted count."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    count = 0.0
    for i in range(len(alive)):
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        drop = alive[i] & registered[i] & (not certified[i]) & (rd_rate[i] < floor) & (u < rate)
        flags[i] = drop
        registered[i] &= not drop
        count += weight[i] * drop
    rng[0], rng[1] = hi, lo
    return count


@inline
def _threshold(revenue, band_upper, band_rate):
    """cert_threshold for one revenue (the bands are tuples), as selects rather than branches."""
    t = band_rate[len(band_rate) - 1]
    for b in range(len(band_upper) - 2, -1, -1):
        t = band_rate[b] if revenue <= band_upper[b] else t
    return t


def _threshold_twin(revenue, band_upper, band_rate):
    out = np.full(revenue.shape, band_rate[-1])
    for upper, rate in reversed(list(zip(band_upper[:-1], band_rate[:-1]))):
        out[revenue <= upper] = rate
    return out


def _certify_twin(rng, ahead, cls, odds, c, band_upper, band_rate, alive, registered, certified, leader, rd_rate,
                  rd_base, rd, revenue, patents, age, cert_expiry, weight, flags):
    step, validity, bunch_factor, recert_rate, pass_rate, max_rd_base = c
    n = len(alive)
    threshold = _threshold_twin(revenue, band_upper, band_rate)
    eligible = alive & registered & (rd_rate >= threshold * bunch_factor) & (patents >= 1) & (age >= 1)
    expiring = alive & certified & (cert_expiry <= step) & ~leader
    renew = expiring & eligible & (rng.random(n) < recert_rate)
    lapse = expiring & ~renew
    cert_expiry[renew] += validity
    certified &= ~lapse
    new = eligible & ~certified & (rng.random(n) < odds[cls] * pass_rate)
    certified |= new
    cert_expiry[new] = step + validity
    topped = np.flatnonzero((new | renew) & (rd_rate < threshold))
    if len(topped):
        lift = threshold[topped] / np.maximum(rd_rate[topped], 1e-12)
        rd_base[topped] = np.minimum(rd_base[topped] * lift, max_rd_base)
        rd_rate[topped] = threshold[topped]
        rd[topped] = rd_rate[topped] * revenue[topped]
    flags[:] = new
    return seqsum(weight * new), seqsum(weight * renew), seqsum(weight * lapse)


@kernel(_certify_twin)
def certify(rng, ahead, cls, odds, c, band_upper, band_rate, alive, registered, certified, leader, rd_rate,
            rd_base, rd, revenue, patents, age, cert_expiry, weight, flags):
    """A certification window: expiring certificates renew or lapse (a uniform per row), then
    eligible uncertified firms pass with their class's odds (a second uniform per row, drawn
    from ``ahead``, the stream n draws on); firms certified or renewed below their R&D threshold
    top their R&D up to it. ``flags`` is left flagging the newly certified rows; returns the
    weighted counts of certifications, renewals and lapses."""
    step, validity, bunch_factor, recert_rate, pass_rate, max_rd_base = c
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    hi2, lo2 = ahead[0], ahead[1]
    certifications = renewals = lapses = 0.0
    for i in range(len(alive)):
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        hi2, lo2, u2 = uniform(hi2, lo2, inc_hi, inc_lo)
        threshold = _threshold(revenue[i], band_upper, band_rate)
        eligible = (alive[i] & registered[i] & (rd_rate[i] >= threshold * bunch_factor) & (patents[i] >= 1)
                    & (age[i] >= 1))
        renew = False
        if alive[i] & certified[i] & (cert_expiry[i] <= step) & (not leader[i]):   # rare: a branch
            renew = eligible & (u < recert_rate)
            if renew:
                cert_expiry[i] += validity
                renewals += weight[i]
            else:
                certified[i] = False
                lapses += weight[i]
        new = eligible & (not certified[i]) & (u2 < odds[cls[i]] * pass_rate)
        certified[i] |= new
        cert_expiry[i] = step + validity if new else cert_expiry[i]
        certifications += weight[i] * new
        if (new | renew) & (rd_rate[i] < threshold):
            lift = threshold / _max(rd_rate[i], 1e-12)
            rd_base[i] = _min(rd_base[i] * lift, max_rd_base)
            rd_rate[i] = threshold
            rd[i] = threshold * revenue[i]
        flags[i] = new
    rng[0], rng[1], ahead[0], ahead[1] = hi, lo, hi2, lo2
    return certifications, renewals, lapses


def _specialise_and_list_twin(rng, ahead, cls, specialised_stride, eligible, rate, specialise_rate, dt, alive, certified,
                              specialised, listed, weight, flags, flags_listed):
    n = len(alive)
    spec = alive & certified & ~specialised & (rng.random(n) < specialise_rate)
    specialised |= spec
    cls = cls + specialised_stride * spec
    new = alive & ~listed & eligible[cls] & (rng.random(n) < rate[cls] * dt)
    listed |= new
    flags[:], flags_listed[:] = spec, new
    return seqsum(weight * spec), seqsum(weight * new)


@kernel(_specialise_and_list_twin)
def specialise_and_list(rng, ahead, cls, specialised_stride, eligible, rate, specialise_rate, dt, alive, certified,
                        specialised, listed, weight, flags, flags_listed):
    """Certified firms become 专精特新 (a uniform per row), then firms their class makes
    eligible list (a second uniform per row): one pass, the second uniforms drawn from
    ``ahead``, the stream n draws on (``draws.ahead``). ``flags`` and ``flags_listed`` are left
    flagging the newly specialised and listed rows; returns the weighted counts of both.
    ``cls`` are the classes before; a newly specialised firm moves ``specialised_stride`` rows
    on."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    hi2, lo2 = ahead[0], ahead[1]
    specialisations = listings = 0.0
    for i in range(len(alive)):
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        hi2, lo2, u2 = uniform(hi2, lo2, inc_hi, inc_lo)
        spec = alive[i] & certified[i] & (not specialised[i]) & (u < specialise_rate)
        flags[i] = spec
        specialised[i] |= spec
        specialisations += weight[i] * spec
        c = cls[i] + specialised_stride * spec
        new = alive[i] & (not listed[i]) & eligible[c] & (u2 < rate[c] * dt)
        flags_listed[i] = new
        listed[i] |= new
        listings += weight[i] * new
    rng[0], rng[1], ahead[0], ahead[1] = hi, lo, hi2, lo2
    return specialisations, listings


# ---- exit ----------------------------------------------------------------------------------------
def _exit_twin(rng, cls, hazard, alive, registered, weight, flags):
    gone = alive & (rng.random(len(alive)) < hazard[cls])
    alive &= ~gone
    flags[:] = gone
    return seqsum(weight * gone), seqsum(weight * (gone & registered))


@kernel(_exit_twin)
def exit_firms(rng, cls, hazard, alive, registered, weight, flags):
    """Live firms exit with their class's hazard. ``flags`` is left flagging the exits; returns
    the weighted exits and exits of registered firms."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    exits = exits_registered = 0.0
    for i in range(len(alive)):
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        gone = alive[i] & (u < hazard[cls[i]])
        flags[i] = gone
        alive[i] &= not gone
        w = weight[i] * gone
        exits += w
        exits_registered += w * registered[i]
    rng[0], rng[1] = hi, lo
    return exits, exits_registered
