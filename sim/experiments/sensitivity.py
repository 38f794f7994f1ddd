"""Global sensitivity analysis of the levers with SALib, run through the ensemble runner.

A SALib *problem* names the factors (lever keys of ``sim.params``) and their ranges. Every
sample point becomes a ``Params`` and all of them are run by :func:`sim.experiments.ensemble.evaluate_params`
— so the same backends (serial, process pool, Dask) and the same paired seeds apply: replicate
``k`` uses the same random streams at every sample point (common random numbers), and several
replicates per point are averaged before the analysis::

    from sim import sensitivity as sa
    problem = sa.problem()                                   # the default study levers and ranges
    screen = sa.morris(problem, trajectories=20, scale=0.25, backend="processes")
    sa.ranking(screen)                                       # levers by their largest normalised effect
    top = sa.problem(sa.important(screen, k=4))
    indices = sa.sobol(top, n=1024, scale=0.25, backend="dask")

Outputs are target ids of the target set (``"T2"``: the value at the target's year) or city
reporters of :data:`sim.core.metrics.CITY_REPORTERS` (``"rd_per_capita_theil"``: the value at the
final year-end).

Factors of two kinds:

* numeric levers take a range ``(lo, hi)`` inside the parameter's allowed range (integers are
  rounded);
* discrete levers (a rule such as ``guiding_fund.allocation``, or a switch such as
  ``paired.enabled``) take their choices: SALib samples a number in [0, 1) and the i-th of n
  choices is used on [i/n, (i+1)/n). Morris effects of such a factor compare adjacent choices in
  the order given; Sobol indices treat it as a factor with n equally likely values.

:data:`STUDY_RANGES` gives each default lever a plausible policy range around its documented
value (a planner's range, not the parameter's technical limits).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import metrics
from ..core.data_checks import check_against_data
from ..params.parameters import Params, describe, levers
from ..util.errors import InputError
from . import ensemble, scenarios
from .targets import POLICY_2025

# The levers a study screens by default, each with the range it is varied over (about half to
# three times its documented default, or the choices of a rule): their declarations' study range.
STUDY_RANGES: dict[str, tuple] = {key: lv.study for key, lv in levers().items() if lv.study is not None}

# T2 (certified high-tech enterprises), T3 (districts with ≥ 10 %/yr R&D growth) and regional
# inequality (Theil index of R&D per resident across the 38 districts).
DEFAULT_OUTPUTS = ("T2", "T3", "rd_per_capita_theil")

_PARAMS = {row["key"]: row for row in describe()}


class SensitivityError(InputError):
    """A problem definition or output that cannot be run; the message says what is allowed."""


# ------------------------------------------------------------------------------------------------
# Problem definition
# ------------------------------------------------------------------------------------------------
def problem(levers: Iterable[str] | Mapping[str, tuple] | None = None) -> dict:
    """A SALib problem over lever keys.

    ``levers`` is a list of keys (ranges from :data:`STUDY_RANGES`) or a mapping key → range
    (``(lo, hi)`` for numbers, a tuple of choices for a rule or switch). The result is a plain
    SALib dict (``num_vars``, ``names``, ``bounds``) plus ``choices`` for the discrete factors
    and ``kinds`` (``float``, ``int``, ``discrete``) used to build the parameter sets."""
    if levers is None:
        levers = STUDY_RANGES
    if not isinstance(levers, Mapping):
        keys = list(levers)
        missing = [k for k in keys if k not in STUDY_RANGES]
        if missing:
            raise SensitivityError(f"no study range for {missing[0]!r}; pass a mapping key → range for it")
        levers = {k: STUDY_RANGES[k] for k in keys}
    if not levers:
        raise SensitivityError("a problem needs at least one lever")
    names, bounds, choices, kinds = [], [], {}, {}
    for key, spec in levers.items():
        if key not in _PARAMS:
            raise SensitivityError(f"{key!r} is not a parameter; see sim.params.describe()")
        row = _PARAMS[key]
        default = row["value"]
        spec = tuple(spec)
        if isinstance(default, bool) or row["choices"] is not None:
            allowed = (False, True) if isinstance(default, bool) else tuple(row["choices"])
            bad = [c for c in spec if c not in allowed]
            if not spec or bad:
                raise SensitivityError(f"{key}: choices must come from {allowed}, got {spec!r}")
            choices[key] = spec
            kinds[key] = "discrete"
            bounds.append([0.0, 1.0])
        elif isinstance(default, (int, float)):
            if len(spec) != 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in spec):
                raise SensitivityError(f"{key}: a numeric lever takes (lo, hi), got {spec!r}")
            lo, hi = float(spec[0]), float(spec[1])
            if not lo < hi:
                raise SensitivityError(f"{key}: lo must be below hi, got ({lo}, {hi})")
            plo, phi = row["lo"], row["hi"]
            if (plo is not None and lo < plo) or (phi is not None and hi > phi):
                raise SensitivityError(f"{key}: range ({lo}, {hi}) leaves the allowed {plo} to {phi} {row['unit']}")
            kinds[key] = "int" if isinstance(default, int) else "float"
            bounds.append([lo, hi])
        else:
            raise SensitivityError(f"{key}: only numbers, rules and switches can be factors (it holds {default!r})")
        names.append(key)
    return {"num_vars": len(names), "names": names, "bounds": bounds, "choices": choices, "kinds": kinds}


def _value(problem: dict, name: str, x: float):
    kind = problem.get("kinds", {}).get(name, "float")
    if kind == "discrete":
        options = problem["choices"][name]
        return options[min(int(x * len(options)), len(options) - 1)]
    if kind == "int":
        return int(round(x))
    return float(x)


def overrides(problem: dict, x: Sequence[float]) -> dict:
    """The nested parameter overrides of one sample point."""
    out: dict = {}
    for name, xi in zip(problem["names"], x):
        node = out
        *path, leaf = name.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = _value(problem, name, float(xi))
    return out


def base_params(base=None) -> Params:
    """The parameters the factors are set on: ``None`` (the documented defaults), a ``Params``,
    a ``Scenario`` or a scenario name/path (its parameters, e.g. ``"baseline"`` with the fitted
    behaviour when the scenario reads a calibration file)."""
    if base is None:
        return Params()
    if isinstance(base, Params):
        return base
    if isinstance(base, (str, Path)):
        return scenarios.load(base).params
    if isinstance(getattr(base, "params", None), Params):
        return base.params
    raise SensitivityError(f"base: expected None, Params, a Scenario or a scenario name, got {type(base).__name__}")


def to_params(problem: dict, X: np.ndarray, base=None, scale: float | None = None) -> list[Params]:
    """One validated ``Params`` per row of the sample matrix ``X``; the other parameters come from
    ``base`` (see :func:`base_params`), the scale from ``scale`` if given, else from ``base``."""
    base = base_params(base)
    if scale is not None:
        base = base.with_overrides(scale=float(scale))
    X = np.atleast_2d(np.asarray(X, float))
    if X.shape[1] != problem["num_vars"]:
        raise SensitivityError(f"the sample has {X.shape[1]} columns; the problem has {problem['num_vars']} factors")
    return [check_against_data(base.with_overrides(overrides(problem, x))) for x in X]


def factor_values(problem: dict, X: np.ndarray) -> pd.DataFrame:
    """The sample as the levers' own values (choices by name), one row per run."""
    return pd.DataFrame([{n: _value(problem, n, float(x)) for n, x in zip(problem["names"], row)}
                         for row in np.atleast_2d(X)])


