"""The policy programmes of the 2022 guiding opinions, one class per module.

A programme reads its levers from ``model.params`` when it acts (so a hindcast that switches the
parameters each year needs nothing re-synced) and touches the model only through the hooks
below, which the quarter's schedule in ``sim/model.py`` calls in the order of
:data:`PROGRAMMES`. "What does lever X do?" is answered by the one module that reads it.

Hooks are of two kinds. *Actions* (``setup``, ``enter_year``, ``budget``, ``commit``,
``after_rd``, ``after_listing``, ``after_exit``, ``form_links``, ``year_end``, ``year_review``)
change state. *Terms* (``rd_cost``, ``absorption``, ``growth``, ``rd_push``,
``registration_push``, ``certification_odds``, ``listing_eligibility``, ``listing_rate``, ``exit_hazard``, ``entry``,
``entrant_zone_share``, ``link_mix``) take a firm process's quantity and return it with the
programme's effect applied (exactly one value is threaded: the first argument); a programme that
has no such effect does not define the hook. ``_base.py`` declares each hook's arguments, and
:func:`build` checks every programme's methods against them.

The firm terms (``rd_cost``, ``absorption``, ``growth``, ``rd_push``, ``certification_odds``,
``listing_eligibility``, ``listing_rate``, ``exit_hazard``) are evaluated once per class of firms, not once per firm: their
last argument is a :class:`~sim.core.firms.FirmClasses` table (its ``col`` gives district, industry,
status flags, ``has_loan``, ``has_equity`` per class), and the compiled firm processes look each
firm's class up. ``absorption`` scales a firm's absorptive capacity (it receives ones) and
``growth`` adds to the base growth rate (it receives the base); the others receive the process's
quantity itself. A term that needs some other attribute names it in
:data:`~sim.core.firms.CLASS_ATTRIBUTES` and in its process's classes.
"""

from __future__ import annotations

from ._base import HOOKS, HookError, Programme, check_hooks, hooks_of
from .consortia import Consortia
from .cultivation import Cultivation
from .evaluation import EvaluationFeedback
from .finance import Finance
from .guiding_fund import GuidingFundProgramme
from .innovative_county import InnovativeCounties
from .paired import PairedAssistance
from .platforms import Platforms
from .talent import Talent
from .transfer import TransferChain

# The order is the order their terms apply in: e.g. the R&D cost is one less the tax saving less
# the subsidy, money arrives own budgets first, then the fund, then paired transfers, and
# spin-offs enter before a zone upgrade draws firms in.
PROGRAMMES = (Cultivation, GuidingFundProgramme, PairedAssistance, Consortia, Finance, TransferChain,
              Talent, Platforms, EvaluationFeedback, InnovativeCounties)

__all__ = ["HOOKS", "PROGRAMMES", "HookError", "Programme", "build", "check_hooks", "hooks_of"]


def build(model) -> dict[str, Programme]:
    """One instance of every programme for a model, by name, in programme order; each class's
    hooks are checked against their declaration first (:func:`check_hooks`)."""
    for cls in PROGRAMMES:
        check_hooks(cls)
    return {cls.name: cls(model) for cls in PROGRAMMES}
