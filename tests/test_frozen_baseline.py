"""Every restructuring keeps the model's results bit-identical to the committed frozen baseline,
with the compiled kernels and with their numpy twins (the fallback where numba is missing)."""

import os
import subprocess
import sys
from pathlib import Path

import frozen_baseline
import pandas as pd
import pytest

NAMES = ["city", "districts", "hindcast"]


@pytest.fixture(scope="module")
def fresh():
    return frozen_baseline.frames()


@pytest.mark.parametrize("name", NAMES)
def test_bit_identical_to_frozen_baseline(fresh, name):
    frozen = pd.read_parquet(frozen_baseline.FROZEN / f"{name}.parquet")
    pd.testing.assert_frame_equal(fresh[name], frozen, check_exact=True)


def test_the_numpy_twins_of_the_kernels_give_the_same_results(tmp_path):
    env = dict(os.environ, CQ_SIM_NUMPY="1", PYTHONPATH=str(frozen_baseline.ROOT))
    code = ("import sys; sys.path.insert(0, 'tests'); import frozen_baseline, sim.util.jit; assert not sim.util.jit.NUMBA\n"
            f"for k, df in frozen_baseline.frames().items(): df.to_parquet(r'{tmp_path}/' + k + '.parquet')")
    subprocess.run([sys.executable, "-c", code], cwd=frozen_baseline.ROOT, env=env, check=True)
    for name in NAMES:
        frozen = pd.read_parquet(frozen_baseline.FROZEN / f"{name}.parquet")
        pd.testing.assert_frame_equal(pd.read_parquet(Path(tmp_path) / f"{name}.parquet"), frozen, check_exact=True)