# ------------------------------------------------------------------------------------------------
# Runs
# ------------------------------------------------------------------------------------------------
def _split_outputs(outputs, targets) -> tuple[list[str], list[str]]:
    ids = {t.id for t in targets}
    indicators = [o for o in outputs if o not in ids]
    unknown = [o for o in indicators if o not in metrics.CITY_REPORTERS]
    if unknown:
        raise SensitivityError(f"unknown output {unknown[0]!r}: use a target id ({', '.join(sorted(ids))}) "
                               "or a city reporter of sim.core.metrics.CITY_REPORTERS")
    return [o for o in outputs if o in ids], indicators


def evaluate(problem: dict, X: np.ndarray, outputs: Sequence[str] = DEFAULT_OUTPUTS, replicates: int = 1,
             seed: int = 42, until: int = 2025, scale: float | None = None, base=None,
             targets=None, backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
             progress: bool = False) -> pd.DataFrame:
    """Run every sample point for ``replicates`` paired replicates through
    :func:`sim.experiments.ensemble.evaluate_params`. One row per (run, replicate): the outputs and the
    factors' values.

    ``seed`` is the root seed of the replicates (the same at every point), ``until`` the last
    simulated year, ``scale`` the firms simulated per real firm (default: the base's), ``base``
    what the factors are set on (:func:`base_params`), ``targets`` the target set the target ids
    refer to (default T1–T6 of 2025); ``backend``, ``workers``, ``scheduler`` and ``progress``
    go to the ensemble runner."""
    targets = tuple(targets or POLICY_2025)
    _, indicators = _split_outputs(outputs, targets)
    runs = ensemble.evaluate_params(to_params(problem, X, base, scale), replicates=replicates, seed=seed,
                                    until=until, targets=targets, indicators=tuple(indicators),
                                    backend=backend, workers=workers, scheduler=scheduler, progress=progress)
    factors = factor_values(problem, X).rename_axis("run").reset_index()
    return runs[["run", "replicate", *outputs]].merge(factors, on="run", how="left")


