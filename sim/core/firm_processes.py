"""What the firms do each quarter: small named transitions over the whole population at once.

Each reads the policy only through the programmes' terms (``model.fold``) and hooks
(``model.call``), draws from its own random stream, counts its flows in ``model.events`` and —
where it moves firms between states — returns the rows it changed (their flags where no caller
needs the rows). ``sim/model.py`` sets their order in the quarter.

A transition evaluates the programmes' terms once per class of firms (a ``FirmClasses`` table:
the few attributes a term may depend on) and hands the tables to a compiled loop over the firms
(``sim/core/firm_kernels.py``, ``sim/core/ladder_kernels.py``) that looks each firm's class up, draws its random numbers in row order
from the transition's stream and updates it in one pass.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..params.constants import CERT_RD_BANDS, DT, FIRM_START, INDUSTRY_MIX, STEPS_PER_YEAR
from ..util import draws
from . import firm_kernels, ladder_kernels, resolution
from .firms import CLASS_ATTRIBUTES, KNOWLEDGE_GROWTH_START, FirmClasses
from .funds import MILLION_PER_100M
from .network import MIN_WEIGHT

CIT_STANDARD, CIT_HIGH_TECH = 0.25, 0.15  # corporate income tax rates (high-tech: 国科发火〔2016〕32号)
MIN_RD_COST = 0.05      # the after-tax, after-subsidy cost of a yuan of R&D never falls below 5 fen
MAX_RD_RATE = 0.5       # no firm spends more than half its revenue on R&D
MAX_RD_BASE = 0.4       # nor chooses to at reference prices
BAND_UPPER = tuple(float(upper) for upper, _ in CERT_RD_BANDS)   # cert_threshold's bands, for the kernels
BAND_RATE = tuple(float(rate) for _, rate in CERT_RD_BANDS)


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def classes(model, process: str, attributes: tuple[str, ...]) -> FirmClasses:
    """The firm classes a process evaluates its terms on (made once per model)."""
    cache = model.__dict__.setdefault("_firm_classes", {})
    if process not in cache:
        cache[process] = FirmClasses(attributes, model.n_districts, process)
    return cache[process]


# ---- R&D ---------------------------------------------------------------------------------------
def choose_rd(model) -> None:
    """Firms set R&D from the intensity they chose at reference prices and the price elasticity of
    its cost now (after tax rate, super-deduction and subsidy) against the reference cost; the
    cost is that of the firm's class (district, industry, registration, certification)."""
    pop = model.firms
    cls = classes(model, "choose_rd", ("district", "industry", "registered", "certified"))
    tax = np.where(cls.col("certified"), CIT_HIGH_TECH, CIT_STANDARD)
    cost = model.fold("rd_cost", 1, tax, False, cls)
    cost_ref = model.fold("rd_cost", 1, tax, True, cls)
    factor = (np.maximum(cost, MIN_RD_COST) / np.maximum(cost_ref, MIN_RD_COST)) ** (-model.params.behaviour.rd_elasticity)
    firm_kernels.choose_rd(np.ascontiguousarray(factor, np.float64), pop.classes_of(cls), pop.col("rd_base"),
                           pop.col("revenue"), pop.col("alive"), pop.col("rd_rate"), pop.col("rd"), MAX_RD_RATE)


# ---- knowledge and growth ----------------------------------------------------------------------
class Contacts(NamedTuple):
    """What firms see at the start of the quarter (``observe_contacts``)."""
    table: np.ndarray           # per firm: knowledge intensity, registered, their link-weighted sums over its contacts, link weight
    universities: np.ndarray    # per firm: link-weighted knowledge intensity of its universities, university link weight
    district_registered: np.ndarray   # per district: real firms registered
    district_firms: np.ndarray        # per district: real live firms


def observe_contacts(model) -> None:
    """What each firm sees of its contacts at the start of the quarter, before the ladder: their
    knowledge intensity (and that of its universities) and whether they are registered, as
    link-weighted sums, and its district's registered share (``model.contacts``). Knowledge
    spillover and registration by imitation both read it."""
    pop = model.firms
    table = pop.scratch("contacts", np.float64, 5)
    shares = np.zeros((2, model.n_districts))
    firm_kernels.contact_values(*(pop.col(c) for c in ("knowledge", "revenue", "alive", "registered", "district", "weight")),
                                table, shares)
    universities = model.network.contact_sums(table, [u.knowledge_intensity for u in model.universities])
    model.contacts = Contacts(table, universities, shares[0], shares[1])


