"""What a parameter set needs across its own values, beyond each value's type and range.

``Params.from_dict`` (and so ``with_overrides`` and every scenario file) ends with
:func:`check_params`, so a set-up whose values contradict each other is refused with a
:class:`ParamError` that names the key and what is allowed:

* ``evaluation.weights``: non-negative with a positive sum (the index divides by it); 5 of
  them, 5 city dimension scores in (0, 100] and 9 indicator exponents in (0, 10];
* ``cultivation.certification_windows``: quarters 1–4 (another number never comes round, so
  nothing would ever be certified).

What needs the data as well (a start year the data holds, adcodes of the 38 districts, the
collaboration network's link ceiling) is checked where both are known: the model's build and the
scenario loader call :func:`sim.core.data_checks.check_against_data`.
"""

from __future__ import annotations

from ..util.messages import short
from .fields import ParamError


def check_params(params, file: str | None = None):
    """Raise :class:`ParamError` (naming ``file``, the key and what is allowed) if the values
    cannot work together as they say; return the parameters unchanged otherwise."""
    weights = params.evaluation.weights
    if any(w < 0 for w in weights) or not sum(weights) > 0:
        raise ParamError("evaluation.weights", "the five dimension weights must be 0 or more with a positive sum "
                         f"(they are normalised to shares), got {short(list(weights))}", file)
    ev = params.evaluation
    if len(weights) != 5 or len(ev.city_dimension_scores) != 5 or len(ev.exponents) != 9:
        raise ParamError("evaluation", "5 weights, 5 city dimension scores and 9 indicator exponents are needed, got "
                         f"{len(weights)}, {len(ev.city_dimension_scores)} and {len(ev.exponents)}", file)
    if not all(0 < e <= 10 for e in ev.exponents):
        raise ParamError("evaluation.exponents", f"each must be above 0 and at most 10, got {short(list(ev.exponents))}", file)
    if not all(0 < c <= 100 for c in ev.city_dimension_scores):
        raise ParamError("evaluation.city_dimension_scores", "percentages above 0 and at most 100, got "
                         f"{short(list(ev.city_dimension_scores))}", file)
    windows = params.cultivation.certification_windows
    if not all(float(q).is_integer() and 1 <= q <= 4 for q in windows):
        raise ParamError("cultivation.certification_windows", "quarters in which certification batches are decided: "
                         f"whole numbers from 1 to 4, got {short(list(windows))}", file)
    return params
