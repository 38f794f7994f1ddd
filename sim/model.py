"""InnovationModel: the city from the end of 2022, advanced one quarter per step.

The model is built from the end-2022 district state of the data layer and runs the published
years after it (2023 to the latest, ``sim/core/hindcast.py``) under their policy environment, with
the policy as written up to the scenario's ``start_year`` (by default the latest published year)
and the scenario's levers after it. ``model.params.start_year`` is the state the run is built
from (2022, or 2017 for the calibration's hindcast, which runs 2018 on under the environment of
each year); ``model.scenario_from`` is the scenario's own start year. Its randomness: ``seed``
for the published years, ``future_seed`` (if given) from the first unpublished year on, so a
conditioned start (a particle of the calibration's update: a posterior draw and the seed of a
path through the published years that agrees with them) replays the same published years in
every scenario while each replicate's future has its own seed.

The model keeps the wiring (data, agents, firms, links, programmes), the calendar, the random
streams and the quarter's schedule. What firms do is in ``sim/core/firm_processes.py``; what each
policy programme does is in its module of ``sim/programmes/``; the district state derived from
the firms is in ``sim/core/districts.py``. The quarter, in order:

1. Q1 only: the year's parameters (hindcast), money arrives (``budget``: districts' own S&T
   money, the guiding fund, paired transfers, fund calls, the risk pool's top-up) and is
   committed (``commit``: subsidy plans, incubators, talent, platform building, candidate lists).
2. Firms choose R&D given its after-tax, after-subsidy cost; subsidies, loans and equity flow.
3. Knowledge and growth: what firms see of their contacts (knowledge, registration), own R&D
   plus spillover from contacts and universities; revenue.
4. The ladder: registration (Bass-type), re-evaluation, certification windows, 专精特新, listing.
5. Exit and entry; links decay and form.
6. Q4 only: spin-offs and zone upgrades (``year_end``), then the district evaluation and the
   innovative-county checks (``year_review``).
7. District state, then collect.
"""

from __future__ import annotations

import dataclasses

import mesa
import numpy as np

from . import programmes
from .core import districts, firm_processes, metrics, resolution
from .core.data_checks import check_against_data
from .core.districts import District
from .core.hindcast import PolicyEnvironment, as_written
from .core.network import CollaborationGraph
from .core.start import district_rd_factor, initial_population
from .core.universities import University
from .data import actors, datasets, district_start
from .params.constants import INDUSTRY_DIRECTIONS, STEPS_PER_YEAR
from .params.parameters import Params


# The spawn key of the stream that draws the end-2022 district split (any fixed number not used
# by the other streams' keys).
DISTRICT_SPLIT_KEY = 2022


def replicate_seed(root_seed: int, replicate: int) -> int:
    """Seed of one replicate: the same replicate index gets the same stream in every scenario."""
    ss = np.random.SeedSequence(root_seed, spawn_key=(replicate,))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