def learn_and_grow(model) -> None:
    """Knowledge: own R&D plus spillover from contacts and universities (scaled by absorptive
    capacity), less depreciation; patents; revenue growth from knowledge growth and the
    programmes' terms, with idiosyncratic noise; firms pushed toward certification raise R&D."""
    b, pop = model.params.behaviour, model.firms
    cls = classes(model, "learn_and_grow", ("district", "industry", "on_list", "has_loan", "has_equity"))
    absorption = np.ascontiguousarray(model.fold("absorption", np.ones(cls.n), cls), np.float64)
    growth = np.ascontiguousarray(model.fold("growth", np.full(cls.n, b.growth_base), cls), np.float64)
    push = np.ascontiguousarray(model.fold("rd_push", np.zeros(cls.n, bool), cls), bool)
    rows = pop.classes_of(cls)
    exponent = pop.scratch("exponent")
    terms = (b.spillover, b.absorption_rd_reference, b.absorption_cap, DT, 1 - b.knowledge_depreciation * DT,
             b.growth_knowledge, 0.5 * b.growth_noise**2, b.growth_noise * math.sqrt(DT))
    with draws.stream(model.stream("growth")) as rng:
        absorbed = firm_kernels.learn(rng, rows, absorption, growth, terms,
                                      *(pop.col(c) for c in ("knowledge", "revenue", "rd_rate", "rd", "alive", "weight")),
                                      model.contacts.table, model.contacts.universities, exponent)
    with draws.stream(model.stream("knowledge")) as rng:
        firm_kernels.patents(rng, pop.col("rd"), pop.col("patents"), b.patent_rate, DT, 1 - b.patent_lapse * DT)
    model.events["knowledge_absorbed"] = absorbed / MILLION_PER_100M
    np.exp(exponent, out=exponent)
    firm_kernels.grow(rows, push, exponent, pop.col("revenue"), pop.col("age"),
                      pop.col("rd_base"), DT, 1 + b.rd_rate_drift * DT, MAX_RD_BASE)


# ---- the ladder --------------------------------------------------------------------------------
def register(model) -> np.ndarray:
    """Registration as a tech-based SME: a Bass-type hazard p·push + q·(registered share among
    whom the candidate imitates: its contacts and its district, or everyone). Returns the
    flags of the rows that registered (a scratch array: read it before the next process)."""
    b, pop, n = model.params.behaviour, model.firms, model.firms.n
    push = model.fold("registration_push", 1.0)
    x = pop.scratch("exponent")
    if b.mixing == "complete":
        alive, w = pop.col("alive"), pop.col("weight")
        reg_f = (alive & pop.col("registered")).astype(float)
        exposure = np.full(n, (reg_f * w).sum() / max((alive * w).sum(), 1e-12))
        x[:] = -(b.bass_p * push + b.bass_q * exposure) * DT
    else:
        c = model.contacts
        share = c.district_registered / np.maximum(c.district_firms, 1e-12)
        ladder_kernels.exposure_exponent(share, pop.col("district"), c.table, b.imitation_contact_weight,
                                       b.bass_p * push, b.bass_q, DT, x)
    np.exp(x, out=x)
    np.subtract(1, x, out=x)
    flags = pop.scratch("flags", bool)
    with draws.stream(model.stream("ladder")) as rng:
        model.events["registrations"] = ladder_kernels.register(rng, x, pop.col("alive"), pop.col("registered"),
                                                              pop.col("patents"), pop.col("weight"), flags)
    return flags


def deregister(model) -> np.ndarray:
    """Yearly re-evaluation (Q2): registered firms below the R&D floor may be removed. Returns
    the flags of the rows removed (a scratch array)."""
    b, pop = model.params.behaviour, model.firms
    flags = pop.scratch("flags", bool)
    with draws.stream(model.stream("ladder")) as rng:
        model.events["deregistrations"] = ladder_kernels.deregister(
            rng, pop.col("alive"), pop.col("registered"), pop.col("certified"), pop.col("rd_rate"),
            b.registration_rd_floor, b.deregistration_rate, pop.col("weight"), flags)
    return flags


def certify(model) -> np.ndarray:
    """A certification window: expiring certificates renew or lapse, eligible firms apply (close
    below the threshold, they top their R&D up to it: bunching at the notch) and pass. Returns
    the flags of the rows newly certified (a scratch array)."""
    b, c, pop = model.params.behaviour, model.params.cultivation, model.firms
    cls = classes(model, "certify", ("on_list",))
    odds = np.ascontiguousarray(np.minimum(np.broadcast_to(model.fold("certification_odds", b.apply_rate, cls), (cls.n,)), 1.0),
                                np.float64)
    flags = pop.scratch("flags", bool)
    terms = (model.steps, STEPS_PER_YEAR * c.validity_years, 1 - b.cert_bunching, b.recert_rate, b.pass_rate, MAX_RD_BASE)
    stream = model.stream("ladder")
    ahead = draws.ahead(stream, pop.n)
    with draws.stream(stream) as rng:
        counts = (ladder_kernels.certify if ahead is not None else ladder_kernels.certify_twin)(
            rng, ahead, pop.classes_of(cls), odds, terms, BAND_UPPER, BAND_RATE,
            *(pop.col(k) for k in ("alive", "registered", "certified", "leader", "rd_rate", "rd_base", "rd", "revenue",
                                   "patents", "age", "cert_expiry", "weight")), flags)
    draws.caught_up(stream, ahead)
    model.events.update(certifications=counts[0], renewals=counts[1], lapses=counts[2])
    return flags


