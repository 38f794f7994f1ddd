"""Every restructuring keeps the model's results bit-identical to the committed frozen baseline."""

import pandas as pd
import pytest

import frozen_baseline


@pytest.fixture(scope="module")
def fresh():
    return frozen_baseline.frames()


@pytest.mark.parametrize("name", ["city", "districts", "hindcast"])
def test_bit_identical_to_frozen_baseline(fresh, name):
    frozen = pd.read_parquet(frozen_baseline.FROZEN / f"{name}.parquet")
    pd.testing.assert_frame_equal(fresh[name], frozen, check_exact=True)
