"""The search for the cheapest policy mix: which settings of the searched levers meet the chosen
targets with a stated probability for the least public money. What it varies, aims at and
pays, and the set-up a study is stored under, are declared in :mod:`sim.optimise.problem`; this
module runs the Optuna study and reads what it found.

A *trial* is one setting of the searched levers (each lever's range is its declaration's
``optimise``, sim/params/levers.py) applied to the input scenario, run for ``replicates`` replicates
through :func:`sim.experiments.ensemble.evaluate_params`. Every trial runs the same replicate seeds
(``replicate_seed(seed, k)``, k = 0…R−1: common random numbers), so two trials differ by their
levers, not by their luck. Its results:

* ``cost``: the public money its levers move, 亿元 per year on average over the horizon
  (:func:`sim.params.public_money`: each lever's declared ``money``);
* ``p_all``: the share of replicates meeting every chosen target; ``p_<id>``: each target's.

Objectives (Optuna, multi-objective, seeded sampler): minimise ``cost`` and maximise ``p_all``
(optionally minimise the districts' R&D-intensity Gini at the horizon), with the constraint
``p_all ≥ prob`` (``Trial.set_constraint``, which Optuna 5's samplers read): the feasible trials' front, and the whole cost–probability
front for the report.

The study lives in an SQLite file (``optuna.db``) in the output folder. Each finished trial is
committed when it is told, so a killed search loses only the trials it was running; running the
same command again (or with a larger ``trials``) continues, and first runs again the trials the
stopped search left unfinished (queued with their settings, ``Study.enqueue_trial``). The study
records its set-up (:meth:`sim.optimise.problem.Setup.record`); a different set-up is refused
(:class:`SetupMismatch`, naming the option that differs and both values).

Resuming repeats the uninterrupted search: the sampler is made afresh for every trial, seeded by
the root seed and the trial's place in the search (its number, not counting trials a stop left
unfinished, which run again under a new number), so what a trial is asked depends only on the
seed and the trials before it, never on where a search was stopped. With several workers the
trials of one batch are asked together and each sees the others as running (the TPE's constant
liar): a stopped search is then repeated when it stopped at the end of a batch of the same size.

The best mixes are then re-run with fresh, independent replicates (:mod:`sim.optimise.mixes`), so the
probability reported for them is not the maximum of noisy estimates it was selected as.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..params.parameters import ParamError
from .problem import DEFAULTS, INEQUALITY, Setup, cost, with_levers
from .study import STORAGE, distributions, open_study, sampler

def _ask(study, setup: Setup, dists: dict):
    """Ask the next trial (a queued one first: the input's mix, a stopped trial's re-run) with the
    sampler of its place: its number less the trials before it that a stop left unfinished."""
    from optuna.trial import TrialState
    trials = study.get_trials(deepcopy=False)
    waiting = [t.number for t in trials if t.state == TrialState.WAITING]
    number = min(waiting) if waiting else len(trials)
    place = number - sum(1 for t in trials if t.number < number and _stopped(t))
    study.sampler = sampler(setup, place)
    trial = study.ask(dists)
    if trial.number != number:      # only this search writes into the study: it holds the folder's lock
        raise RuntimeError(f"asked trial {number} of {STORAGE}, got trial {trial.number}: another process wrote into it")
    return trial


def _stopped(t) -> bool:
    from optuna.trial import TrialState
    return t.state == TrialState.FAIL and bool(t.user_attrs.get("stopped"))


def finished(study) -> int:
    """Trials that count towards ``trials``: evaluated ones and settings the model refuses."""
    from optuna.trial import TrialState
    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and "invalid" in t.user_attrs))


def score(rows: pd.DataFrame, targets) -> dict:
    """P(met) per target and of every target together, from one trial's replicate rows."""
    met = np.column_stack([np.nan_to_num(rows[t.id].to_numpy(float), nan=-np.inf) >= t.threshold for t in targets])
    out = {f"p_{t.id}": float(met[:, i].mean()) for i, t in enumerate(targets)}
    out["p_all"] = float(met.all(axis=1).mean())
    for t in targets:
        out[f"mean_{t.id}"] = float(np.nanmean(rows[t.id].to_numpy(float))) if rows[t.id].notna().any() else math.nan
    return out


def search(setup: Setup, out: Path, trials: int, pool=None, batch: int = 1, backend: str = "serial",
           workers: int | None = None, log=None, fresh=None):
    """Run trials until ``trials`` have finished in the study stored in ``out`` (those already
    there count). ``batch`` settings are evaluated together (one per worker). ``fresh``: see
    :func:`open_study`."""
    from ..experiments import ensemble
    study = open_study(setup, out, fresh=fresh, log=log)
    s = setup.scenario
    dists = distributions(setup.space)
    indicators = (INEQUALITY,) if setup.inequality else ()
    while (done := finished(study)) < trials:
        asked, runs = [], []
        for _ in range(max(1, min(batch, trials - done))):
            trial = _ask(study, setup, dists)
            try:
                params = with_levers(s.params, {k: _clean(trial.params[k]) for k in setup.space})
            except ParamError as e:            # a combination the model refuses: not a mix to run
                trial.set_user_attr("invalid", str(e))
                study.tell(trial, state=_fail())
                continue
            asked.append(trial)
            runs.append(params)
        if not runs:
            continue
        # Each trial as the input scenario with its levers, so replicate k runs the same posterior
        # draw (and seed) in every trial: differences between mixes are not parameter noise either.
        rows = ensemble.evaluate_params([replace(s, params=p) for p in runs], replicates=setup.replicates,
                                        seed=s.seed, until=s.until, targets=setup.targets, indicators=indicators,
                                        backend=backend, workers=workers, pool=pool)
        for i, (trial, params) in enumerate(zip(asked, runs)):
            res = score(rows[rows["run"] == i], setup.targets)
            res["cost"] = cost(params, s.until)
            values = [res["cost"], res["p_all"]]
            if setup.inequality:
                res[INEQUALITY] = float(rows.loc[rows["run"] == i, INEQUALITY].mean())
                values.append(res[INEQUALITY])
            for k, v in res.items():
                trial.set_user_attr(k, v)
            trial.set_constraint("p_all", setup.prob - res["p_all"])
            study.tell(trial, values)
            if log:
                log(f"trial {trial.number}: {res['cost']:.2f} 亿元/yr, P(all met) {res['p_all']:.0%}")
    return study