def specialise_and_list(model) -> tuple[np.ndarray, np.ndarray]:
    """Certified firms become 专精特新; 专精特新 firms (and those the programmes make eligible)
    list. Returns the rows newly specialised and newly listed."""
    b, pop = model.params.behaviour, model.firms
    cls = classes(model, "specialise_and_list", ("specialised", "has_equity"))
    eligible = model.fold("listing_eligibility", cls.col("specialised"), cls)
    rate = model.fold("listing_rate", b.listing_rate, cls)
    eligible = np.ascontiguousarray(np.broadcast_to(eligible, (cls.n,)), bool)
    rate = np.ascontiguousarray(np.broadcast_to(rate, (cls.n,)), np.float64)
    spec, listed = pop.scratch("flags", bool), pop.scratch("flags_listed", bool)
    stream = model.stream("ladder")
    ahead = draws.ahead(stream, ladder_kernels.specialise_candidates(pop.col("alive"), pop.col("certified"),
                                                                     pop.col("specialised")))
    with draws.stream(stream) as rng:
        counts = (ladder_kernels.specialise_and_list if ahead is not None else ladder_kernels.specialise_and_list_twin)(
            rng, ahead, pop.classes_of(cls), int(cls.strides[CLASS_ATTRIBUTES.index("specialised")]), eligible, rate,
            b.specialised_rate * DT, DT, pop.col("alive"), pop.col("certified"), pop.col("specialised"), pop.col("listed"),
            pop.col("weight"), spec, listed)
    draws.caught_up(stream, ahead)
    model.events.update(specialised=counts[0], listings=counts[1])
    specialised, rows = _rows(spec), _rows(listed)
    model.call("after_listing", rows)
    return specialised, rows


def climb_ladder(model) -> None:
    """The quarter's ladder: registration, the Q2 re-evaluation, certification windows, status."""
    register(model)
    if model.quarter == 2:
        deregister(model)
    if model.quarter in model.params.cultivation.certification_windows:
        certify(model)
    pop = model.firms
    pop.cert_expiry[: pop.n][pop.col("leader")] = model.steps + STEPS_PER_YEAR * model.params.cultivation.validity_years  # leading firms keep their status
    specialise_and_list(model)


# ---- exit and entry ----------------------------------------------------------------------------
def exit_firms(model) -> np.ndarray:
    """Firms exit with a hazard by class: registration, the programmes' terms; leading firms stay."""
    b, pop = model.params.behaviour, model.firms
    cls = classes(model, "exit_firms", ("registered", "leader", "has_loan", "has_equity"))
    rate = model.fold("exit_hazard", np.where(cls.col("registered"), b.exit_rate_registered, b.exit_rate_candidate), cls)
    hazard = np.ascontiguousarray(1 - np.exp(-(rate * ~cls.col("leader")) * DT), np.float64)
    flags = pop.scratch("flags", bool)
    with draws.stream(model.stream("exit")) as rng:
        model.events["exits"], model.events["exits_registered"] = ladder_kernels.exit_firms(
            rng, pop.classes_of(cls), hazard, pop.col("alive"), pop.col("registered"), pop.col("weight"), flags)
    rows = _rows(flags)
    model.call("after_exit", rows)
    return rows