def mean_outputs(runs: pd.DataFrame, outputs: Sequence[str], n_runs: int) -> pd.DataFrame:
    """Outputs averaged over the replicates of each run, in run order (the Y of SALib)."""
    means = runs.groupby("run")[list(outputs)].mean().reindex(range(n_runs))
    if means.isna().any().any():
        bad = means.columns[means.isna().any()].tolist()
        raise SensitivityError(f"outputs {bad} are missing (NaN) for some runs; is `until` before a target's year?")
    return means


# ------------------------------------------------------------------------------------------------
# Morris screening and Sobol indices
# ------------------------------------------------------------------------------------------------
def morris(problem: dict, outputs: Sequence[str] = DEFAULT_OUTPUTS, trajectories: int = 10, levels: int = 4,
           replicates: int = 1, seed: int = 42, until: int = 2025, scale: float | None = None,
           base=None, targets=None, backend: str = "serial", workers: int | None = None,
           scheduler: str | None = None, progress: bool = False, return_runs: bool = False):
    """Morris elementary-effects screening: ``trajectories × (factors + 1)`` model runs (each
    ``replicates`` times; the other arguments as in :func:`evaluate`, ``seed`` also seeds the
    sample). See :func:`analyze_morris` for the columns. With ``return_runs=True`` returns
    ``(indices, runs)``."""
    X = sample_morris(problem, trajectories, levels, seed)
    runs = evaluate(problem, X, outputs, replicates=replicates, seed=seed, until=until, scale=scale, base=base,
                    targets=targets, backend=backend, workers=workers, scheduler=scheduler, progress=progress)
    indices = analyze_morris(problem, X, mean_outputs(runs, outputs, len(X)), levels, seed)
    indices.attrs.update(trajectories=trajectories, replicates=replicates, scale=scale)
    return (indices, runs) if return_runs else indices


def sample_morris(problem: dict, trajectories: int, levels: int = 4, seed: int = 42) -> np.ndarray:
    from SALib.sample import morris as sample
    return sample.sample(_salib(problem), trajectories, num_levels=levels, seed=seed)


def analyze_morris(problem: dict, X: np.ndarray, Y: pd.DataFrame, levels: int = 4, seed: int = 42) -> pd.DataFrame:
    """One row per (output, factor) from the sample ``X`` and outputs ``Y`` (one column each):
    ``mu``, ``mu_star`` (mean absolute effect of moving the factor across its whole range),
    ``sigma`` (spread of the effect: interactions, non-linearity and noise), ``mu_star_conf``
    (bootstrap 95 % half-width) and ``mu_star_norm`` (``mu_star`` over the largest ``mu_star`` of
    that output, to compare outputs of different units)."""
    from SALib.analyze import morris as analyze
    frames = []
    for out in Y.columns:
        res = analyze.analyze(_salib(problem), np.asarray(X, float), Y[out].to_numpy(float), num_levels=levels,
                              seed=seed)
        df = res.to_df().rename_axis("factor").reset_index()
        top = df["mu_star"].max()
        df["mu_star_norm"] = df["mu_star"] / top if top > 0 else 0.0
        df.insert(0, "output", out)
        frames.append(df)
    indices = pd.concat(frames, ignore_index=True)
    indices.attrs.update(method="morris", levels=levels, runs=len(X))
    return indices


