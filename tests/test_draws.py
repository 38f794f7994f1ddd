"""The draws compiled loops make reproduce numpy's Generator bit for bit (sim/util/draws.py)."""

import numpy as np
import pytest

from sim.core import firm_kernels
from sim.util import draws
from sim.util.jit import NUMBA

pytestmark = pytest.mark.skipif(not NUMBA, reason="the compiled draws exist only with numba")

if NUMBA:
    import numba

    @numba.njit
    def _fill(words, out, normal):
        hi, lo, inc_hi, inc_lo = words[0], words[1], words[2], words[3]
        for i in range(len(out)):
            if normal:
                hi, lo, out[i] = draws.normal(hi, lo, inc_hi, inc_lo)
            else:
                hi, lo, out[i] = draws.uniform(hi, lo, inc_hi, inc_lo)
        words[0], words[1] = hi, lo

    def _uniforms(words, out):
        _fill(words, out, False)

    def _normals(words, out):
        _fill(words, out, True)


def test_uniforms_and_the_state_left_behind_are_numpys():
    rng, ref = np.random.default_rng(7), np.random.default_rng(7)
    rng.integers(0, 10, 3, dtype=np.uint32)      # leaves numpy's pending 32-bit half set
    ref.integers(0, 10, 3, dtype=np.uint32)
    out = np.empty(100_003)
    with draws.stream(rng) as words:
        _uniforms(words, out)
    np.testing.assert_array_equal(out, ref.random(len(out)))
    # the stream goes on where numpy's does, the pending half included
    assert rng.integers(0, 2**31, 5, dtype=np.uint32).tolist() == ref.integers(0, 2**31, 5, dtype=np.uint32).tolist()
    assert rng.random() == ref.random()


def test_a_stream_n_draws_ahead_is_numpys_after_n_draws():
    rng, ref = np.random.default_rng(3), np.random.default_rng(3)
    ahead = draws.ahead(rng, 1000)
    ref.random(1000)
    out = np.empty(10)
    _uniforms(ahead, out)
    np.testing.assert_array_equal(out, ref.random(10))
    draws.caught_up(rng, ahead)
    assert rng.random() == ref.random()


def test_poisson_draws_are_numpys_on_both_samplers():
    lam = np.concatenate((np.zeros(50), np.linspace(1e-4, 9.99, 20_000), np.linspace(10, 400, 5_000)))
    rng, ref = np.random.default_rng(11), np.random.default_rng(11)
    patents = np.zeros(len(lam))
    with draws.stream(rng) as words:
        firm_kernels.patents(words, lam, patents, 1.0, 1.0, 1.0)
    np.testing.assert_array_equal(patents, ref.poisson(lam).astype(float))
    assert rng.random() == ref.random()


def test_normal_draws_are_numpys_tails_included():
    rng, ref = np.random.default_rng(5), np.random.default_rng(5)
    out = np.empty(2_000_000)      # enough for the ziggurat's base strip and wedges to be drawn
    with draws.stream(rng) as words:
        _normals(words, out)
    np.testing.assert_array_equal(out, ref.standard_normal(len(out)))
    assert np.abs(out).max() > 3.6   # the base strip beyond r = 3.654 was reached
    assert rng.random() == ref.random()
