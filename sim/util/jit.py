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

import numpy as np

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


# Helpers the model's loops share.
def grouped_rows_twin(keys: np.ndarray, alive: np.ndarray, n_groups: int):
    rows = np.flatnonzero(alive)
    order = rows[np.argsort(keys[rows], kind="stable")]
    counts = np.bincount(keys[rows], minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return order, starts, counts


@kernel(grouped_rows_twin)
def grouped_rows(keys, alive, n_groups):
    """The rows where ``alive`` holds, sorted by key (ascending rows within a key: a stable
    counting sort), with start offsets and counts per key, for O(1) random picks."""
    counts = np.zeros(n_groups, np.int64)
    for i in range(len(keys)):
        if alive[i]:
            counts[keys[i]] += 1
    starts = np.zeros(n_groups, np.int64)
    for g in range(1, n_groups):
        starts[g] = starts[g - 1] + counts[g - 1]
    order = np.empty(counts.sum(), np.int64)
    fill = starts.copy()
    for i in range(len(keys)):
        if alive[i]:
            order[fill[keys[i]]] = i
            fill[keys[i]] += 1
    return order, starts, counts


def seqsum(x) -> float:
    """A sum added in row order, as the kernels add (numpy's own sum adds pairwise)."""
    return float(np.cumsum(x)[-1]) if len(x) else 0.0
