"""Scenario discovery's boxes: PRIM's peeling trajectory over a table of runs, each step's box
simplified for a planner, and the choice among them (the rule: :mod:`sim.experiments.discovery`).

PRIM is the ``prim`` package (1.0.0, Project Platypus), the optional extra ``discovery``. Of it
only ``Prim(x, y, ...)``, ``find_box()``, a box's ``peeling_trajectory``, its limits at each step
and ``select(step)`` are used; every count is made here, on all the runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..util.errors import InputError

EXTRA, LIBRARY = "discovery", "prim==1.0.0"
INSTALL = "pip install -e '.[discovery]'"


class DiscoveryError(InputError):
    """A discovery that cannot be made: unknown target, nothing that varies, too few runs."""


class ExtraMissing(DiscoveryError):
    """The optional extra that brings PRIM is not installed."""


def require_prim():
    """The ``prim`` module, or ExtraMissing: one line naming the extra and how to install it."""
    try:
        import prim
    except ImportError:
        raise ExtraMissing(f"scenario discovery needs the optional extra '{EXTRA}' ({LIBRARY}, the PRIM package), "
                           f"which is not installed; install it with: {INSTALL}") from None
    return prim


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """A box's condition on one input: ``lo ≤ x ≤ hi`` (None: open on that side), or ``x`` one of
    ``values`` for an input that takes a few values (a choice, true/false)."""

    input: str
    lo: float | None = None
    hi: float | None = None
    values: tuple | None = None
    quasi_p: float = math.nan       # one-sided binomial test of keeping this condition (Bryant & Lempert 2010)

    def holds(self, column) -> np.ndarray:
        if self.values is not None:
            return pd.Series(column).isin(list(self.values)).to_numpy()
        col = np.asarray(column, float)
        ok = np.ones(len(col), bool)
        if self.lo is not None:
            ok &= col >= self.lo
        if self.hi is not None:
            ok &= col <= self.hi
        return ok

    def text(self) -> str:
        if self.values is not None:
            return f"{self.input} in {{{', '.join(map(str, sorted(self.values, key=str)))}}}"
        parts = ([f"{self.lo:.6g} <="] if self.lo is not None else []) + [self.input] + \
                ([f"<= {self.hi:.6g}"] if self.hi is not None else [])
        return " ".join(parts)


@dataclass
class Box:
    conditions: tuple[Condition, ...]
    runs: int               # runs inside the box
    cases: int              # of which miss the target (meet it, when the question is "met")
    coverage: float
    density: float
    mass: float             # share of all runs inside the box
    meets: bool             # passes the choice rule (False: the closest box, when none does)
    step: int               # where it sits on its peeling trajectory
    trajectory: pd.DataFrame = field(repr=False)
    zh: str = ""
    en: str = ""


# ------------------------------------------------------------------------------------------------
# PRIM
# ------------------------------------------------------------------------------------------------
def _prepared(X: pd.DataFrame) -> pd.DataFrame:
    """The inputs as PRIM reads them: plain column names, numbers as float, the rest as objects."""
    cols = {}
    for i, c in enumerate(X.columns):
        s = X[c]
        if pd.api.types.is_bool_dtype(s):
            cols[f"x{i}"] = s.to_numpy(bool)
        elif pd.api.types.is_numeric_dtype(s):
            cols[f"x{i}"] = s.to_numpy(float)
        else:
            cols[f"x{i}"] = s.astype(object).to_numpy(object)
    return pd.DataFrame(cols, index=range(len(X)))


def _conditions(lims, X: pd.DataFrame) -> list[Condition]:
    """The restricted sides of a PRIM box (its limits as a structured array), against the data."""
    out = []
    for i, c in enumerate(X.columns):
        lo, hi = lims[f"x{i}"][0], lims[f"x{i}"][1]
        col = X[c]
        if isinstance(lo, (set, frozenset)):
            if set(lo) != set(col.unique()):
                out.append(Condition(c, values=tuple(sorted(lo, key=str))))
            continue
        lo_r, hi_r = float(lo) > float(col.min()), float(hi) < float(col.max())
        if lo_r or hi_r:
            out.append(Condition(c, float(lo) if lo_r else None, float(hi) if hi_r else None))
    return out


def _round(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}")


def _rounded(X: pd.DataFrame, conditions) -> list[Condition]:
    """The conditions with bounds a planner can read: two significant digits, more only where two
    would make a bound say nothing (at or past the data's end) or a range empty. The box's
    numbers are then those of the rounded conditions, so its sentence is true as printed."""
    out = []
    for c in conditions:
        if c.values is not None:
            out.append(c)
            continue
        col = X[c.input].to_numpy(float)
        for digits in range(2, 17):
            lo = None if c.lo is None else _round(c.lo, digits)
            hi = None if c.hi is None else _round(c.hi, digits)
            if ((lo is None or lo > col.min()) and (hi is None or hi < col.max())
                    and (lo is None or hi is None or lo < hi)):
                break
        else:
            lo, hi = c.lo, c.hi
        out.append(Condition(c.input, lo, hi))
    return out


def in_box(X: pd.DataFrame, conditions) -> np.ndarray:
    """Which runs (rows of ``X``) meet every condition."""
    ok = np.ones(len(X), bool)
    for c in conditions:
        ok &= c.holds(X[c.input].to_numpy())
    return ok


def _counts(X, y, conditions) -> tuple[int, int]:
    inside = in_box(X, conditions)
    return int(inside.sum()), int((inside & y).sum())


def _quasi_p(X, y, conditions) -> list[float]:
    """Each condition's quasi-p (Bryant & Lempert 2010): the chance, were the condition dropped, of
    drawing a box of this size at least this dense; small means the condition is no accident."""
    from scipy.stats import binom
    T, H = _counts(X, y, conditions)
    out = []
    for c in conditions:
        t, h = _counts(X, y, [o for o in conditions if o is not c])
        out.append(float(binom.sf(H - 1, T, h / max(t, 1))))
    return out


def _simplified(X, y, conditions, opts: dict) -> list[Condition]:
    """A box a planner can read: cut to at most ``max_dims`` conditions (each time dropping the
    one whose loss costs the least density), then without any condition whose quasi-p is above
    ``max_quasi_p`` (the worst first), its bounds rounded (:func:`_rounded`)."""
    def density(cs):
        t, h = _counts(X, y, cs)
        return h / t if t else 0.0
    conds = list(conditions)
    while len(conds) > opts["max_dims"]:
        conds.remove(max(conds, key=lambda c: density([o for o in conds if o is not c])))
    conds = _rounded(X, conds)
    while conds:
        qp = _quasi_p(X, y, conds)
        worst = int(np.argmax(qp))
        if qp[worst] <= opts["max_quasi_p"]:
            break
        conds.pop(worst)
    return conds


def _stats(X, y, conditions, total: tuple[int, int]) -> dict:
    """A box's counts among the runs ``X`` (``total``: all the runs and all the cases, which
    coverage and mass are shares of)."""
    runs, cases = _counts(X, y, conditions)
    return dict(coverage=cases / total[1], density=cases / runs if runs else math.nan, mass=runs / total[0],
                runs=runs, cases=cases, dims=len(conditions), conditions=" & ".join(c.text() for c in conditions))


def _step(X, y, conditions, step: int, opts: dict, total) -> dict:
    """A step of the peeling trajectory: PRIM's box, and the same box simplified."""
    simple = _simplified(X, y, conditions, opts)
    return dict(step=step, **_stats(X, y, conditions, total),
                **{f"{k}_simple": v for k, v in _stats(X, y, simple, total).items()}, chosen=False, _simple=simple)