def enter_firms(model) -> np.ndarray:
    """New R&D-active firms, in proportion to each district's candidate pool plus what the
    programmes add (incubators)."""
    b, pop = model.params.behaviour, model.firms
    per_year = model.fold("entry", b.entry_rate * model.district_firm_sum(None, ~pop.col("registered")))
    counts = model.stream("entry").poisson(np.maximum(per_year * DT * model.resolution, 0))
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
    rows = pop.add(total, weight=1.0 / model.resolution, born=model.steps, registered=registered)
    if total:
        with draws.stream(rng) as words:
            firm_kernels.entrants(words, counts, int(rows[0]), model.industry_cdf,
                                  p.behaviour.entrant_revenue_ratio * model.entrant_revenue, zone,
                                  FIRM_START["revenue_sigma"], FIRM_START["rd_sigma"], FIRM_START["candidate"][1], rd_ratio,
                                  MAX_RD_BASE, KNOWLEDGE_GROWTH_START + p.behaviour.knowledge_depreciation, knowledge_ratio,
                                  *(pop.col(c) for c in ("district", "industry", "revenue", "rd_base", "rd_rate", "rd",
                                                         "knowledge", "in_zone")))
    factor = model.district_rd_factor
    if total and factor is not None:   # districts' own R&D intensity (firms.district_rd_factor)
        district, rd_base = pop.col("district")[rows], pop.col("rd_base")
        rd_base[rows] = np.clip(rd_base[rows] * factor[district], 0.002, MAX_RD_BASE)
        pop.col("rd_rate")[rows] = rd_base[rows]
        pop.col("rd")[rows] = rd_base[rows] * pop.col("revenue")[rows]
        pop.col("knowledge")[rows] = (pop.col("rd")[rows] / (KNOWLEDGE_GROWTH_START + p.behaviour.knowledge_depreciation)
                                      * knowledge_ratio)
    model.events["births"] += total / model.resolution
    return rows


# ---- links -------------------------------------------------------------------------------------
def _firm_links(model, n: int, rng, levers) -> None:
    """``n`` new firm links (local, paired, Sichuan–Chongqing or same-industry, in the programmes'
    mix); inside the network's ``forming``."""
    b = model.params.behaviour
    mix = model.fold("link_mix", {"paired": 0.0, "sichuan_chongqing": 0.0}, levers)
    model.network.form_firm_links(model.firms, n, rng, b.link_local_share, mix["paired"], mix["sichuan_chongqing"],
                                  model.border)


def _link_lifetime(b) -> float:
    """Years until a new link's weight decays below ``MIN_WEIGHT``."""
    return math.log(1 / MIN_WEIGHT) / max(b.link_decay, 1e-9)


def _steady_state_ages(b, rng, n: int) -> np.ndarray:
    """What ``n`` links' weights have decayed to at ages drawn uniformly over a link's lifetime:
    links of all ages, as formation and decay leave them."""
    return np.exp(-b.link_decay * rng.uniform(0, _link_lifetime(b), n))


def form_links(model, n_new: int, years: float, levers=None) -> None:
    """New firm links (``_firm_links``), the consortia's links, and universities' links."""
    b, net = model.params.behaviour, model.network
    levers = levers or model.params
    rng = model.stream("links")
    with net.forming():
        _firm_links(model, n_new, rng, levers)
        model.call("form_links", rng, years, levers)
        per_u = int(rng.poisson(b.university_link_rate * years * model.resolution))
        net.form_university_links(model.firms, np.array([u.district_index for u in model.universities]),
                                  per_u, rng, local_share=b.link_local_share)


def relink(model) -> None:
    """Links decay (and those of exited firms go), at the year's end the rows of exited firms go
    (and those a run past its bound on rows drops, ``resolution.coarsen``); each live firm forms
    new ones at its rate."""
    b = model.params.behaviour
    lost = resolution.coarsen(model)
    model.network.decay(model.firms, b.link_decay, DT)
    # No link holds an exited firm now: once a year their rows go, so that the passes run over
    # live rows. A year's exits are 5–7 % of the rows and compacting costs about a fifth of a
    # quarter, so compacting more often would cost more than it saves.
    if model.quarter == 4 or lost is not None:
        remap = model.firms.compact(model.n_districts)
        if remap is not None:
            model.network.renumber(remap)
            model.leaders["row"] = remap[model.leaders["row"].to_numpy()]   # leading firms never exit
    if lost:
        refill_links(model, lost)
    form_links(model, int(b.link_rate * model.firms.col("alive").sum() * DT), DT)


def refill_links(model, n: int) -> None:
    """``n`` firm links among the live firms in the levers' mix, with the weights of links of all
    ages (as ``seed_links`` forms them): the links the rows dropped by ``resolution.coarsen`` held."""
    net, rng = model.network, model.stream("thinning")
    before = len(net.w)
    with net.forming():
        _firm_links(model, n, rng, model.params)
    net.w[before:] *= _steady_state_ages(model.params.behaviour, rng, len(net.w) - before)


def seed_links(model) -> None:
    """Links at start: the steady state of formation and decay, with weights of all ages. The
    end-of-start-year network is history: every scenario starts from the links the levers as
    they were then had formed; a scenario's own levers act from the first step."""
    b, net = model.params.behaviour, model.network
    lifetime = _link_lifetime(b)
    before = len(net.w)
    form_links(model, int(b.link_rate * int(model.firms.col("alive").sum()) * lifetime / 2), years=lifetime,
               levers=model.reference_params())
    net.w[before:] *= _steady_state_ages(b, model.rng, len(net.w) - before)
    net.u_w[:] *= _steady_state_ages(b, model.rng, len(net.u_w))
