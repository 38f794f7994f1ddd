"""The study of a search, stored in the output folder's ``optuna.db``: opening it (new, resumed or
started again after the file was emptied), refusing another set-up by naming the option or
parameter that differs with both values, and the sampler each trial is asked by, seeded by the
root seed and the trial's place in the search (see :mod:`sim.optimise.search`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..experiments.scenarios import ScenarioError
from ..util.messages import short
from .problem import Setup, lever_values

STORAGE = "optuna.db"
STUDY = "cheapest_mix"
STARTUP_TRIALS = 8                  # random trials before TPE models the good and the bad settings


class SetupMismatch(ScenarioError):
    """The output folder's study was set up differently from this command."""


def distributions(space: dict) -> dict:
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    out = {}
    for key, sp in space.items():
        if sp[0] == "choice":
            out[key] = CategoricalDistribution(list(sp[1:]))
        else:
            _, lo, hi, step = sp
            out[key] = FloatDistribution(lo, hi, step=step)
    return out


def _in_space(value, sp):
    """The input's own value, brought into the search space (the first trial starts from it)."""
    if sp[0] == "choice":
        return value if value in sp[1:] else sp[1]
    _, lo, hi, step = sp
    return float(min(max(lo + round((float(value) - lo) / step) * step, lo), hi))


# ------------------------------------------------------------------------------------------------
# The study
# ------------------------------------------------------------------------------------------------
def storage_url(out: Path) -> str:
    return f"sqlite:///{Path(out).resolve() / STORAGE}"


def open_study(setup: Setup, out: Path, fresh=None, log=None):
    """Create the study in ``out`` or load the one there, refusing another set-up. Trials a
    stopped search left running are marked failed (this search holds the folder, so nobody runs
    them) and queued to run again with their settings. ``fresh()`` is called before a study is
    created in a folder that holds none (the files of an earlier search are then not this one's)."""
    import optuna
    from optuna.trial import TrialState
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = Path(out) / STORAGE
    existed = path.exists()
    try:
        storage = optuna.storages.RDBStorage(storage_url(out), engine_kwargs={"connect_args": {"timeout": 60}})
    except Exception as e:  # noqa: BLE001 — a damaged or foreign file: say which, never a traceback
        raise SetupMismatch(path, "(file)", f"is not a search this simulator stored ({type(e).__name__}: "
                            f"{short(str(e))}); choose another --out") from None
    record = setup.record()
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)] if existed else []
    if existed and names and STUDY not in names:
        raise SetupMismatch(path, "(study)", f"holds the studies {names}, not a search for the cheapest mix; "
                            "choose another --out")
    if STUDY in names:
        study = optuna.load_study(study_name=STUDY, storage=storage, sampler=sampler(setup, 0))
        differs = setup_difference(study.user_attrs.get("setup", {}), record)
        if differs:
            key, message = differs
            raise SetupMismatch(path, key, f"{message}; rerun with the folder's setting to continue its search, or "
                                "choose another --out for a new search")
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            storage.set_trial_user_attr(t._trial_id, "stopped", True)
            storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            # Run again with its settings (under a new number): the search goes on as if it had not stopped.
            study.enqueue_trial(dict(t.params), user_attrs={"rerun_of": t.number, **(
                {"input": True} if t.user_attrs.get("input") else {})})
            if log:
                log(f"trial {t.number} was left unfinished by a stopped search: it runs again")
    else:
        if fresh is not None:
            fresh()
        study = optuna.create_study(study_name=STUDY, storage=storage, directions=setup.directions(),
                                    sampler=sampler(setup, 0))
        study.set_user_attr("setup", record)
        # The first trial is the input's own mix: the front then says what the input achieves.
        start = {k: _in_space(v, setup.space[k]) for k, v in lever_values(setup.scenario.params, setup.space).items()}
        study.enqueue_trial(start, user_attrs={"input": True})
    return study


# How the set-up a folder's search ran under differs from the command's: the setting that differs,
# as the option (or scenario key) that sets it, and both values. Checked in this order: the
# scenario's fingerprint last, as it also changes with the scale, seed and parameters named before it.
_SETTING = dict(scenario="SCENARIO", until="until", scale="--scale", seed="--seed", parameters="--fixed-parameters",
                targets="--targets", prob="--prob", levers="--levers", replicates="--replicates",
                inequality="--inequality", sampler="--sampler", params="SCENARIO", fingerprint="SCENARIO")
_PARAMETERS = {"posterior": "each replicate at its posterior draw (without --fixed-parameters)",
               "fixed": "the calibrated point estimate (--fixed-parameters)"}