def sobol(problem: dict, outputs: Sequence[str] = DEFAULT_OUTPUTS, n: int = 64, second_order: bool = False,
          replicates: int = 1, seed: int = 42, until: int = 2025, scale: float | None = None,
          base=None, targets=None, backend: str = "serial", workers: int | None = None,
          scheduler: str | None = None, progress: bool = False, return_runs: bool = False):
    """Sobol indices from Saltelli's scheme: ``n × (factors + 2)`` model runs
    (``n × (2·factors + 2)`` with ``second_order``), each ``replicates`` times; ``n`` should be a
    power of 2. The other arguments as in :func:`evaluate`. See :func:`analyze_sobol` for the columns. With ``return_runs=True`` returns
    ``(indices, runs)``."""
    X = sample_sobol(problem, n, second_order, seed)
    runs = evaluate(problem, X, outputs, replicates=replicates, seed=seed, until=until, scale=scale, base=base,
                    targets=targets, backend=backend, workers=workers, scheduler=scheduler, progress=progress)
    indices = analyze_sobol(problem, mean_outputs(runs, outputs, len(X)), second_order, seed)
    indices.attrs.update(n=n, replicates=replicates, scale=scale)
    return (indices, runs) if return_runs else indices


def sample_sobol(problem: dict, n: int, second_order: bool = False, seed: int = 42) -> np.ndarray:
    from SALib.sample import sobol as sample
    if n < 2 or n & (n - 1):
        warnings.warn(f"n={n} is not a power of 2; Sobol' sequences converge as designed only for powers of 2",
                      stacklevel=3)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*power of 2.*")
        return sample.sample(_salib(problem), n, calc_second_order=second_order, seed=seed)


def analyze_sobol(problem: dict, Y: pd.DataFrame, second_order: bool = False, seed: int = 42) -> pd.DataFrame:
    """One row per (output, factor) from outputs ``Y`` (rows in the order of the Saltelli sample):
    ``S1`` (first order: the share of the output's variance the factor explains alone), ``ST``
    (total: including all its interactions) and their bootstrap 95 % half-widths ``S1_conf``,
    ``ST_conf``. An output that does not vary gets NaN. With ``second_order`` the pairs' ``S2``
    are in ``indices.attrs["S2"]``."""
    from SALib.analyze import sobol as analyze
    frames, second = [], []
    for out in Y.columns:
        y = Y[out].to_numpy(float)
        if np.ptp(y) == 0:
            df = pd.DataFrame({"factor": problem["names"], "S1": np.nan, "S1_conf": np.nan, "ST": np.nan,
                               "ST_conf": np.nan})
        else:
            tables = analyze.analyze(_salib(problem), y, calc_second_order=second_order, seed=seed).to_df()
            df = tables[1].join(tables[0]).rename_axis("factor").reset_index()
            if second_order:
                s2 = tables[2].rename_axis(["factor", "other"]).reset_index()
                s2.insert(0, "output", out)
                second.append(s2)
        df.insert(0, "output", out)
        frames.append(df[["output", "factor", "S1", "S1_conf", "ST", "ST_conf"]])
    indices = pd.concat(frames, ignore_index=True)
    indices.attrs.update(method="sobol", runs=len(Y))
    if second:
        indices.attrs["S2"] = pd.concat(second, ignore_index=True)
    return indices


def _salib(problem: dict) -> dict:
    """The keys SALib reads."""
    return {k: problem[k] for k in ("num_vars", "names", "bounds")}


# ------------------------------------------------------------------------------------------------
# Reading the results
# ------------------------------------------------------------------------------------------------
def ranking(indices: pd.DataFrame) -> pd.DataFrame:
    """Factors by importance: one column per output and ``overall``, the largest across outputs.
    Morris: ``mu_star_norm``; Sobol: ``ST``."""
    column = "mu_star_norm" if "mu_star_norm" in indices else "ST"
    table = indices.pivot(index="factor", columns="output", values=column)
    table = table[list(dict.fromkeys(indices["output"]))]
    table["overall"] = table.max(axis=1)
    return table.sort_values("overall", ascending=False)


def important(indices: pd.DataFrame, k: int = 4) -> list[str]:
    """The ``k`` factors with the largest effect on any output (see :func:`ranking`)."""
    return list(ranking(indices).index[:k])
