"""What the firms do each quarter: small named transitions over the whole population at once.

Each reads the policy only through the programmes' terms (``model.fold``) and hooks
(``model.call``), draws from its own random stream, counts its flows in ``model.events`` and —
where it moves firms between states — returns the rows it changed. ``sim/model.py`` sets their
order in the quarter.
"""

from __future__ import annotations

import math

import numpy as np

from . import firm_kernels
from .firms import FIRM_START, KNOWLEDGE_GROWTH_START, cert_threshold
from .funds import MILLION_PER_100M
from .network import MIN_WEIGHT
from .params import INDUSTRY_MIX

DT = 0.25  # years per step
CIT_STANDARD, CIT_HIGH_TECH = 0.25, 0.15  # corporate income tax rates (high-tech: 国科发火〔2016〕32号)
MIN_RD_COST = 0.05      # the after-tax, after-subsidy cost of a yuan of R&D never falls below 5 fen
MAX_RD_RATE = 0.5       # no firm spends more than half its revenue on R&D
MAX_RD_BASE = 0.4       # nor chooses to at reference prices


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


# ---- R&D ---------------------------------------------------------------------------------------
def choose_rd(model) -> None:
    """Firms set R&D from the intensity they chose at reference prices and the price elasticity of
    its cost now (after tax rate, super-deduction and subsidy) against the reference cost."""
    pop, n = model.firms, model.firms.n
    tax = np.where(pop.col("certified"), CIT_HIGH_TECH, CIT_STANDARD)
    cost = model.fold("rd_cost", 1, tax, False)
    cost_ref = model.fold("rd_cost", 1, tax, True)
    factor = (np.maximum(cost, MIN_RD_COST) / np.maximum(cost_ref, MIN_RD_COST)) ** (-model.params.behaviour.rd_elasticity)
    pop.rd_rate[:n] = np.clip(pop.rd_base[:n] * factor, 0.0, MAX_RD_RATE)
    pop.rd[:n] = pop.rd_rate[:n] * pop.revenue[:n] * pop.col("alive")


# ---- knowledge and growth ----------------------------------------------------------------------
def learn_and_grow(model) -> None:
    """Knowledge: own R&D plus spillover from contacts and universities (scaled by absorptive
    capacity), less depreciation; patents; revenue growth from knowledge growth and the
    programmes' terms, with idiosyncratic noise; firms pushed toward certification raise R&D."""
    b, pop, n = model.params.behaviour, model.firms, model.firms.n
    alive = pop.col("alive")
    revenue = np.maximum(pop.col("revenue"), 1e-6)
    k = pop.col("knowledge") / revenue
    absorb = model.fold("absorption", np.minimum(pop.col("rd_rate") / b.absorption_rd_reference, b.absorption_cap))
    k_univ = np.array([u.knowledge_intensity for u in model.universities])
    neighbour_k, degree = model.network.neighbour_mean(n, k * alive, k_univ)
    gain = b.spillover * absorb * np.maximum(neighbour_k - k, 0.0) * revenue * DT * (degree > 0)
    model.events["knowledge_absorbed"] = float((gain * pop.col("weight") * alive).sum() / MILLION_PER_100M)
    before = pop.knowledge[:n].copy()
    pop.knowledge[:n] = before * (1 - b.knowledge_depreciation * DT) + pop.rd[:n] * DT + gain
    pop.patents[:n] = pop.patents[:n] * (1 - b.patent_lapse * DT) + model.stream("knowledge").poisson(b.patent_rate * pop.rd[:n] * DT)
    knowledge_growth = (pop.knowledge[:n] - before) / np.maximum(before, 1e-9) / DT

    growth = model.fold("growth", b.growth_base + b.growth_knowledge * np.clip(knowledge_growth, -1, 1))
    shock = model.stream("growth").standard_normal(n)
    pop.revenue[:n] = revenue * np.exp((growth - 0.5 * b.growth_noise**2) * DT + b.growth_noise * math.sqrt(DT) * shock)
    pop.age[:n] += DT
    push = model.fold("rd_push", np.zeros(n, bool))
    pop.rd_base[:n] = np.where(push, np.minimum(pop.rd_base[:n] * (1 + b.rd_rate_drift * DT), MAX_RD_BASE), pop.rd_base[:n])


# ---- the ladder --------------------------------------------------------------------------------
def register(model) -> np.ndarray:
    """Registration as a tech-based SME: a Bass-type hazard p·push + q·(registered share among
    whom the candidate imitates: its contacts and its district, or everyone)."""
    b, pop, n = model.params.behaviour, model.firms, model.firms.n
    alive, registered, w = pop.col("alive"), pop.col("registered"), pop.col("weight")
    candidates = alive & ~registered
    reg_f = (alive & registered).astype(float)
    if b.mixing == "complete":
        exposure = np.full(n, (reg_f * w).sum() / max((alive * w).sum(), 1e-12))
    else:
        share_d = (model.district_firm_sum(None, registered) / np.maximum(model.district_firm_sum(None), 1e-12))[pop.col("district")]
        neighbour, degree = model.network.neighbour_mean(n, reg_f)
        c = b.imitation_contact_weight
        exposure = np.where(degree > 0, c * neighbour + (1 - c) * share_d, share_d)
    push = model.fold("registration_push", 1.0)
    hazard = 1 - np.exp(-(b.bass_p * push + b.bass_q * exposure) * DT)
    new = candidates & (model.stream("ladder").random(n) < hazard)
    pop.registered[:n] |= new
    pop.patents[:n][new] = np.maximum(pop.patents[:n][new], 1)  # registration needs IP
    model.events["registrations"] = pop.count(new)
    return _rows(new)