class InnovationModel(mesa.Model):
    """Districts, enterprises, universities and funds of Chongqing on a collaboration graph.

    Args:
        params: a :class:`Params` or a nested dict of parameter overrides.
        seed: root of all randomness (numpy ``model.rng`` and ``model.random``).
        future_seed: root of the randomness from the first year after the latest published one
            (None: ``seed`` throughout).
        scale: firms simulated per real firm (overrides ``params.scale``).
        data_dir: alternative data folder (same files as ``sim/data``).
        **overrides: dotted parameter overrides, e.g. ``guiding_fund__annual_budget=20``.
    """

    # Appended only: a stream's position is part of its seed.
    STREAMS = ("links", "finance", "knowledge", "growth", "ladder", "exit", "entry", "transfer", "zones", "spinoffs",
               "innovative_county", "thinning")

    def __init__(self, params: Params | dict | None = None, seed: int | None = 42,
                 scale: float | None = None, data_dir=None, future_seed: int | None = None, **overrides):
        super().__init__(seed=seed)
        base = params if isinstance(params, Params) else Params.from_dict(params or {})
        if overrides:
            base = base.with_overrides(**overrides)
        if scale is not None:
            base = base.with_overrides(scale=float(scale))
        check_against_data(base, data_dir=data_dir)   # a Params built by hand is held to the same rules
        # The published years run under their own policy environment, the scenario's levers only
        # after its start year; the model itself is built from a district state of the data.
        self._scenario_params = base
        self.scenario_from = base.start_year
        self.environment = PolicyEnvironment.load(data_dir)
        origin = datasets.data_origin(base.start_year)
        if origin < max(datasets.START_YEARS):
            built = self.environment.params_for(base, origin)
        else:   # the end-2022 state is the 2022 defaults' own: that year's environment is not re-applied
            built = as_written(base) if base.start_year > origin else base
        self.params = p = dataclasses.replace(built, start_year=origin)
        # Root of the per-step random streams (common random numbers across scenarios).
        self._stream_root = int(self.rng.integers(2**63))
        self._future_seed = future_seed
        self._streams, self._streams_step = {}, None
        self.events = metrics.empty_events()

        # ---- districts, pairs, leading firms ------------------------------------------------
        dd = datasets.load_districts(data_dir, year=p.start_year)
        if p.start_year == district_start.START_YEAR and p.behaviour.district_start_spread:
            # Where a district starts is drawn from the seed alone (its own stream), so replicate k
            # starts from the same split in every scenario and the other streams are untouched.
            split_rng = np.random.default_rng(np.random.SeedSequence(self._seed, spawn_key=(DISTRICT_SPLIT_KEY,)))
            dd = district_start.draw_split(dd, split_rng, p.behaviour.district_start_spread, data_dir)
        self.district_data = dd
        index_of = {str(code): i for i, code in enumerate(dd["adcode"])}
        self.n_districts = len(dd)
        self.district_list = [District(self, i, row) for i, row in enumerate(dd.itertuples(index=False))]
        self.districts = self.agents_by_type[District]
        pairs = actors.load_paired_assistance(data_dir)
        self.paired_pairs = sorted({(index_of[str(a)], index_of[str(b)]) for a, b in
                                    zip(pairs["partner_adcode"], pairs["county_adcode"])})
        for a, b in self.paired_pairs:
            self.district_list[a].partners.append(b)
            self.district_list[b].partners.append(a)
        self.border = np.zeros(self.n_districts, bool)
        self.border[[index_of[str(code)] for code in actors.load_sichuan_chongqing(data_dir)["adcode"]]] = True
        self.is_cluster = np.isin([d.group for d in self.district_list], ("northeast", "southeast"))
        leaders = actors.load_leading_firms(data_dir).copy()
        leaders["district_index"] = [index_of[str(c)] for c in leaders["adcode"]]
        # Rows are created district by district, so order the leaders the same way.
        leaders = leaders.sort_values("district_index", kind="stable").reset_index(drop=True)
        leaders["industry_index"] = [INDUSTRY_DIRECTIONS.index(x) for x in leaders["industry_direction"]]

        # ---- firms, universities, links, programmes -------------------------------------------
        rd_factor = district_rd_factor(dd, p.behaviour.district_rd_elasticity)
        # Rows per real firm: the scale, less in a run whose firm table would pass its bound.
        self.row_bound = resolution.row_bound(p)
        self.resolution = resolution.start_resolution(dd, p)
        self.firms = initial_population(dd, leaders, p, self.rng, rd_factor, self.resolution)
        # Entrants take the factor too; None when it is 1 everywhere, so they skip that pass.
        self.district_rd_factor = rd_factor if p.behaviour.district_rd_elasticity else None
        leaders["row"] = np.flatnonzero(self.firms.col("leader"))
        self.leaders = leaders
        unis = actors.load_universities(data_dir)
        if p.start_year < max(datasets.START_YEARS):  # research units opened after 2017 are not there yet
            unis = unis[[y is None or y != y or y <= p.start_year for y in unis["year_opened"]]]
        self.universities = [University(self, row, index_of[str(row.adcode)]) for row in unis.itertuples(index=False)]
        self.network = CollaborationGraph(self.n_districts, len(self.universities),
                                          [d.partners for d in self.district_list], self.is_cluster)
        self.programmes = programmes.build(self)
        self._hooks = programmes.hooks_of(self.programmes.values())
        firm_processes.seed_links(self)

        # ---- the start state -------------------------------------------------------------------
        districts.start_state(self)
        districts.refresh(self)
        self.programmes["evaluation"].evaluate()   # the start's scores fix the benchmarks
        self.call("setup")
        self.entrant_revenue = firm_processes.median_candidate_revenue(self)
        self.industry_cdf = firm_processes.industry_cdf(self)
        self._graph_cache = (None, None)
        self.datacollector = metrics.make_datacollector()
        self.running = True
        self.datacollector.collect(self)

    @property
    def scenario_params(self) -> Params:
        """The scenario's own parameters (``params`` are those in force this year: the policy as
        written and the year's history up to the scenario's start year)."""
        return self._scenario_params

    # ---- calendar ---------------------------------------------------------------------------
    @property
    def year(self) -> int:
        return self.params.start_year + (self.steps + STEPS_PER_YEAR - 1) // STEPS_PER_YEAR

    @property
    def quarter(self) -> int:
        return STEPS_PER_YEAR if self.steps == 0 else (self.steps - 1) % STEPS_PER_YEAR + 1

    @property
    def date_label(self) -> str:
        return f"{self.year} Q{self.quarter}"

    # ---- the quarter ------------------------------------------------------------------------
    def step(self):
        self.events = metrics.empty_events()
        if self.quarter == 1:
            self.params = dataclasses.replace(self.environment.params_for(self._scenario_params, self.year),
                                              start_year=self.params.start_year)
            if self._future_seed is not None and self.year == self.environment.last_year + 1:
                # the forecast's own randomness: the published years were the particle's
                self._stream_root = int(np.random.default_rng(self._future_seed).integers(2**63))
            self.call("enter_year")
            self.call("budget")
            self.call("commit")
        firm_processes.choose_rd(self)
        self.call("after_rd")
        firm_processes.observe_contacts(self)
        firm_processes.learn_and_grow(self)
        firm_processes.climb_ladder(self)
        firm_processes.exit_firms(self)
        firm_processes.enter_firms(self)
        firm_processes.relink(self)
        if self.quarter == 4:
            self.call("year_end")
            districts.close_year(self)
            self.call("year_review")
        districts.refresh(self)
        self.datacollector.collect(self)

    def reached(self, year: int) -> bool:
        """Whether the model stands at the end of ``year`` or later, at a year end."""
        return self.quarter == 4 and self.year >= year

    def run_until(self, year: int, on_year_end=None) -> "InnovationModel":
        """Step to the end of ``year`` (Q4), calling ``on_year_end(model)`` at each year end: the
        one run-to-horizon of ensembles, calibration, the app and the tests."""
        while not self.reached(year):
            self.step()
            if on_year_end is not None and self.quarter == 4:
                on_year_end(self)
        return self

    # ---- programmes -------------------------------------------------------------------------
    def call(self, hook: str, *args) -> None:
        """Run a programme action hook in programme order."""
        for f in self._hooks[hook]:
            f(*args)

    def fold(self, hook: str, value, *args):
        """Pass a firm process's quantity through the programmes' terms, in programme order."""
        for f in self._hooks[hook]:
            value = f(value, *args)
        return value

    def reference_params(self) -> Params:
        """The levers as they were in the start year (defaults, or the hindcast's environment)."""
        origin = self.params.start_year
        return Params() if origin == max(datasets.START_YEARS) else self.environment.params_for(Params(start_year=origin), origin)

    # The fund agents, held by their programmes.
    guiding_fund = property(lambda self: self.programmes["guiding_fund"].fund)
    cultivation_fund = property(lambda self: self.programmes["finance"].fund)
    credit_pool = property(lambda self: self.programmes["finance"].credit)

    # ---- helpers ----------------------------------------------------------------------------
    def stream(self, name: str) -> np.random.Generator:
        """The random stream of one process in the current step. Each process draws from its own
        stream keyed by (root seed, step, process), so a lever that changes one process leaves
        the others' draws untouched and scenario comparisons stay paired. The Generator is made
        once per step: a second call in the same step continues it rather than repeating its
        numbers."""
        if self._streams_step != self.steps:
            self._streams, self._streams_step = {}, self.steps
        rng = self._streams.get(name)
        if rng is None:
            key = (self.steps, self.STREAMS.index(name))
            rng = self._streams[name] = np.random.default_rng(np.random.SeedSequence(self._stream_root, spawn_key=key))
        return rng

    def district_firm_sum(self, column: str | None, mask: np.ndarray | str | None = None) -> np.ndarray:
        """Per-district weighted sum of a firm column over live firms (and an optional mask)."""
        return self.firms.district_sums(self.n_districts, (mask, column))[0]

    def district_firm_sums(self, *sums) -> np.ndarray:
        """Several per-district sums in one pass over the firms: ``(mask, column)`` pairs as in
        :meth:`FirmPopulation.district_sums`."""
        return self.firms.district_sums(self.n_districts, *sums)

    @property
    def graph(self):
        """The collaboration graph of districts, universities and leading firms (networkx)."""
        if self._graph_cache[0] != self.steps:
            G = self.network.district_graph(self.firms, self.district_data, self.universities,
                                            self.leaders, self.active_pairs())
            self._graph_cache = (self.steps, G)
        return self._graph_cache[1]

    def active_pairs(self) -> list[tuple[int, int]]:
        """The paired-assistance pairs while that lever is on (the pairs themselves are data)."""
        return self.paired_pairs if self.params.paired.enabled else []

    def district_network(self) -> tuple[np.ndarray, np.ndarray]:
        """District × district collaboration strength and which pairs are active paired pairs."""
        M = self.network.district_strength(self.firms, np.array([u.district_index for u in self.universities], np.int64),
                                           self.resolution)
        paired = np.zeros(M.shape, bool)
        for a, b in self.active_pairs():
            paired[a, b] = paired[b, a] = True
        return M, paired

    def enterprise(self, index: int):
        return self.firms.view(index)

    def release(self):
        """Free a finished model. Mesa 3.3.1 keeps every model alive through ``Agent._ids``
        (fixed upstream after 3.3.1); long ensembles and the app call this when done."""
        self.remove_all_agents()
        mesa.Agent._ids.pop(self, None)
        self._graph_cache = (None, None)
