"""Scenario discovery: what would have to be true for a target to be missed.

An ensemble's replicates differ in what they ran with: by default replicate ``k`` runs the
calibration's posterior draw ``k`` of the free behaviour parameters
(:mod:`sim.experiments.posterior`), and an experiment may vary levers too. PRIM (the Patient
Rule Induction Method, Friedman & Fisher 1999, as used for scenario discovery by Bryant &
Lempert 2010) looks for a *box* — a range on a few of those inputs — inside which the target is
mostly missed. Two numbers say how good a box is:

* **density**: the share of the runs inside the box that miss the target (how sure a miss is
  when the conditions hold);
* **coverage**: the share of all misses that fall inside the box (how much of the missing the
  conditions explain).

PRIM peels the box one thin slice at a time, each time cutting off the slice that raises the
density most; the **peeling trajectory** is the list of boxes it passes through, from everything
(coverage 1, density = the overall miss rate) to a small, dense box. Its later boxes restrict
many inputs, some only by chance, so each step's box is also **simplified** for a planner: cut
to at most ``max_dims`` inputs (default 3; each time the condition whose loss costs the least
density goes), then rid of every condition that is not clearly better than chance (quasi-p above
``max_quasi_p``, 0.05, the worst first; Bryant & Lempert 2010), its bounds rounded to two
significant digits. The chosen box is, among the simplified ones holding at least ``min_runs``
runs and ``min_coverage`` (10 %) of the misses, with a density of at least ``min_density``
(75 %) and at least halfway from the overall miss rate to 100 %, the one with the highest
coverage. When none qualifies, the densest is given as the closest and said to be so. After a
chosen box, PRIM looks for another among the runs outside it (up to ``boxes``, default 2).
Every number is counted here on all the runs, from the simplified box as printed, so the
sentences (Chinese and English: :mod:`sim.experiments.discovery_text`) are true of the whole
ensemble.

PRIM comes from the optional extra ``discovery`` (the ``prim`` package, 1.0.0); without it,
:func:`require_prim` raises one line saying how to install it.

    from sim.experiments.discovery import discover
    d = discover("results/double_doubling", "DD27-TS")    # or an EnsembleResult
    print(d.text()); d.trajectory                          # sentences; coverage vs density
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import datasets
from . import discovery_text as words
from .discovery_boxes import (EXTRA, INSTALL, LIBRARY, Box, Condition, DiscoveryError, ExtraMissing, find_boxes, in_box,
                              require_prim, trajectory_frame)
from .results import EnsembleResult, load_results
from .targets import Target

__all__ = ["Box", "Condition", "Discovery", "DiscoveryError", "ExtraMissing", "discover", "discover_frame",
           "replicate_inputs", "replicate_outcome", "require_prim", "EXTRA", "INSTALL", "LIBRARY"]
CASES = ("missed", "met")
DEFAULTS = dict(max_dims=3, min_density=0.75, min_coverage=0.1, boxes=2, min_runs=5, max_quasi_p=0.05, peel_alpha=0.05)
MIN_RUNS_IN_ALL = 10
# Inputs a run's start year leaves unused: a draw of them changes nothing in that run, and a
# box on one would only echo an input it is drawn with (candidate_ratio_2017 with candidate_ratio).
UNUSED = {2022: ("behaviour.candidate_ratio_2017",), 2017: ("behaviour.candidate_ratio", "behaviour.registered_rd_2022")}


@dataclass
class Discovery:
    target: Target
    case: str                       # "missed" or "met": the outcome explained
    inputs: pd.DataFrame = field(repr=False)    # one row per replicate: what it ran with (varying inputs only)
    outcome: pd.Series = field(repr=False)      # per replicate: True when the case holds
    boxes: list[Box]
    max_dims: int
    required_density: float
    scenario: str = ""
    # PRIM's first peeling trajectory (coverage against density; ``chosen`` marks the first box's
    # step), there even when no box is chosen on it; empty when every run or none is a case
    trajectory: pd.DataFrame = field(default_factory=lambda: trajectory_frame([]), repr=False)
    zh: str = ""                    # the overall sentences (how often; several boxes together; small runs)
    en: str = ""

    @property
    def runs(self) -> int:
        return len(self.outcome)

    @property
    def cases(self) -> int:
        return int(self.outcome.sum())

    @property
    def base_rate(self) -> float:
        return self.cases / self.runs if self.runs else math.nan

    @property
    def together(self) -> float:
        """Share of the cases inside any of the boxes."""
        inside = np.zeros(self.runs, bool)
        for b in self.boxes:
            inside |= in_box(self.inputs, b.conditions)
        return float((inside & self.outcome.to_numpy()).sum() / self.cases) if self.cases else math.nan

    def sentences(self, lang: str = "en") -> list[str]:
        return [getattr(b, lang) for b in self.boxes] + [getattr(self, lang)]

    def text(self) -> str:
        """The sentences in English, then in Chinese, then each condition with its quasi-p."""
        lines = [*self.sentences("en"), "", *self.sentences("zh")]
        for i, b in enumerate(self.boxes, 1):
            lines += ["", f"box {i}{'' if b.meets else ' (closest; below the rule)'}: {b.runs} runs, {b.cases} "
                      f"{self.case}, coverage {words.pct(b.coverage)}, density {words.pct(b.density)}"]
            lines += [f"  {c.text()}   (quasi-p {c.quasi_p:.2g})" for c in b.conditions]
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        """One row per box (one row without conditions when there is none): for discovery.csv."""
        common = dict(scenario=self.scenario, target=self.target.id, case=self.case, runs=self.runs,
                      cases=self.cases, base_rate=self.base_rate)
        rows = [dict(common, box=i, meets=b.meets, conditions=" & ".join(c.text() for c in b.conditions),
                     quasi_p=";".join(f"{c.quasi_p:.3g}" for c in b.conditions), runs_in_box=b.runs,
                     cases_in_box=b.cases, coverage=b.coverage, density=b.density, mass=b.mass,
                     sentence_en=b.en, sentence_zh=b.zh) for i, b in enumerate(self.boxes, 1)]
        rows.append(dict(common, box=0, meets=None, conditions="", quasi_p="", runs_in_box=self.runs,
                         cases_in_box=self.cases, coverage=1.0 if self.cases else math.nan, density=self.base_rate,
                         mass=1.0, sentence_en=self.en, sentence_zh=self.zh))
        return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# What each replicate ran with, and its outcome
# ------------------------------------------------------------------------------------------------
def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        elif isinstance(v, (bool, int, float, str)):
            out[prefix + k] = v
    return out


def replicate_inputs(result: EnsembleResult, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per replicate of ``result``: every parameter that differs between its replicates
    (the posterior draw each ran, and any lever the ensemble varies), as the scenario gives it
    (``Scenario.replicate_params``); ``extra`` (indexed by replicate) adds or replaces columns."""
    scenario = result.scenario
    reps = sorted(int(k) for k in result.targets["replicate"].unique())
    df = pd.DataFrame([_flat(scenario.replicate_params(k).to_dict()) for k in reps], index=pd.Index(reps, name="replicate"))
    if extra is not None:
        df = df.drop(columns=[c for c in extra.columns if c in df.columns]).join(extra, how="left")
    unused = UNUSED.get(datasets.data_origin(scenario.params.start_year), ())
    keep = [c for c in df.columns if c not in unused and df[c].nunique(dropna=False) > 1]
    return df[keep]