TRAJECTORY = ["step", "coverage", "density", "mass", "runs", "cases", "dims", "conditions", "coverage_simple",
              "density_simple", "mass_simple", "runs_simple", "cases_simple", "dims_simple", "conditions_simple", "chosen"]


def trajectory_frame(steps: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{k: s[k] for k in TRAJECTORY} for s in steps], columns=TRAJECTORY)


def _choose(steps: list[dict], opts: dict, required: float, first: bool) -> tuple[dict | None, bool]:
    """The step whose simplified box the rule picks (see :mod:`sim.experiments.discovery`), and
    whether it passes the rule (only the first box may be given as the closest)."""
    ok = [s for s in steps if s["dims_simple"] >= 1 and s["runs_simple"] >= opts["min_runs"] and s["cases_simple"]]
    passing = [s for s in ok if s["density_simple"] >= required - 1e-12
               and s["coverage_simple"] >= opts["min_coverage"] - 1e-12]
    if passing:
        return max(passing, key=lambda s: (s["coverage_simple"], s["density_simple"], -s["dims_simple"], -s["step"])), True
    if not first:
        return None, False
    wide = [s for s in ok if s["coverage_simple"] >= opts["min_coverage"] - 1e-12] or ok
    best = max(wide, key=lambda s: (s["density_simple"], s["coverage_simple"], -s["dims_simple"], -s["step"]), default=None)
    return best, False


def find_boxes(X: pd.DataFrame, y: np.ndarray, opts: dict, required: float) -> tuple[list[Box], pd.DataFrame]:
    """Up to ``opts["boxes"]`` boxes, each chosen among the runs outside the ones before it (its
    trajectory counts those runs; a box's own numbers are counted on all the runs), and the first
    peeling trajectory (kept when no box is chosen on it)."""
    prim = require_prim()
    p = prim.Prim(_prepared(X), y, peel_alpha=opts["peel_alpha"], paste_alpha=opts["peel_alpha"],
                  mass_min=min(0.5, max(0.05, opts["min_runs"] / len(y))))
    total = (len(y), int(y.sum()))
    boxes, rest, first = [], np.ones(len(y), bool), trajectory_frame([])
    for _ in range(int(opts["boxes"])):
        found = p.find_box()
        if found is None:
            break
        Xr, yr = X.iloc[np.flatnonzero(rest)], y[rest]
        # (PrimBox.limits cannot be used with pandas 3: it writes a set into a float column; the
        # limits themselves, one structured array per step, are what it reads.)
        steps = [_step(Xr, yr, _conditions(found._box_lims[i], X), i, opts, total)
                 for i in range(len(found.peeling_trajectory))]
        pick, meets = _choose(steps, opts, required, first=not boxes)
        if not boxes:
            first = trajectory_frame(steps)
        if pick is None:
            break
        conds = pick["_simple"]
        shown = _stats(X, y, conds, total)
        if boxes and shown["density"] < required - 1e-12:
            break
        pick["chosen"] = True
        if not boxes:
            first = trajectory_frame(steps)
        inside = in_box(X, conds)
        # PRIM's next box is looked for among the runs outside this (simplified) box.
        found.yi = np.flatnonzero(inside & rest)
        rest &= ~inside
        boxes.append(Box(conditions=tuple(Condition(c.input, c.lo, c.hi, c.values, q)
                                          for c, q in zip(conds, _quasi_p(X, y, conds))),
                         runs=shown["runs"], cases=shown["cases"], coverage=shown["coverage"], density=shown["density"],
                         mass=shown["mass"], meets=meets, step=pick["step"], trajectory=trajectory_frame(steps)))
        if not meets or not rest.any():
            break
    return boxes, first
