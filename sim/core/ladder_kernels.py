"""Compiled loops of the ladder and of exit (``sim/core/firm_processes.py``), each with its numpy twin:
registration by imitation, re-evaluation, certification windows, 专精特新 and listing, exit.
Each draws one uniform per row in row order (two where a pass does two of numpy's draws at
once, from ``draws.ahead``); registration, re-evaluation, 专精特新 and listing only for the rows
that can make the step (a firm that cannot register draws nothing for it), as most cannot. See ``sim/util/jit.py`` for what keeps a kernel and its twin bit-identical.
"""

from __future__ import annotations

import numpy as np

from ..util.draws import uniform
from ..util.jit import inline, kernel, maximum as _max, minimum as _min, seqsum


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


def _drawn_below(rng, at_risk, p):
    """Where ``at_risk`` holds, a uniform of ``rng`` (one per such row, in row order) below ``p``."""
    out = np.zeros(len(at_risk), bool)
    rows = np.flatnonzero(at_risk)
    out[rows] = rng.random(len(rows)) < (p[rows] if np.ndim(p) else p)
    return out


def _register_twin(rng, hazard, alive, registered, patents, weight, flags):
    new = _drawn_below(rng, alive & ~registered, hazard)
    registered |= new
    patents[new] = np.maximum(patents[new], 1)
    flags[:] = new
    return seqsum(weight * new)


@kernel(_register_twin)
def register(rng, hazard, alive, registered, patents, weight, flags):
    """Unregistered firms register with their hazard (a uniform per live unregistered row);
    registration needs IP. ``flags`` is left flagging them; returns their weighted count."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    count = 0.0
    for i in range(len(hazard)):
        new = False
        if alive[i] & (not registered[i]):
            hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
            new = u < hazard[i]
        flags[i] = new
        registered[i] |= new
        p = patents[i]
        patents[i] = _max(p, 1.0) if new else p
        count += weight[i] * new
    rng[0], rng[1] = hi, lo
    return count


def _deregister_twin(rng, alive, registered, certified, rd_rate, floor, rate, weight, flags):
    drop = _drawn_below(rng, alive & registered & ~certified & (rd_rate < floor), rate)
    registered &= ~drop
    flags[:] = drop
    return seqsum(weight * drop)


@kernel(_deregister_twin)
def deregister(rng, alive, registered, certified, rd_rate, floor, rate, weight, flags):
    """Registered, uncertified firms below the R&D floor are removed with the given rate (a
    uniform per such row); ``flags`` is left flagging them; returns their weighted count."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    count = 0.0
    for i in range(len(alive)):
        drop = False
        if alive[i] & registered[i] & (not certified[i]) & (rd_rate[i] < floor):
            hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
            drop = u < rate
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


def certify_twin(rng, ahead, cls, odds, c, band_upper, band_rate, alive, registered, certified, leader, rd_rate,
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


@kernel(certify_twin)
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


def specialise_and_list_twin(rng, ahead, cls, specialised_stride, eligible, rate, specialise_rate, dt, alive, certified,
                              specialised, listed, weight, flags, flags_listed):
    spec = _drawn_below(rng, alive & certified & ~specialised, specialise_rate)
    specialised |= spec
    cls = cls + specialised_stride * spec
    new = _drawn_below(rng, alive & ~listed & eligible[cls], rate[cls] * dt)
    listed |= new
    flags[:], flags_listed[:] = spec, new
    return seqsum(weight * spec), seqsum(weight * new)


@kernel(specialise_and_list_twin)
def specialise_and_list(rng, ahead, cls, specialised_stride, eligible, rate, specialise_rate, dt, alive, certified,
                        specialised, listed, weight, flags, flags_listed):
    """Certified firms become 专精特新 (a uniform per live certified row not yet 专精特新), then
    firms their class makes eligible list (a uniform per live eligible row not yet listed): one
    pass, the second uniforms drawn from ``ahead``, the stream as many draws on as there are
    rows of the first kind (``draws.ahead``; ``specialise_candidates`` counts them). ``flags`` and ``flags_listed`` are left
    flagging the newly specialised and listed rows; returns the weighted counts of both.
    ``cls`` are the classes before; a newly specialised firm moves ``specialised_stride`` rows
    on."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    hi2, lo2 = ahead[0], ahead[1]
    specialisations = listings = 0.0
    for i in range(len(alive)):
        spec = False
        if alive[i] & certified[i] & (not specialised[i]):
            hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
            spec = u < specialise_rate
        flags[i] = spec
        specialised[i] |= spec
        specialisations += weight[i] * spec
        c = cls[i] + specialised_stride * spec
        new = False
        if alive[i] & (not listed[i]) & eligible[c]:
            hi2, lo2, u2 = uniform(hi2, lo2, inc_hi, inc_lo)
            new = u2 < rate[c] * dt
        flags_listed[i] = new
        listed[i] |= new
        listings += weight[i] * new
    rng[0], rng[1], ahead[0], ahead[1] = hi, lo, hi2, lo2
    return specialisations, listings


def _specialise_candidates_twin(alive, certified, specialised):
    return int(np.count_nonzero(alive & certified & ~specialised))


@kernel(_specialise_candidates_twin)
def specialise_candidates(alive, certified, specialised):
    """The rows that draw for 专精特新: live, certified, not yet 专精特新."""
    k = 0
    for i in range(len(alive)):
        k += alive[i] & certified[i] & (not specialised[i])
    return k


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
