"""What the search for the cheapest policy mix (:mod:`sim.optimise.search`) varies, aims at and
pays: the searchable levers and their search space, the chosen targets and the probability of
meeting them all, the objectives, the public money a mix moves (its cost), and the set-up a
search's study is stored under (:class:`Setup`). The defaults of a search are here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..experiments.scenarios import Scenario, ScenarioError
from ..experiments.targets import Target
from ..params.fields import CostContext
from ..params.parameters import Params, levers, public_money, undot
from ..util.messages import short

SAMPLERS = ("tpe", "nsga2")
INEQUALITY = "rd_intensity_gini"   # the optional third objective, a city reporter at the horizon
# Trials run at scale 0.25 by default: below it a run's R&D is noisy and biased high (a few large
# firms per small district carry it; see sim/calibration/problem.py), and a run costs little more.
DEFAULTS = dict(trials=40, replicates=10, prob=0.8, scale=0.25, check_replicates=40, mixes=3, sampler="tpe")


def searchable() -> dict[str, tuple]:
    """Every lever the search may vary: dotted key → its search space (``Lever.search_space``)."""
    return {k: lv.search_space() for k, lv in levers().items() if lv.optimise is not None}


def lever_space(keys=None) -> dict[str, tuple]:
    """The search space of the given levers (default: every searchable one); a key that is not a
    lever, or a lever that is not searched, is a ScenarioError naming it."""
    space, all_levers = searchable(), levers()
    if keys is None:
        return space
    out = {}
    for key in keys:
        if key not in all_levers:
            raise ScenarioError("(command line)", "--levers", f"{short(key)} is not a lever; searchable levers: "
                                f"{', '.join(space)}")
        if key not in space:
            raise ScenarioError("(command line)", "--levers", f"{key} is a lever but not searchable: its public cost is "
                                f"not priced ({all_levers[key].cost}), so a search would push it to whatever helps "
                                f"at no cost; searchable levers: {', '.join(space)}")
        out[key] = space[key]
    if not out:
        raise ScenarioError("(command line)", "--levers", "name at least one lever")
    return out


def choose_targets(scenario: Scenario, ids=None) -> tuple[Target, ...]:
    """The scenario's targets named by ``ids`` (None or ``["all"]``: all of them)."""
    if ids is None or list(ids) == ["all"]:
        return tuple(scenario.targets)
    known = {t.id: t for t in scenario.targets}
    chosen = []
    for i in ids:
        if i not in known:
            raise ScenarioError("(command line)", "--targets", f"{short(i)} is not a target of the scenario's set "
                                f"{scenario.target_set!r}; choose from: {', '.join(known)} (or all)")
        if known[i] not in chosen:
            chosen.append(known[i])
    if not chosen:
        raise ScenarioError("(command line)", "--targets", f"name at least one of: {', '.join(known)} (or all)")
    return tuple(chosen)


def check_prob(prob) -> float:
    if not (isinstance(prob, (int, float)) and not isinstance(prob, bool) and 0 < prob <= 1):
        raise ScenarioError("(command line)", "--prob", f"the probability of meeting every chosen target must be in "
                            f"(0, 1], got {short(prob)}")
    return float(prob)


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    """What fixes a search's trials: a stored study continues only under the same set-up."""

    scenario: Scenario                 # the input with the run's scale and seed applied
    targets: tuple[Target, ...]
    prob: float
    space: dict                        # lever key → search space
    replicates: int
    inequality: bool = False
    sampler: str = "tpe"

    @classmethod
    def build(cls, scenario: Scenario, targets=None, prob: float = DEFAULTS["prob"], lever_keys=None,
              replicates: int = DEFAULTS["replicates"], scale: float | None = DEFAULTS["scale"], seed: int | None = None,
              inequality: bool = False, sampler: str = "tpe", fixed_parameters: bool | None = None) -> "Setup":
        if sampler not in SAMPLERS:
            raise ScenarioError("(command line)", "--sampler", f"{short(sampler)}; choose one of: {', '.join(SAMPLERS)}")
        scenario = scenario.with_run(replicates=replicates, seed=seed, scale=scale, fixed_parameters=fixed_parameters)
        return cls(scenario, choose_targets(scenario, targets), check_prob(prob), lever_space(lever_keys),
                   scenario.replicates, bool(inequality), sampler)

    @property
    def seed(self) -> int:
        return self.scenario.seed

    def record(self) -> dict:
        s = self.scenario
        return dict(scenario=s.name, fingerprint=s.fingerprint(), targets=[t.id for t in self.targets],
                    prob=self.prob, levers={k: list(v) for k, v in self.space.items()}, replicates=self.replicates,
                    scale=s.params.scale, seed=s.seed, until=s.until, inequality=self.inequality, sampler=self.sampler,
                    parameters=s.parameters, params=s.params.to_dict())

    def directions(self) -> list[str]:
        return ["minimize", "maximize"] + (["minimize"] if self.inequality else [])


def cost_context(params: Params, until: int) -> CostContext:
    from ..data.datasets import data_origin, load_districts
    own = float(load_districts(year=data_origin(params.start_year))["fiscal_st_spending"].sum())
    return CostContext(own_st_spending=own, years=until - params.start_year)


def cost(params: Params, until: int) -> float:
    """Public money the levers move, 亿元 per year on average over the run to the end of ``until``."""
    return float(sum(public_money(params, cost_context(params, until)).values()))


def lever_values(params: Params, keys) -> dict:
    out = {}
    for key in keys:
        obj = params
        for part in key.split("."):
            obj = getattr(obj, part)
        out[key] = obj
    return out


def with_levers(params: Params, values: dict) -> Params:
    return params.with_overrides(undot(values, sep="."))
