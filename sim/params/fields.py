"""The vocabulary of parameter declarations: a documented field (:func:`P`), a policy lever's
declaration (:class:`Lever`), its documented direction (:class:`Check`) and the error every bad
value raises (:class:`ParamError`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..util.errors import InputError
from ..util.messages import clip

ALLOCATION_RULES = ("equal", "gdp", "need", "competitive", "mix")
MIXING_MODES = ("graph", "complete")
# Chongqing's districts and counties. An adcode list names each at most once, so it never holds
# more: its length is refused against this before any of its elements is looked at. Which
# adcodes exist is the data's to say (sim/core/data_checks.py).
DISTRICTS = 38
ADCODES_OF = ("districts", "counties")


class ParamError(InputError):
    """A scenario value that is not allowed; the message names file, key and what is allowed."""

    def __init__(self, key: str, message: str, file: str | None = None):
        self.key, self.file, self.detail = key, file, message
        where = f"{clip(str(file), 200)}: " if file else ""
        super().__init__(clip(f"{where}key '{key}': {message}"))


class ParamConflict(ParamError):
    """A rule across several parameters. In an ``extends`` chain one file may set one side of it
    and its parent the other, so it is checked on the merged scenario, not file by file."""


KEEP = "unchanged"  # a lever's off value when switching the policy off leaves it as the scenario set it


@dataclass(frozen=True)
class Check:
    """A lever's documented direction, checked by the test suite: raising the lever from ``low``
    (default: its off value) to ``high`` raises ``reporter`` over ``steps`` quarters. ``low`` and
    ``high`` are dotted overrides and may set companion parameters the lever needs to act."""

    reporter: str
    high: dict
    low: dict | None = None
    steps: int = 8
    scale: float | None = None


@dataclass(frozen=True)
class Lever:
    """Everything the project derives from a lever: the no-policy counterfactual, the app's
    control, the study range of the sensitivity analysis, the optimiser's search range and its
    public cost.

    ``money(params, context)`` is the new public money the lever moves, 亿元 per year on average
    over a run (``context``: :class:`CostContext`); ``None`` where it moves none — ``cost`` then
    says why (a rule that splits money counted elsewhere, a national tax rule, unpriced work)."""

    zh: str
    en: str
    off: Any
    cost: str
    control: tuple | None = None      # (min, max, step) of the app's slider; None: a switch or a choice
    study: tuple | None = None        # (lo, hi), or the choices, a study varies it over
    money: Callable | None = None
    check: Check | None = None
    # The range (lo, hi, step) or the choices the search for the cheapest policy mix varies it
    # over; None: not searched. Only levers whose public money is priced (``money``) or that split
    # priced money (the guiding fund's rule and shares) are searched: a lever the model does not
    # price would be pushed to whatever helps most, at no cost, and the "cheapest" mix would be
    # an artefact of what is left unpriced.
    optimise: tuple | None = None

    def search_space(self) -> tuple | None:
        """``("float", lo, hi, step)`` or ``("choice", *choices)``, or None if not searched."""
        if self.optimise is None:
            return None
        if all(isinstance(x, str) for x in self.optimise):
            return ("choice", *self.optimise)
        lo, hi, step = self.optimise
        return ("float", float(lo), float(hi), float(step))


@dataclass(frozen=True)
class CostContext:
    """What a lever's public money depends on beyond its parameters."""

    own_st_spending: float            # districts' own fiscal S&T spending in the start year, 亿元
    years: int                        # simulated years of the run


def P(default, unit: str, doc: str, source: str, lo=None, hi=None, choices=None, lever: Lever | None = None,
      adcodes_of: str | None = None):
    """A documented parameter field; ``lever`` declares it a policy lever, ``adcodes_of`` a set
    of adcodes (use :func:`Adcodes`)."""
    if adcodes_of is not None and adcodes_of not in ADCODES_OF:
        raise TypeError(f"adcodes_of: one of {ADCODES_OF}")
    meta = dict(unit=unit, doc=doc, source=source, lo=lo, hi=hi, choices=choices, lever=lever, adcodes_of=adcodes_of)
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata=meta)


def Adcodes(default: tuple, of: str, doc: str, source: str, lever: Lever | None = None):
    """A set of adcodes of the data's ``of`` (``"districts"`` or ``"counties"``), written as a
    list. Each adcode at most once: a repeat changes nothing the model does, yet every replicate
    would carry and scan it; so never more than :data:`DISTRICTS` of them."""
    return P(default, "adcodes", doc, source, lever=lever, adcodes_of=of)