def deregister(model) -> np.ndarray:
    """Yearly re-evaluation (Q2): registered firms below the R&D floor may be removed."""
    b, pop, n = model.params.behaviour, model.firms, model.firms.n
    weak = pop.col("alive") & pop.col("registered") & ~pop.col("certified") & (pop.col("rd_rate") < b.registration_rd_floor)
    drop = weak & (model.stream("ladder").random(n) < b.deregistration_rate)
    pop.registered[:n] &= ~drop
    model.events["deregistrations"] = pop.count(drop)
    return _rows(drop)


def certify(model) -> np.ndarray:
    """A certification window: expiring certificates renew or lapse, eligible firms apply (close
    below the threshold, they top their R&D up to it: bunching at the notch) and pass."""
    b, c, pop, n = model.params.behaviour, model.params.cultivation, model.firms, model.firms.n
    rng = model.stream("ladder")
    alive = pop.col("alive")
    validity = 4 * c.validity_years
    threshold = cert_threshold(pop.col("revenue"))
    eligible = (alive & pop.col("registered") & (pop.col("rd_rate") >= threshold * (1 - b.cert_bunching))
                & (pop.col("patents") >= 1) & (pop.col("age") >= 1))
    expiring = alive & pop.col("certified") & (pop.col("cert_expiry") <= model.steps) & ~pop.col("leader")
    renew = expiring & eligible & (rng.random(n) < b.recert_rate)
    lapse = expiring & ~renew
    pop.cert_expiry[:n][renew] += validity
    pop.certified[:n] &= ~lapse
    apply = np.minimum(model.fold("certification_odds", b.apply_rate), 1.0)
    new = eligible & ~pop.col("certified") & (rng.random(n) < apply * b.pass_rate)
    pop.certified[:n] |= new
    pop.cert_expiry[:n][new] = model.steps + validity
    topped = np.flatnonzero((new | renew) & (pop.col("rd_rate") < threshold))
    if len(topped):
        lift = threshold[topped] / np.maximum(pop.rd_rate[topped], 1e-12)
        pop.rd_base[topped] = np.minimum(pop.rd_base[topped] * lift, MAX_RD_BASE)
        pop.rd_rate[topped] = threshold[topped]
        pop.rd[topped] = pop.rd_rate[topped] * pop.revenue[topped]
    model.events.update(certifications=pop.count(new), renewals=pop.count(renew), lapses=pop.count(lapse))
    return _rows(new)


def specialise_and_list(model) -> tuple[np.ndarray, np.ndarray]:
    """Certified firms become 专精特新; 专精特新 firms (and those the programmes make eligible)
    list. Returns the rows newly specialised and newly listed."""
    b, pop, n = model.params.behaviour, model.firms, model.firms.n
    rng = model.stream("ladder")
    alive = pop.col("alive")
    spec = alive & pop.col("certified") & ~pop.col("specialised") & (rng.random(n) < b.specialised_rate * DT)
    pop.specialised[:n] |= spec
    eligible, rate = model.fold("listing", pop.col("specialised"), b.listing_rate)
    new_listed = alive & ~pop.col("listed") & eligible & (rng.random(n) < rate * DT)
    pop.listed[:n] |= new_listed
    model.events.update(specialised=pop.count(spec), listings=pop.count(new_listed))
    rows = _rows(new_listed)
    model.call("after_listing", rows)
    return _rows(spec), rows


def climb_ladder(model) -> None:
    """The quarter's ladder: registration, the Q2 re-evaluation, certification windows, status."""
    register(model)
    if model.quarter == 2:
        deregister(model)
    if model.quarter in model.params.cultivation.certification_windows:
        certify(model)
    pop = model.firms
    pop.cert_expiry[: pop.n][pop.col("leader")] = model.steps + 4 * model.params.cultivation.validity_years  # leading firms keep their status
    specialise_and_list(model)


# ---- exit and entry ----------------------------------------------------------------------------
def exit_firms(model) -> np.ndarray:
    b, pop, n = model.params.behaviour, model.firms, model.firms.n
    alive, registered = pop.col("alive"), pop.col("registered")
    rate = model.fold("exit_hazard", np.where(registered, b.exit_rate_registered, b.exit_rate_candidate)) * ~pop.col("leader")
    exit_now = alive & (model.stream("exit").random(n) < 1 - np.exp(-rate * DT))
    pop.alive[:n] &= ~exit_now
    model.events["exits"] = pop.count(exit_now)
    model.events["exits_registered"] = pop.count(exit_now & registered)
    rows = _rows(exit_now)
    model.call("after_exit", rows)
    return rows