def replicate_outcome(result: EnsembleResult, target: str, case: str = "missed") -> pd.Series:
    """Per replicate: True when it misses (``case="missed"``) or meets (``"met"``) the target."""
    rows = result.targets[result.targets["target"] == target]
    met = rows.set_index("replicate")["met"].astype(bool).sort_index()
    met.index = met.index.astype(int)
    return (~met if case == "missed" else met).rename(case)


# ------------------------------------------------------------------------------------------------
def discover(source, target: str, case: str = "missed", inputs: pd.DataFrame | None = None,
             **options) -> Discovery:
    """Scenario discovery on an ensemble (an :class:`EnsembleResult` or a results folder) for
    one target id: the boxes, their coverage and density, the sentences and trajectories.
    ``inputs`` (indexed by replicate) adds inputs the scenario does not know of (e.g. levers an
    experiment varied); ``options``: see DEFAULTS."""
    result = source if isinstance(source, EnsembleResult) else load_results(Path(source))
    known = [t for t in result.scenario.targets if t.id == target]
    if not known:
        raise DiscoveryError(f"--target: {target!r} is not a target of {result.scenario.name} (set "
                             f"{result.scenario.target_set}); choose one of: "
                             f"{', '.join(t.id for t in result.scenario.targets)}")
    X = replicate_inputs(result, inputs)
    if len(X) < MIN_RUNS_IN_ALL:
        raise DiscoveryError(f"--replicates: scenario discovery needs at least {MIN_RUNS_IN_ALL} runs, got {len(X)}")
    if X.shape[1] == 0:
        raise DiscoveryError(f"{result.scenario.name}: every replicate ran with the same parameters "
                             f"({result.scenario.parameters_note}); only chance differs between the runs, so no "
                             "condition can explain a miss: run the ensemble with posterior draws (without "
                             "--fixed-parameters)")
    y = replicate_outcome(result, target, case).reindex(X.index)
    X, y = X[y.notna()], y[y.notna()]          # (every finished replicate scores every target: none is dropped)
    return discover_frame(X, y.astype(bool), known[0], case=case, scenario=result.scenario.name, **options)


def discover_frame(X: pd.DataFrame, y, target: Target, case: str = "missed", scenario: str = "",
                   **options) -> Discovery:
    """:func:`discover` on any table of inputs (one row per run) and outcome (True: the case)."""
    require_prim()
    opts = {**DEFAULTS, **options}
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown or case not in CASES:
        raise DiscoveryError(f"unknown option {unknown[0]!r}; allowed: {', '.join(DEFAULTS)}" if unknown else
                             f"case: {case!r}; allowed: {', '.join(CASES)}")
    if not 1 <= int(opts["max_dims"]) <= 10 or not 0 < opts["min_density"] <= 1 or not 0 <= opts["min_coverage"] <= 1:
        raise DiscoveryError("--max-dims 1–10, --min-density in (0, 1] and a minimum coverage in [0, 1] are allowed, "
                             f"got {opts['max_dims']}, {opts['min_density']}, {opts['min_coverage']}")
    y = pd.Series(np.asarray(y, bool), index=X.index, name=case)
    if len(X) < MIN_RUNS_IN_ALL:
        raise DiscoveryError(f"--replicates: scenario discovery needs at least {MIN_RUNS_IN_ALL} runs, got {len(X)}")
    base = float(y.mean())
    required = max(float(opts["min_density"]), (1 + base) / 2)
    d = Discovery(target=target, case=case, inputs=X, outcome=y, boxes=[], max_dims=int(opts["max_dims"]),
                  required_density=required, scenario=scenario)
    if 0 < y.sum() < len(y):
        d.boxes, d.trajectory = find_boxes(X, y.to_numpy(), opts, required)
    for b in d.boxes:
        b.zh, b.en = words.box_sentences(d, b)
    d.zh, d.en = words.overall_sentences(d)
    return d


