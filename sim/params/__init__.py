"""The parameters: every value a scenario can set, declared once with its unit, source and range.

- ``fields``: the declaration vocabulary (``P``, ``Lever``, ``Check``) and ``ParamError``;
- ``levers``: the lever sections, each lever declared once (range, off value, labels, cost);
- ``parameters``: ``Params`` with the behaviour section, ``from_dict`` and ``describe``;
- ``checks``: what the values need across each other (what needs the data as well is checked by
  the model's build, ``sim.core.data_checks``);
- ``constants``: named constants of the model's structure, the step length among them.

Imports only ``sim.util`` and ``sim.data``; reads no data file.

    import sim.params
    sim.params.describe()      # one row per parameter: key, value, unit, source, range, lever
"""

from .fields import ParamError
from .parameters import Params, describe, levers, public_money

__all__ = ["ParamError", "Params", "describe", "levers", "public_money"]