def enter_firms(model) -> np.ndarray:
    """New R&D-active firms, in proportion to each district's candidate pool plus what the
    programmes add (incubators)."""
    b, pop = model.params.behaviour, model.firms
    per_year = model.fold("entry", b.entry_rate * model.district_firm_sum(None, ~pop.col("registered")))
    counts = model.stream("entry").poisson(np.maximum(per_year * DT * model.params.scale, 0))
    return add_entrants(model, counts, registered=False)


def median_candidate_revenue(model) -> np.ndarray:
    """Per district, the median revenue of its unregistered firms at the start: what entrants
    are sized against."""
    pop = model.firms
    cand = ~pop.col("registered")
    return np.array([float(np.median(pop.revenue[: pop.n][cand & (pop.col("district") == i)]))
                     if np.any(cand & (pop.col("district") == i)) else FIRM_START["candidate"][0]
                     for i in range(model.n_districts)])


def industry_cdf(model) -> np.ndarray:
    """Per district, the cumulative industry mix entrants are drawn from (as Generator.choice
    forms it from the mix)."""
    out = []
    for d in model.district_list:
        cdf = np.asarray(INDUSTRY_MIX[d.group], np.float64).cumsum()
        cdf /= cdf[-1]
        out.append(cdf)
    return np.array(out)


def add_entrants(model, counts: np.ndarray, registered: bool, rd_ratio: float = 1.0, knowledge_ratio: float = 1.0,
                 stream: str = "entry") -> np.ndarray:
    """``counts[i]`` new rows in district i, smaller than its incumbents; returns their rows."""
    pop, p, rng = model.firms, model.params, model.stream(stream)
    counts = np.asarray(counts, np.int64)
    zone = np.array([model.fold("entrant_zone_share", FIRM_START["zone_share"][d.hightech_zone], d) if c > 0 else 0.0
                     for d, c in zip(model.district_list, counts)])
    total = int(counts[counts > 0].sum())
    rows = pop.add(total, weight=1.0 / p.scale, born=model.steps, registered=registered)
    if total:
        firm_kernels.entrants(rng, counts, int(rows[0]), model.industry_cdf, p.behaviour.entrant_revenue_ratio * model.entrant_revenue,
                              zone, FIRM_START["revenue_sigma"], FIRM_START["rd_sigma"], FIRM_START["candidate"][1], rd_ratio,
                              MAX_RD_BASE, KNOWLEDGE_GROWTH_START + p.behaviour.knowledge_depreciation, knowledge_ratio,
                              *(pop.col(c) for c in ("district", "industry", "revenue", "rd_base", "rd_rate", "rd", "knowledge", "in_zone")))
    model.events["births"] += total / p.scale
    return rows


# ---- links -------------------------------------------------------------------------------------
def form_links(model, n_new: int, years: float, levers=None) -> None:
    """New firm links (local, paired, Sichuan–Chongqing or same-industry, in the programmes' mix),
    the consortia's links, and universities' links."""
    b, net = model.params.behaviour, model.network
    levers = levers or model.params
    mix = model.fold("link_mix", {"paired": 0.0, "sichuan_chongqing": 0.0}, levers)
    rng = model.stream("links")
    with net.forming():
        net.form_firm_links(model.firms, n_new, rng, b.link_local_share, mix["paired"], mix["sichuan_chongqing"], model.border)
        model.call("form_links", rng, years, levers)
        per_u = int(rng.poisson(b.university_link_rate * years * model.params.scale))
        net.form_university_links(model.firms, np.array([u.district_index for u in model.universities]),
                                  per_u, rng, local_share=b.link_local_share)


def relink(model) -> None:
    """Links decay (and those of exited firms go); each live firm forms new ones at its rate."""
    b = model.params.behaviour
    model.network.decay(model.firms, b.link_decay, DT)
    form_links(model, int(b.link_rate * model.firms.col("alive").sum() * DT), DT)


def seed_links(model) -> None:
    """Links at start: the steady state of formation and decay, with weights of all ages. The
    end-of-start-year network is history: every scenario starts from the links the levers as
    they were then had formed; a scenario's own levers act from the first step."""
    b, net = model.params.behaviour, model.network
    lifetime = math.log(1 / MIN_WEIGHT) / max(b.link_decay, 1e-9)
    before = len(net.w)
    form_links(model, int(b.link_rate * int(model.firms.col("alive").sum()) * lifetime / 2), years=lifetime,
               levers=model.reference_params())
    ages = model.rng.uniform(0, lifetime, len(net.w) - before)
    net.w[before:] *= np.exp(-b.link_decay * ages)
    net.u_w[:] *= np.exp(-b.link_decay * model.rng.uniform(0, lifetime, len(net.u_w)))
