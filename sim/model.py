"""InnovationModel: the city at the end of 2022, advanced one quarter per step.

With ``Params.start_year = 2017`` the model starts from the end-2017 state instead and runs the
years up to 2022 under the policy environment of those years (``sim/hindcast.py``); that is the
hindcast the calibration (``sim/calibration/``) fits to the published 2018–2022 series.

The quarter, in order:
1. Q1 only: budgets arrive (districts' own S&T money, the guiding fund split by its rule,
   paired-assistance transfers, fund capital calls, the risk pool's top-up) and programme money
   is committed: incubators and talent for the year, platform building, candidate lists.
2. Firms choose R&D given its after-tax, after-subsidy cost; subsidies, loans and equity flow.
3. Knowledge: own R&D plus spillover from contacts and universities, less depreciation.
4. Growth of revenue, industrial output (inside and outside high-tech zones), GDP and R&D.
5. The ladder: registration as tech-based SME (Bass-type adoption), certification windows with
   3-year validity and renewal, 专精特新, listing; deregistration of firms that fall short.
6. Exit and entry (incl. incubators); links decay and form.
7. Q4 only: spin-offs from the transfer chain, the district evaluation and tiers, national
   innovative county checks.
8. Collect.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from . import datasets, evaluation, metrics
from .districts import District
from .firms import FIRM_START, cert_threshold, initial_population
from .funds import MILLION_PER_100M, CreditPool, CultivationFund, GuidingFund, allocation_weights
from .hindcast import LAST_HISTORY_YEAR, MANUFACTURING_DIRECTIONS, PolicyEnvironment
from .network import MIN_WEIGHT, CollaborationGraph
from .params import INDUSTRY_DIRECTIONS, INDUSTRY_MIX, SCENARIO_DIRECTIONS, ParamError, Params
from .universities import University

DT = 0.25  # years per step
CIT_STANDARD, CIT_HIGH_TECH = 0.25, 0.15  # corporate income tax rates (high-tech: 国科发火〔2016〕32号)
SUPER_DEDUCTION_2022_OTHER = 0.75  # non-SME rate in force for most of 2022 (公告2021年第6号)
MAX_SUBSIDY_RATE = 0.5  # a district never pays more than half of a firm's R&D


def programme_shares(params: Params) -> dict:
    """How programme money splits across subsidy, platforms, incubators and talent (sums to 1);
    with the platform programme off its share goes to the others."""
    g = params.guiding_fund
    shares = {"rd_subsidy": g.share_rd_subsidy, "platforms": g.share_platforms if params.platforms.programme else 0.0,
              "incubators": g.share_incubators, "talent": g.share_talent}
    total = sum(shares.values())
    return {k: (v / total if total > 0 else 0.25) for k, v in shares.items()}


def replicate_seed(root_seed: int, replicate: int) -> int:
    """Seed of one replicate: the same replicate index gets the same stream in every scenario."""
    ss = np.random.SeedSequence(root_seed, spawn_key=(replicate,))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


class InnovationModel(mesa.Model):
    """Districts, enterprises, universities and funds of Chongqing on a collaboration graph.

    Args:
        params: a :class:`Params` or a nested dict of parameter overrides.
        seed: root of all randomness (numpy ``model.rng`` and ``model.random``).
        scale: firms simulated per real firm (overrides ``params.scale``).
        data_dir: alternative data folder (same files as ``sim/data``).
        **overrides: dotted parameter overrides, e.g. ``guiding_fund__annual_budget=20``.
    """

    def __init__(self, params: Params | dict | None = None, seed: int | None = 42,
                 scale: float | None = None, data_dir=None, **overrides):
        super().__init__(seed=seed)
        base = params if isinstance(params, Params) else Params.from_dict(params or {})
        if overrides:
            base = base.with_overrides(**overrides)
        if scale is not None:
            base = base.with_overrides(scale=float(scale))
        if base.start_year not in datasets.START_YEARS:
            raise ParamError("start_year", f"the data layer holds start states for {' and '.join(map(str, datasets.START_YEARS))} "
                                           f"(2017 = hindcast), got {base.start_year}")
        # A start before 2022 runs the years up to 2022 under their own policy environment; the
        # scenario's parameters are kept for 2023 on.
        self._scenario_params = base
        self._env = PolicyEnvironment.load(data_dir) if base.start_year < LAST_HISTORY_YEAR else None
        if self._env is not None:
            base = self._env.params_for(base, base.start_year)
        self.params = p = base
        # Root of the per-step random streams (common random numbers across scenarios).
        self._stream_root = int(self.rng.integers(2**63))
        self.steps_per_year = 4
        self.events = metrics.empty_events()

        # ---- data ---------------------------------------------------------------------------
        self.district_data = dd = datasets.load_districts(data_dir, year=p.start_year)
        index_of = {str(code): i for i, code in enumerate(dd["adcode"])}
        self.n_districts = len(dd)
        self.district_list = [District(self, i, row) for i, row in enumerate(dd.itertuples(index=False))]
        self.districts = self.agents_by_type[District]
        pairs = datasets.load_paired_assistance(data_dir)
        self.paired_pairs = sorted({(index_of[str(a)], index_of[str(b)]) for a, b in
                                    zip(pairs["partner_adcode"], pairs["county_adcode"])})
        for a, b in self.paired_pairs:
            self.district_list[a].partners.append(b)
            self.district_list[b].partners.append(a)
        border = np.zeros(self.n_districts, bool)
        for code in datasets.load_sichuan_chongqing(data_dir)["adcode"]:
            border[index_of[str(code)]] = True
        self.border = border
        groups = np.array([d.group for d in self.district_list])
        self.is_cluster = np.isin(groups, ("northeast", "southeast"))

        leaders = datasets.load_leading_firms(data_dir).copy()
        leaders["district_index"] = [index_of[str(c)] for c in leaders["adcode"]]
        # Rows are created district by district, so order the leaders the same way.
        leaders = leaders.sort_values("district_index", kind="stable").reset_index(drop=True)
        leaders["industry_index"] = [INDUSTRY_DIRECTIONS.index(x) for x in leaders["industry_direction"]]

        # ---- firms and links ----------------------------------------------------------------
        self.firms = initial_population(dd, leaders, p, self.rng)
        leaders["row"] = np.flatnonzero(self.firms.col("leader"))
        self.leaders = leaders
        unis = datasets.load_universities(data_dir)
        if self._env is not None:  # research units opened after the start year are not there yet
            unis = unis[[y is None or y != y or y <= p.start_year for y in unis["year_opened"]]]
        self.universities = [University(self, row, index_of[str(row.adcode)]) for row in unis.itertuples(index=False)]
        self.network = CollaborationGraph(self.n_districts, len(self.universities),
                                          [d.partners for d in self.district_list])
        self._seed_links()

        # ---- starting district state --------------------------------------------------------
        self.programme_shares = programme_shares(p)
        b = p.behaviour
        firm_rd = self.district_firm_sum("rd") / MILLION_PER_100M
        univ_count = np.bincount([u.district_index for u in self.universities], minlength=self.n_districts)
        for d, rd_firms in zip(self.district_list, firm_rd):
            d.non_firm_rd0 = d.non_firm_rd = float(dd.loc[d.index, "rd_expenditure"]) * (1 - b.enterprise_rd_share)
            d.rd = rd_firms + d.non_firm_rd
            d.rd_history[p.start_year] = d.rd
        self._universities_in = np.maximum(univ_count, 1)
        self._start_revenue = self.district_firm_sum("revenue")
        self._start_zone_revenue = self.district_firm_sum("revenue", self.firms.col("in_zone"))
        self._setup_zones()
        self._update_district_state()
        self._benchmark = None
        self._evaluate()
        self._index_start = np.array([d.index_score for d in self.district_list])
        self._subsidy_reference = self._reference_subsidy_rates()
        for d, s in zip(self.district_list, self._subsidy_reference):
            d.subsidy_rate = s
        ic = p.innovative_county
        for d in self.district_list:
            if str(d.adcode) in ic.already_passed:
                d.innovative_county = "passed"
        self.innovative_counties_start = sum(d.innovative_county == "passed" for d in self.district_list)
        cand = ~self.firms.col("registered")
        self._entrant_revenue = np.array([
            float(np.median(self.firms.revenue[: self.firms.n][cand & (self.firms.col("district") == i)]))
            if np.any(cand & (self.firms.col("district") == i)) else FIRM_START["candidate"][0]
            for i in range(self.n_districts)])

        # ---- funds ----------------------------------------------------------------------------
        f = p.finance
        self.guiding_fund = GuidingFund(self, p.guiding_fund.annual_budget)
        self.cultivation_fund = CultivationFund(self, f.fund_of_funds_size, f.capital_call_per_year,
                                                f.ticket, f.max_age_years, f.exit_multiple)
        self.credit_pool = CreditPool(self, f.credit_annual_lending, f.loan_size, f.loan_term_quarters,
                                      f.risk_pool_initial, f.risk_pool_topup, f.compensation_share,
                                      f.city_share_of_pool)
        self._scenario_direction = np.isin(np.arange(len(INDUSTRY_DIRECTIONS)),
                                           [INDUSTRY_DIRECTIONS.index(x) for x in SCENARIO_DIRECTIONS]).astype(float)
        self._manufacturing = np.isin(np.arange(len(INDUSTRY_DIRECTIONS)),
                                      [INDUSTRY_DIRECTIONS.index(x) for x in MANUFACTURING_DIRECTIONS])
        self._graph_cache = (None, None)
        self.datacollector = metrics.make_datacollector()
        self.running = True
        self.datacollector.collect(self)

    # ---- calendar ---------------------------------------------------------------------------
    @property
    def year(self) -> int:
        return self.params.start_year + (self.steps + 3) // 4

    @property
    def quarter(self) -> int:
        return 4 if self.steps == 0 else (self.steps - 1) % 4 + 1

    @property
    def date_label(self) -> str:
        return f"{self.year} Q{self.quarter}"

    # ---- helpers ----------------------------------------------------------------------------
    STREAMS = ("links", "finance", "knowledge", "growth", "ladder", "exit", "entry", "transfer", "zones")

    def stream(self, name: str) -> np.random.Generator:
        """The random stream of one process in the current step. Each process draws from its own
        stream keyed by (root seed, step, process), so a lever that changes one process leaves
        the others' draws untouched and scenario comparisons stay paired."""
        key = (self.steps, self.STREAMS.index(name))
        return np.random.default_rng(np.random.SeedSequence(self._stream_root, spawn_key=key))

    def district_firm_sum(self, column: str | None, mask: np.ndarray | None = None) -> np.ndarray:
        """Per-district weighted sum of a firm column over live firms (and an optional mask)."""
        pop = self.firms
        m = pop.col("alive") if mask is None else (pop.col("alive") & mask)
        return pop.by_district(None if column is None else pop.col(column), m, self.n_districts)

    @property
    def graph(self):
        """The collaboration graph of districts, universities and leading firms (networkx)."""
        if self._graph_cache[0] != self.steps:
            G = self.network.district_graph(self.firms, self.district_data, self.universities,
                                            self.leaders, self.paired_pairs)
            self._graph_cache = (self.steps, G)
        return self._graph_cache[1]

    def enterprise(self, index: int):
        return self.firms.view(index)

    def release(self):
        """Free a finished model. Mesa 3.3.1 keeps every model alive through ``Agent._ids``
        (fixed upstream after 3.3.1); long ensembles and the app call this when done."""
        self.remove_all_agents()
        mesa.Agent._ids.pop(self, None)
        self._graph_cache = (None, None)

    def _reference_subsidy_rates(self) -> np.ndarray:
        """Subsidy per yuan of R&D under the 2022 policy as it was (the default parameters):
        the reference against which a scenario's R&D cost is measured."""
        ref = self._reference_levers()
        g = ref.guiding_fund
        split = allocation_weights(g.allocation, self.district_list, g.mix, self._index_start)
        own = np.array([d.fiscal_st for d in self.district_list]) * ref.district_budget.own_programme_share
        money = (own + g.annual_budget * split) * programme_shares(ref)["rd_subsidy"]
        rd = self.district_firm_sum("rd", self.firms.col("registered")) / MILLION_PER_100M
        return np.minimum(money / np.maximum(rd, 1e-9), MAX_SUBSIDY_RATE)

    def _setup_zones(self):
        """High-tech-zone output at start: the city share spread over zone districts by industrial
        output (national zones weighted twice); changes follow zone firms' revenue."""
        share = self.params.behaviour.zone_output_share_start
        weight = np.array([{"national": 2.0, "municipal": 1.0}.get(d.hightech_zone, 0.0) * d.industrial_output0
                           for d in self.district_list])
        total_output = sum(d.industrial_output0 for d in self.district_list)
        zone = share * total_output * weight / max(weight.sum(), 1e-12)
        for d, z in zip(self.district_list, zone):
            d.zone_output0 = d.zone_output = min(float(z), 0.8 * d.industrial_output0)
        # Output (100m yuan) per million yuan of zone firms' revenue; one for one in a new zone.
        zone0 = np.array([d.zone_output0 for d in self.district_list])
        self._zone_ratio = np.where(self._start_zone_revenue > 0, zone0 / np.maximum(self._start_zone_revenue, 1e-12),
                                    1.0 / MILLION_PER_100M)

    def _seed_links(self):
        """Links at start: the steady state of formation and decay, with weights of all ages."""
        b = self.params.behaviour
        lifetime = math.log(1 / MIN_WEIGHT) / max(b.link_decay, 1e-9)
        alive = int(self.firms.col("alive").sum())
        before = len(self.network.w)
        # The end-of-start-year network is history: every scenario starts from the links the
        # levers as they were then had formed; a scenario's own levers act from the first step.
        self._form_links(int(b.link_rate * alive * lifetime / 2), years=lifetime, levers=self._reference_levers())
        ages = self.rng.uniform(0, lifetime, len(self.network.w) - before)
        self.network.w[before:] *= np.exp(-b.link_decay * ages)
        self.network.u_w *= np.exp(-b.link_decay * self.rng.uniform(0, lifetime, len(self.network.u_w)))

    def _reference_levers(self) -> Params:
        """The levers as they were in the start year (defaults, or the hindcast's environment)."""
        return Params() if self._env is None else self._env.params_for(Params(), self.params.start_year)

    def _form_links(self, n_new: int, years: float, levers: Params | None = None):
        p, b, net = self.params, self.params.behaviour, self.network
        lv = levers or p
        pa = lv.paired
        paired_share = pa.cross_link_share * pa.intensity if pa.enabled else 0.0
        sc_share = pa.sichuan_chongqing_link_share * pa.sichuan_chongqing
        rng = self.stream("links")
        net.form_firm_links(self.firms, n_new, rng, b.link_local_share, min(paired_share, 0.3),
                            min(sc_share, 0.3), self.border)
        if lv.consortia.enabled:
            per = rng.poisson(lv.consortia.links_per_leader * years * p.scale)
            net.form_consortium_links(self.firms, self.leaders["row"].to_numpy(), int(per), rng)
        per_u = int(rng.poisson(b.university_link_rate * years * p.scale))
        net.form_university_links(self.firms, np.array([u.district_index for u in self.universities]),
                                  per_u, rng, local_share=b.link_local_share)

    # ---- the quarter ------------------------------------------------------------------------
    def step(self):
        self.events = metrics.empty_events()
        if self.quarter == 1:
            if self._env is not None:
                self._enter_year()
            self._budgets()
        self._rd_and_finance()
        self._knowledge_and_growth()
        self._ladder()
        self._exit_and_entry()
        self.network.decay(self.firms, self.params.behaviour.link_decay, DT)
        self._form_links(int(self.params.behaviour.link_rate * self.firms.col("alive").sum() * DT), DT)
        if self.quarter == 4:
            self._year_end()
        self._update_district_state()
        self.datacollector.collect(self)

    def _enter_year(self):
        """Hindcast: switch to the parameters in force this year and apply its zone approvals."""
        p = self._env.params_for(self._scenario_params, self.year)
        self.params = p
        self.programme_shares = programme_shares(p)
        self.guiding_fund.annual_budget = p.guiding_fund.annual_budget
        self.credit_pool.annual_lending = p.finance.credit_annual_lending
        self.credit_pool.pool_topup = p.finance.risk_pool_topup
        for adcode, level in self._env.zones(self.year):
            self._set_zone_level(adcode, level)

    def _set_zone_level(self, adcode: str, level: str):
        """A zone approved at a higher level draws more of its district's firms in."""
        pop, shares = self.firms, FIRM_START["zone_share"]
        d = next(x for x in self.district_list if str(x.adcode) == str(adcode))
        old, new = shares.get(d.hightech_zone, 0.0), shares[level]
        if new > old:
            rows = np.flatnonzero(pop.col("alive") & (pop.col("district") == d.index) & ~pop.col("in_zone"))
            extra = (new - old) / max(1 - old, 1e-9)
            pop.in_zone[rows[self.stream("zones").random(len(rows)) < extra]] = True
        d.hightech_zone = level
        self.events["zone_upgrades"] += 1

    def _budgets(self):
        p = self.params
        years = self.year - p.start_year - 1
        growth = ((1 + p.district_budget.own_budget_growth) ** years if self._env is None
                  else self._env.fiscal_factor(self.year, p.start_year, p.district_budget.own_budget_growth))
        for d in self.district_list:
            own = d.fiscal_st * growth * p.district_budget.own_programme_share
            d.receive("own", own)
        scores = (np.array([d.index_score for d in self.district_list]) if p.evaluation.competitive_feedback
                  else self._index_start)
        self.guiding_fund.allocate(self.district_list, p.guiding_fund.allocation, p.guiding_fund.mix, scores)
        if p.paired.enabled and p.paired.intensity > 0:
            for a, b in self.paired_pairs:
                partner, county = (a, b) if not self.is_cluster[a] else (b, a)
                paid = self.district_list[partner].pay_out("paired_out", p.paired.support_per_pair * p.paired.intensity)
                self.district_list[county].receive("paired_in", paid)
        self.cultivation_fund.call_capital()
        self.credit_pool.top_up()
        registered = self.district_firm_sum(None, self.firms.col("registered"))
        for d, n_reg in zip(self.district_list, registered):
            d.subsidy_plan = d.pot["rd_subsidy"]
            inc = d.spend("incubators", d.pot["incubators"])
            d.extra_entry = inc * MILLION_PER_100M / p.platforms.incubator_cost
            tal = d.spend("talent", d.pot["talent"])
            d.talent_per_firm = tal * MILLION_PER_100M / max(n_reg, 1.0)
            if p.platforms.programme:
                d.platform_progress += d.spend("platforms", d.pot["platforms"])
                if not d.has_platform and d.platform_progress >= p.platforms.cost:
                    d.has_platform = True
                    self.events["platforms_completed"] += 1
        self._update_candidate_lists()

    def _update_candidate_lists(self):
        pop, share = self.firms, self.params.cultivation.candidate_list_size
        pop.on_list[: pop.n] = False
        if share <= 0:
            return
        pool = pop.col("alive") & pop.col("registered") & ~pop.col("certified")
        readiness = pop.col("rd_rate") / cert_threshold(pop.col("revenue")) + 0.1 * np.log1p(pop.col("patents"))
        for i in range(self.n_districts):
            rows = np.flatnonzero(pool & (pop.col("district") == i))
            k = int(round(share * len(rows)))
            if k > 0:
                pop.on_list[rows[np.argsort(-readiness[rows])[:k]]] = True

    def _rd_and_finance(self):
        p, pop, n = self.params, self.firms, self.firms.n
        alive, registered, certified = pop.col("alive"), pop.col("registered"), pop.col("certified")
        district = pop.col("district")
        tax = np.where(certified, CIT_HIGH_TECH, CIT_STANDARD)
        if self._env is None:
            sd_now = p.cultivation.super_deduction
            sd_ref = np.where(registered, p.cultivation.super_deduction_2022_sme, SUPER_DEDUCTION_2022_OTHER)
        else:
            # Hindcast: rates by year and firm class, measured against those of the start year
            # (the firms' R&D intensities were drawn at start-year prices).
            mfg = self._manufacturing[pop.col("industry")]
            sd_now = (self._env.super_deduction(self.year, registered, mfg) if self.year <= LAST_HISTORY_YEAR
                      else p.cultivation.super_deduction)
            sd_ref = self._env.super_deduction(p.start_year, registered, mfg)
        subsidy_now = np.array([d.subsidy_rate for d in self.district_list])[district] * registered
        subsidy_ref = self._subsidy_reference[district] * registered
        cost = 1 - tax * sd_now - subsidy_now
        cost_ref = 1 - tax * sd_ref - subsidy_ref
        factor = (np.maximum(cost, 0.05) / np.maximum(cost_ref, 0.05)) ** (-p.behaviour.rd_elasticity)
        pop.rd_rate[:n] = np.clip(pop.rd_base[:n] * factor, 0.0, 0.5)
        pop.rd[:n] = pop.rd_rate[:n] * pop.revenue[:n] * alive

        # Ex-post R&D subsidy: a quarter of the year's subsidy money, pro rata to registered R&D.
        rd_q = self.district_firm_sum("rd", registered) * DT / MILLION_PER_100M
        pop.subsidy[:n] = 0.0
        for d, r in zip(self.district_list, rd_q):
            plan = d.subsidy_plan * DT
            rate = min(plan / r, MAX_SUBSIDY_RATE) if r > 0 else 0.0
            d.spend("rd_subsidy", rate * r)
            d.subsidy_rate = rate
        rates = np.array([d.subsidy_rate for d in self.district_list])
        pop.subsidy[:n] = rates[district] * pop.rd[:n] * DT * registered * alive
        self.events["subsidy_granted"] = float((pop.subsidy[:n] * pop.weight[:n]).sum() / MILLION_PER_100M)
        rng = self.stream("finance")
        self.events["loans_issued"] = self.credit_pool.lend(pop, rng, self.steps, DT)
        self.events["equity_invested"] = self.cultivation_fund.invest(pop, rng, DT)

    def _knowledge_and_growth(self):
        p, b, pop, n = self.params, self.params.behaviour, self.firms, self.firms.n
        district = pop.col("district")
        alive = pop.col("alive")
        revenue = np.maximum(pop.col("revenue"), 1e-6)
        k = pop.col("knowledge") / revenue
        talent = np.array([d.talent_per_firm for d in self.district_list])
        platform = np.array([d.has_platform for d in self.district_list], float)
        commissioners = p.talent.commissioners * 0.1 * np.array([d.is_county for d in self.district_list])
        absorb = (np.minimum(pop.col("rd_rate") / 0.03, 2.0)
                  * (1 + p.talent.effect * talent[district] + commissioners[district])
                  * (1 + 0.2 * platform[district]))
        k_univ = np.array([u.knowledge_intensity for u in self.universities])
        neighbour_k, degree = self.network.neighbour_mean(n, k * alive, k_univ)
        gain = b.spillover * absorb * np.maximum(neighbour_k - k, 0.0) * revenue * DT * (degree > 0)
        self.events["knowledge_absorbed"] = float((gain * pop.col("weight") * alive).sum() / MILLION_PER_100M)
        before = pop.knowledge[:n].copy()
        pop.knowledge[:n] = before * (1 - b.knowledge_depreciation * DT) + pop.rd[:n] * DT + gain
        pop.patents[:n] = pop.patents[:n] * (1 - b.patent_lapse * DT) + self.stream("knowledge").poisson(b.patent_rate * pop.rd[:n] * DT)
        knowledge_growth = (pop.knowledge[:n] - before) / np.maximum(before, 1e-9) / DT

        financed = (pop.col("loan") > 0) | (pop.col("equity") > 0)
        growth = (b.growth_base + b.growth_knowledge * np.clip(knowledge_growth, -1, 1)
                  + b.growth_finance * financed + b.growth_environment * platform[district]
                  + p.platforms.scenario_pull * self._scenario_direction[pop.col("industry")])
        shock = self.stream("growth").standard_normal(n)
        pop.revenue[:n] = revenue * np.exp((growth - 0.5 * b.growth_noise**2) * DT + b.growth_noise * math.sqrt(DT) * shock)
        pop.age[:n] += DT
        # Firms on a candidate list or with finance raise their R&D toward certification.
        push = pop.col("on_list") | financed
        pop.rd_base[:n] = np.where(push, np.minimum(pop.rd_base[:n] * (1 + b.rd_rate_drift * DT), 0.4), pop.rd_base[:n])

    def _ladder(self):
        p, b, pop, n = self.params, self.params.behaviour, self.firms, self.firms.n
        rng, c = self.stream("ladder"), p.cultivation
        alive, registered = pop.col("alive"), pop.col("registered")
        w = pop.col("weight")
        # Registration: Bass-type hazard p + q * (registered share among whom the firm imitates).
        candidates = alive & ~registered
        reg_f = (alive & registered).astype(float)
        if b.mixing == "complete":
            exposure = np.full(n, (reg_f * w).sum() / max((alive * w).sum(), 1e-12))
        else:
            share_d = self.district_firm_sum(None, registered) / np.maximum(self.district_firm_sum(None), 1e-12)
            neighbour, degree = self.network.neighbour_mean(n, reg_f)
            exposure = np.where(degree > 0, 0.5 * neighbour + 0.5 * share_d[pop.col("district")], share_d[pop.col("district")])
        push = 1.0 + c.coaching_registration_boost
        hazard = 1 - np.exp(-(b.bass_p * push + b.bass_q * exposure) * DT)
        new_reg = candidates & (rng.random(n) < hazard)
        pop.registered[:n] |= new_reg
        pop.patents[:n][new_reg] = np.maximum(pop.patents[:n][new_reg], 1)  # registration needs IP
        self.events["registrations"] = pop.count(new_reg)

        # Yearly re-evaluation (Q2): firms below the R&D floor may be removed from the register.
        if self.quarter == 2:
            weak = alive & registered & ~pop.col("certified") & (pop.col("rd_rate") < b.registration_rd_floor)
            drop = weak & (rng.random(n) < b.deregistration_rate)
            pop.registered[:n] &= ~drop
            self.events["deregistrations"] = pop.count(drop)

        if self.quarter in c.certification_windows:
            validity = 4 * c.validity_years
            threshold = cert_threshold(pop.col("revenue"))
            # Firms close below the threshold may top their R&D up to it when they apply (bunching).
            eligible = (alive & pop.col("registered") & (pop.col("rd_rate") >= threshold * (1 - b.cert_bunching))
                        & (pop.col("patents") >= 1) & (pop.col("age") >= 1))
            certified = pop.col("certified")
            expiring = alive & certified & (pop.col("cert_expiry") <= self.steps) & ~pop.col("leader")
            renew = expiring & eligible & (rng.random(n) < b.recert_rate)
            lapse = expiring & ~renew
            pop.cert_expiry[:n][renew] += validity
            pop.certified[:n] &= ~lapse
            apply = np.minimum(b.apply_rate * np.where(pop.col("on_list"), c.candidate_list_boost, 1.0), 1.0)
            new_cert = eligible & ~pop.col("certified") & (rng.random(n) < apply * b.pass_rate)
            pop.certified[:n] |= new_cert
            pop.cert_expiry[:n][new_cert] = self.steps + validity
            topped = np.flatnonzero((new_cert | renew) & (pop.col("rd_rate") < threshold))
            if len(topped):
                lift = threshold[topped] / np.maximum(pop.rd_rate[topped], 1e-12)
                pop.rd_base[topped] = np.minimum(pop.rd_base[topped] * lift, 0.4)
                pop.rd_rate[topped] = threshold[topped]
                pop.rd[topped] = pop.rd_rate[topped] * pop.revenue[topped]
            self.events.update(certifications=pop.count(new_cert), renewals=pop.count(renew), lapses=pop.count(lapse))
        leader = pop.col("leader")
        pop.cert_expiry[:n][leader] = self.steps + 4 * c.validity_years  # leading firms keep their status

        spec = alive & pop.col("certified") & ~pop.col("specialised") & (rng.random(n) < b.specialised_rate * DT)
        pop.specialised[:n] |= spec
        equity = pop.col("equity") > 0
        lists = alive & ~pop.col("listed") & (pop.col("specialised") | equity)
        new_listed = lists & (rng.random(n) < b.listing_rate * (1 + equity) * DT)
        pop.listed[:n] |= new_listed
        self.events.update(specialised=pop.count(spec), listings=pop.count(new_listed))
        self.cultivation_fund.settle(pop, np.flatnonzero(new_listed), np.zeros(0, np.int64))

    def _exit_and_entry(self):
        p, b, pop, n, rng = self.params, self.params.behaviour, self.firms, self.firms.n, self.stream("exit")
        alive, registered = pop.col("alive"), pop.col("registered")
        rate = np.where(registered, b.exit_rate_registered, b.exit_rate_candidate)
        rate = rate * np.where((pop.col("loan") > 0) | (pop.col("equity") > 0), 0.7, 1.0) * ~pop.col("leader")
        exit_now = alive & (rng.random(n) < 1 - np.exp(-rate * DT))
        pop.alive[:n] &= ~exit_now
        rows = np.flatnonzero(exit_now)
        self.events["exits"] = pop.count(exit_now)
        self.events["exits_registered"] = pop.count(exit_now & registered)
        self.events["loan_defaults"] = self.credit_pool.settle(pop, self.steps, rows)
        self.cultivation_fund.settle(pop, np.zeros(0, np.int64), rows)

        candidates = self.district_firm_sum(None, ~pop.col("registered"))
        lam = (b.entry_rate * candidates + np.array([d.extra_entry for d in self.district_list])) * DT * p.scale
        counts = self.stream("entry").poisson(np.maximum(lam, 0))
        self._add_entrants(counts, registered=False)

    def _add_entrants(self, counts: np.ndarray, registered: bool, knowledge_boost: float = 1.0):
        pop, p, rng = self.firms, self.params, self.stream("entry")
        med_rev, med_rd, _ = FIRM_START["candidate"]
        born = 0
        for i, count in enumerate(counts):
            if count <= 0:
                continue
            d = self.district_list[i]
            mix = np.asarray(INDUSTRY_MIX[d.group])
            revenue = 0.5 * self._entrant_revenue[i] * rng.lognormal(0, FIRM_START["revenue_sigma"], count)
            rd_base = np.clip(med_rd * rng.lognormal(0, FIRM_START["rd_sigma"], count) * (1.5 if registered else 1.0), 0.002, 0.4)
            zone_p = FIRM_START["zone_share"][d.hightech_zone]
            if d.is_county and p.paired.enabled:
                zone_p = max(zone_p, p.paired.enclave_share * p.paired.intensity)  # enclave parks
            idx = pop.add(int(count), district=i, weight=1.0 / p.scale, industry=rng.choice(10, size=count, p=mix),
                          revenue=revenue, rd_base=rd_base, rd_rate=rd_base, born=self.steps,
                          registered=registered, in_zone=rng.random(count) < zone_p)
            pop.rd[idx] = rd_base * revenue
            pop.knowledge[idx] = pop.rd[idx] / (0.10 + p.behaviour.knowledge_depreciation) * knowledge_boost
            born += int(count)
        self.events["births"] += born / p.scale

    def _year_end(self):
        p = self.params
        spin = np.zeros(self.n_districts, np.int64)
        rng = self.stream("transfer")
        clusters = np.flatnonzero(self.is_cluster)
        for u in self.universities:
            done = u.advance_pipeline(rng, p.transfer.projects_per_100m_research, p.transfer.stage_success, p.scale)
            for _ in range(done):
                host = self.district_list[u.district_index]
                if len(clusters) and rng.random() < p.transfer.branch_share:
                    partners = [j for j in host.partners if self.is_cluster[j]]
                    spin[partners[0] if partners else rng.choice(clusters)] += 1
                else:
                    spin[u.district_index] += 1
        self._add_entrants(spin, registered=True, knowledge_boost=2.0)
        self.events["spinoffs"] = spin.sum() / p.scale
        if self.year == p.platforms.zone_upgrade_year:
            self._upgrade_zones(p.platforms.zone_upgrades)
        self._update_district_state()
        for d in self.district_list:
            d.rd_history[self.year] = d.rd
        self._evaluate()
        self.events["innovative_counties_passed"] = evaluation.innovative_county_year(self, self.year)

    def _upgrade_zones(self, adcodes):
        """Municipal zones that become national draw more of their district's firms in: the zone
        firm share rises to the national level and their output counts toward T4."""
        pop, shares = self.firms, FIRM_START["zone_share"]
        rng = self.stream("zones")
        for d in self.district_list:
            if str(d.adcode) not in adcodes or d.hightech_zone == "national":
                continue
            rows = np.flatnonzero(pop.col("alive") & (pop.col("district") == d.index) & ~pop.col("in_zone"))
            extra = (shares["national"] - shares.get(d.hightech_zone, 0.0)) / max(1 - shares.get(d.hightech_zone, 0.0), 1e-9)
            pop.in_zone[rows[rng.random(len(rows)) < extra]] = True
            d.hightech_zone = "national"
            self.events["zone_upgrades"] += 1

    def _evaluate(self):
        scores, dims, self._benchmark = evaluation.evaluate(self, self._benchmark)
        tiers = evaluation.tiers(scores)
        self.city_index = float(scores[-1])
        for d, s, dim, t in zip(self.district_list, scores[:-1], dims[:-1], tiers):
            d.index_score, d.dimension_scores, d.tier = float(s), tuple(float(x) for x in dim), int(t)

    def _update_district_state(self):
        b = self.params.behaviour
        pop = self.firms
        years = self.steps * DT
        tech = self.district_firm_sum(None, pop.col("registered"))
        hte = self.district_firm_sum(None, pop.col("certified"))
        rd = self.district_firm_sum("rd") / MILLION_PER_100M
        revenue = self.district_firm_sum("revenue")
        zone_rev = self.district_firm_sum("revenue", pop.col("in_zone"))
        gdp_factor = ((1 + b.gdp_growth) ** years if self._env is None
                      else self._env.gdp_factor(self.params.start_year + years, self.params.start_year, b.gdp_growth))
        for i, d in enumerate(self.district_list):
            d.tech_enterprises, d.high_tech_enterprises = float(tech[i]), float(hte[i])
            d.non_firm_rd = d.non_firm_rd0 * (1 + b.non_firm_rd_growth) ** years
            d.rd = float(rd[i]) + d.non_firm_rd
            va0 = self._start_revenue[i] * b.value_added_ratio / MILLION_PER_100M
            va = revenue[i] * b.value_added_ratio / MILLION_PER_100M
            d.gdp = max(d.gdp0 - va0, 0.0) * gdp_factor + va
            d.rd_intensity = 100.0 * d.rd / d.gdp
            d.zone_output = max(d.zone_output0 + (zone_rev[i] - self._start_zone_revenue[i]) * self._zone_ratio[i], 0.0)
            d.industrial_output = (d.industrial_output0 - d.zone_output0) * (1 + b.industrial_growth) ** years + d.zone_output
        # Universities pass on knowledge at twice a typical certified firm's knowledge per revenue.
        k0 = FIRM_START["certified"][1] / (0.10 + b.knowledge_depreciation)
        for u in self.universities:
            d = self.district_list[u.district_index]
            u.research = d.non_firm_rd / self._universities_in[u.district_index]
            u.knowledge_intensity = 2.0 * k0 * (1 + b.non_firm_rd_growth) ** years
