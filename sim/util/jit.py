"""Compiled kernels for the hot loops, with a numpy twin for each.

A kernel is a plain loop compiled by numba (``cache=True``: compiled once per machine, then
loaded from ``__pycache__``). Each kernel names its numpy twin, which computes the same result
with array operations; the twin runs only where numba cannot be imported (or with
``CQ_SIM_NUMPY=1``, which the tests use to check that both give bit-identical results).

What keeps the twins identical: both draw from the same ``numpy.random.Generator`` in the same
order (numba's Generator methods, and the PCG64 steps of ``sim/util/draws.py``, reproduce numpy's
streams), both add in the same order (a kernel's running sum is the twin's ``bincount`` or
``cumsum``), and transcendental functions (``exp``, ``log1p``, powers) are left to numpy in
both, because numpy's vectorised ``exp`` and the C library's differ in the last bit.
"""

from __future__ import annotations

import os

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; the twins keep the model usable without it
    numba = None

NUMBA = numba is not None and os.environ.get("CQ_SIM_NUMPY", "") != "1"


def kernel(twin):
    """Compile the decorated loop with numba, or fall back to ``twin`` (same arguments, same result)."""
    def decorate(loop):
        if NUMBA:
            return numba.njit(cache=True, nogil=True)(loop)
        return twin
    return decorate


def inline(f):
    """A small helper the kernels call; inlined into them when compiled."""
    if NUMBA:
        return numba.njit(cache=True, inline="always")(f)
    return f


@inline
def maximum(a, b):
    """numpy's maximum of two scalars (NaN-propagating; of equal values the second)."""
    return a if (a > b or a != a) else b


@inline
def minimum(a, b):
    return a if (a < b or a != a) else b