def setup_difference(stored: dict, record: dict) -> tuple[str, str] | None:
    """The first setting of ``record`` (this command's set-up) that differs from ``stored`` (the
    folder's), as ``(option, message)`` naming both values; None when they agree."""
    keys = [k for k in _SETTING if k in record] + [k for k in record if k not in _SETTING]
    for key in keys:
        if key == "params" and key not in stored:
            continue            # a study stored before the set-up held its parameters: the fingerprint compares them
        was, now = _norm(stored.get(key)), _norm(record[key])
        if was != now:
            setting = _SETTING.get(key, key)
            if key == "levers" and isinstance(was, dict) and set(was) == set(now):
                setting = "levers"      # the same levers, another range: their declaration changed, not --levers
            return setting, _difference(key, was, now, key in stored)
    return None


def _difference(key: str, was, now, recorded: bool) -> str:
    if not recorded:
        return f"this folder's search did not record its {key}; this command asks for {short(now)}"
    if key == "scenario":
        return f"this folder's search is of the scenario {short(was)}, this command names {short(now)}"
    if key == "until":
        return f"this folder's search ran to the end of {short(was)}, the scenario now runs to the end of {short(now)}"
    if key == "scale":
        return f"this folder's search ran at {_num(was)}, this command asks for {_num(now)}"
    if key == "seed":
        return f"this folder's search ran with root seed {short(was)}, this command asks for {short(now)}"
    if key == "parameters":
        return (f"this folder's search ran {_PARAMETERS.get(was, short(was))}, this command asks for "
                f"{_PARAMETERS.get(now, short(now))}")
    if key == "targets":
        return f"this folder's search aimed at {_ids(was)}, this command asks for {_ids(now)}"
    if key == "prob":
        return f"this folder's search required P ≥ {_num(was)}, this command asks for {_num(now)}"
    if key == "levers":
        if not isinstance(was, dict) or set(was) != set(now):
            return f"this folder's search varied {_ids(was)}, this command asks for {_ids(now)}"
        lever = next(k for k in now if was[k] != now[k])
        return (f"lever {lever} was searched over {short(was[lever])} in this folder's search, its declaration "
                f"(sim/params/levers.py) now gives {short(now[lever])}")
    if key == "replicates":
        return f"this folder's search ran {short(was)} replicates per trial, this command asks for {short(now)}"
    if key == "inequality":
        def said(v):
            return "with the inequality objective (--inequality)" if v else "without the inequality objective"
        return f"this folder's search ran {said(was)}, this command asks for a search {said(now)}"
    if key == "sampler":
        return f"this folder's search used the sampler {short(was)}, this command asks for {short(now)}"
    if key == "params" and (changed := _changed(was, now)):
        first = changed[0]
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        return (f"the scenario's {first[0]} was {short(first[1])} when this folder's search ran, the scenario now "
                f"gives {short(first[2])}{more}")
    if key == "fingerprint":
        return (f"the scenario no longer gives the replicates this folder's search ran: its parameters, its targets "
                f"or its calibration's posterior draws changed since (fingerprint {_text(was)} then, {_text(now)} now)")
    return f"this folder's search ran with {key} = {short(was)}, this command asks for {short(now)}"


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else short(x)


def _text(x) -> str:
    return x if isinstance(x, str) and len(x) <= 64 else short(x)


def _ids(x) -> str:
    items = list(x) if isinstance(x, (list, dict)) else [x]
    return ", ".join(str(i) for i in items) if items else "none"


def _changed(was, now, prefix: str = "") -> list[tuple[str, object, object]]:
    """Dotted keys whose values differ between two nested dicts, with both values."""
    if not (isinstance(was, dict) and isinstance(now, dict)):
        return [(prefix or "parameters", was, now)] if was != now else []
    out = []
    for k in [*now, *(k for k in was if k not in now)]:
        out += _changed(was.get(k), now.get(k), f"{prefix}.{k}" if prefix else str(k))
    return out


def _norm(x):
    """Stored JSON and the set-up compare alike (tuples are lists there)."""
    if isinstance(x, dict):
        return {k: _norm(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_norm(v) for v in x]
    return x


def sampler(setup: Setup, place: int):
    """The sampler that asks the trial at ``place`` in the search: seeded by the root seed and that
    place alone, so the trial is the same however the search was stopped and resumed before it."""
    import optuna
    seed = int(np.random.SeedSequence([setup.seed, place]).generate_state(1)[0])
    if setup.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=STARTUP_TRIALS)