def _clean(v):
    """A stepped float as it is written in a scenario file (0.30000000000000004 → 0.3): the trial
    runs, and its mix file holds, the same value."""
    return round(v, 10) if isinstance(v, float) else v


def _fail():
    from optuna.trial import TrialState
    return TrialState.FAIL


# ------------------------------------------------------------------------------------------------
# What the study found
# ------------------------------------------------------------------------------------------------
def trials_table(study, setup: Setup) -> pd.DataFrame:
    """One row per evaluated trial: its lever values, cost, P(met) per target and together,
    whether it meets the constraint, and whether it is on the cost–probability front."""
    from optuna.trial import TrialState
    rows = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        a = t.user_attrs
        row = dict(trial=t.number, input=bool(a.get("input", False)))
        row.update({k: _clean(t.params.get(k)) for k in setup.space})
        row["cost"] = a["cost"]
        row["p_all"] = a["p_all"]
        row.update({f"p_{x.id}": a.get(f"p_{x.id}") for x in setup.targets})
        row.update({f"mean_{x.id}": a.get(f"mean_{x.id}") for x in setup.targets})
        if setup.inequality:
            row[INEQUALITY] = a.get(INEQUALITY)
        row["feasible"] = a["p_all"] >= setup.prob
        rows.append(row)
    df = pd.DataFrame(rows)
    if len(df):
        df["pareto"] = front(df, setup.inequality)
    return df


def front(df: pd.DataFrame, inequality: bool = False) -> np.ndarray:
    """Whether each row is on the front: no other row is at least as cheap and as likely (and as
    equal) and better in one of them."""
    cols = [df["cost"].to_numpy(float), -df["p_all"].to_numpy(float)]
    if inequality:
        cols.append(df[INEQUALITY].to_numpy(float))
    x = np.column_stack(cols)
    keep = np.ones(len(x), bool)
    for i in range(len(x)):
        dominated = np.all(x <= x[i], axis=1) & np.any(x < x[i], axis=1)
        keep[i] = not dominated.any()
    # Equal points: keep the first only, so the front has one row per distinct outcome.
    _, first = np.unique(x[keep], axis=0, return_index=True)
    idx = np.flatnonzero(keep)
    out = np.zeros(len(x), bool)
    out[idx[np.sort(first)]] = True
    return out


def pareto_table(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["pareto"]].sort_values("cost").reset_index(drop=True) if len(table) else table


def choose_mixes(table: pd.DataFrame, prob: float, n: int = DEFAULTS["mixes"]) -> list[tuple[str, pd.Series]]:
    """The mixes to check with fresh replicates: the cheapest that meets ``prob`` (or, if none
    does, the most likely one, cheapest first), then other points of the front spread over its
    cost range, cheapest first."""
    if not len(table) or n < 1:
        return []
    feasible = table[table["feasible"]].sort_values(["cost", "p_all"], ascending=[True, False])
    if len(feasible):
        chosen = [("cheapest", feasible.iloc[0])]
    else:
        best = table.sort_values(["p_all", "cost"], ascending=[False, True]).iloc[0]
        chosen = [("most_likely", best)]
    rest = pareto_table(table)
    rest = rest[~rest["trial"].isin([c[1]["trial"] for c in chosen])]
    if len(rest) and n > 1:
        picks = np.unique(np.round(np.linspace(0, len(rest) - 1, min(n - 1, len(rest)))).astype(int))
        chosen += [("front", rest.iloc[i]) for i in picks]
    return chosen


def reach(table: pd.DataFrame, targets) -> pd.DataFrame:
    """Per target, the highest P(met) any trial reached on its own and the cheapest trial reaching
    it: says which target keeps every trial from meeting them all."""
    rows = []
    for t in targets:
        col = f"p_{t.id}"
        if not len(table):
            rows.append(dict(target=t.id, threshold=t.threshold, best_p=math.nan, trial=None, cost=math.nan,
                             best_mean=math.nan))
            continue
        best = table[col].max()
        first = table[table[col] == best].sort_values("cost").iloc[0]
        reached = best > 0          # no trial to name when none met it even once
        rows.append(dict(target=t.id, threshold=t.threshold, best_p=float(best),
                         trial=int(first["trial"]) if reached else None,
                         cost=float(first["cost"]) if reached else math.nan,
                         best_mean=float(table[f"mean_{t.id}"].max())))
    return pd.DataFrame(rows)

