"""Draws inside compiled loops, bit for bit numpy's: ``Generator.random()``, ``Generator.poisson``
and ``Generator.standard_normal()``.

A compiled loop that draws a uniform per firm through numba's Generator pays an indirect call
into numpy's bit generator for each draw, about twice the cost of the draw itself. The
streams of the model are numpy's PCG64 (``default_rng``), a 128-bit linear congruential step
and a fixed output function, so the loops step a copy of its state inline instead: ``stream``
hands a loop that copy (four 64-bit words) and writes it back after, and ``uniform`` is
``Generator.random()``: the next 64-bit output, its top 53 bits scaled to [0, 1). The pending
32-bit half that numpy keeps for 32-bit draws is left as it was, as ``random()`` leaves it.

The Poisson samplers are numpy's two (multiplication below 10, PTRS rejection above) step for
step on these uniforms, and the normal is numpy's ziggurat on the raw 64-bit outputs (with the
tables numba's Generator uses, which are numpy's); numba's own ``standard_normal`` would call into
the bit generator per draw and costs the unboxing of a Generator at each call of a loop. Without numba, ``stream`` hands the loop's numpy twin the Generator
itself.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .jit import NUMBA, inline, numba

# PCG64's multiplier (numpy's PCG_DEFAULT_MULTIPLIER_HIGH, _LOW).
_MUL_HI, _MUL_LO = np.uint64(2549297995355413924), np.uint64(4865540595714422341)
_58, _11, _63, _64 = (np.uint64(x) for x in (58, 11, 63, 64))
_ZERO, _ONE = np.uint64(0), np.uint64(1)
_MASK64 = (1 << 64) - 1


def state(rng: np.random.Generator) -> np.ndarray:
    """The PCG64 state of ``rng`` as four 64-bit words: state high, low, increment high, low."""
    bg = rng.bit_generator
    if type(bg) is not np.random.PCG64:
        raise TypeError(f"compiled draws reproduce numpy's PCG64 only, not {type(bg).__name__}")
    s = bg.state["state"]
    return np.array([s["state"] >> 64, s["state"] & _MASK64, s["inc"] >> 64, s["inc"] & _MASK64], np.uint64)


def store(rng: np.random.Generator, words: np.ndarray) -> None:
    """Move ``rng`` to the state ``words`` (its increment and pending 32-bit half unchanged)."""
    st = rng.bit_generator.state
    st["state"]["state"] = (int(words[0]) << 64) | int(words[1])
    rng.bit_generator.state = st


@contextlib.contextmanager
def stream(rng: np.random.Generator):
    """What a loop draws from: a copy of ``rng``'s state, written back when the loop is done
    (compiled), or ``rng`` itself (the numpy twin)."""
    if not NUMBA:
        yield rng
        return
    words = state(rng)
    yield words
    store(rng, words)


def ahead(rng: np.random.Generator, n: int) -> np.ndarray | None:
    """The state ``rng`` will have after ``n`` more uniforms, for a compiled pass that needs
    uniform i and uniform n + i at once (numpy draws one vector after the other); ``caught_up``
    then moves ``rng`` past both. None without numba (the twin draws the two vectors)."""
    if not NUMBA:
        return None
    bg = np.random.PCG64()
    bg.state = rng.bit_generator.state
    bg.advance(n)
    return state(np.random.Generator(bg))


def caught_up(rng: np.random.Generator, words: np.ndarray | None) -> None:
    if words is not None:
        store(rng, words)


if numba is not None:
    from llvmlite import ir
    from numba.extending import intrinsic

    @intrinsic
    def _mulhi(typingctx, a, b):
        """The high 64 bits of the 128-bit product of two 64-bit words (one multiply)."""
        def codegen(context, builder, signature, args):
            wide = ir.IntType(128)
            product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
            return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))
        return numba.types.uint64(numba.types.uint64, numba.types.uint64), codegen


@inline
def next64(hi, lo, inc_hi, inc_lo):
    """The next 64-bit output of PCG64 (``uniform`` below, before scaling)."""
    low = lo * _MUL_LO
    new_lo = low + inc_lo
    new_hi = _mulhi(lo, _MUL_LO) + hi * _MUL_LO + lo * _MUL_HI + inc_hi + (_ONE if new_lo < low else _ZERO)
    x = new_hi ^ new_lo
    rot = new_hi >> _58
    return new_hi, new_lo, (x >> rot) | (x << ((_64 - rot) & _63))


@inline
def uniform(hi, lo, inc_hi, inc_lo):
    """``Generator.random()`` from the state (hi, lo) and increment: step the state (state ·
    multiplier + increment, mod 2^128), take the XSL-RR output of the new state, its top 53
    bits over 2^53. Returns the new state and the uniform; a loop keeps the state in locals
    (in registers) and writes it back once, at its end."""
    low = lo * _MUL_LO
    new_lo = low + inc_lo
    new_hi = _mulhi(lo, _MUL_LO) + hi * _MUL_LO + lo * _MUL_HI + inc_hi + (_ONE if new_lo < low else _ZERO)
    x = new_hi ^ new_lo
    rot = new_hi >> _58
    out = (x >> rot) | (x << ((_64 - rot) & _63))
    return new_hi, new_lo, np.float64(out >> _11) * (1.0 / 9007199254740992.0)


if numba is not None:
    from numba.np.random._constants import (fi_double as _FI, ki_double as _KI, wi_double as _WI,
                                            ziggurat_nor_inv_r as _NOR_INV_R, ziggurat_nor_r as _NOR_R)
    _BYTE, _SIGN, _ABS = np.uint64(0xFF), np.uint64(1), np.uint64(0x000FFFFFFFFFFFFF)
    _8, _1 = np.uint64(8), np.uint64(1)


@inline
def normal(hi, lo, inc_hi, inc_lo):
    """``Generator.standard_normal()``: numpy's ziggurat (random_standard_normal), draw for draw."""
    while True:
        hi, lo, r = next64(hi, lo, inc_hi, inc_lo)
        idx = r & _BYTE
        r = r >> _8
        sign = r & _SIGN
        rabs = (r >> _1) & _ABS
        x = rabs * _WI[idx]
        if sign:
            x = -x
        if rabs < _KI[idx]:
            return hi, lo, x
        if idx == 0:
            while True:
                hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
                xx = -_NOR_INV_R * np.log1p(-u)
                hi, lo, v = uniform(hi, lo, inc_hi, inc_lo)
                yy = -np.log1p(-v)
                if yy + yy > xx * xx:
                    return hi, lo, (-(_NOR_R + xx) if (rabs >> _8) & _SIGN else _NOR_R + xx)
        else:
            hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
            if (_FI[idx - 1] - _FI[idx]) * u + _FI[idx] < np.exp(-0.5 * x * x):
                return hi, lo, x


# ---- Poisson draws, as numpy makes them ----------------------------------------------------------
_LOGGAM = (8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04, -5.952380952380952e-04,
           8.417508417508418e-04, -1.917526917526918e-03, 6.410256410256410e-03, -2.955065359477124e-02,
           1.796443723688307e-01, -1.39243221690590e+00)


@inline
def _loggam(x):
    """numpy's random_loggam (Stirling series), which its Poisson sampler uses."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = int(7 - x) if x < 7.0 else 0
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    gl0 = _LOGGAM[9]
    for k in range(8, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM[k]
    gl = gl0 / x0 + 0.5 * 1.8378770664093453 + (x0 - 0.5) * np.log(x0) - x0
    if x < 7.0:
        for _ in range(n):
            gl -= np.log(x0 - 1.0)
            x0 -= 1.0
    return gl


@inline
def poisson_ptrs(hi, lo, inc_hi, inc_lo, lam):
    """numpy's PTRS rejection sampler for lam >= 10, step for step (numba's own rounds the
    candidate toward zero where numpy floors it, and so differs now and then)."""
    slam = np.sqrt(lam)
    loglam = np.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        hi, lo, v = uniform(hi, lo, inc_hi, inc_lo)
        u -= 0.5
        us = 0.5 - abs(u)
        k = np.floor((2 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return hi, lo, int(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if np.log(v) + np.log(invalpha) - np.log(a / (us * us) + b) <= -lam + k * loglam - _loggam(k + 1):
            return hi, lo, int(k)


@inline
def poisson_small(hi, lo, inc_hi, inc_lo, lam):
    """numpy's multiplication sampler for 0 <= lam < 10, draw for draw. The first uniform
    usually decides a small lam: exp(-lam) >= 1 - lam, so a uniform below that (less a margin
    far above rounding) gives 0 without computing the exponential."""
    if lam == 0.0:
        return hi, lo, 0
    hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
    if u < 1.0 - lam - 1e-15:
        return hi, lo, 0
    enlam = np.exp(-lam)
    x, prod = 0, u
    while prod > enlam:
        x += 1
        hi, lo, u = uniform(hi, lo, inc_hi, inc_lo)
        prod *= u
    return hi, lo, x
