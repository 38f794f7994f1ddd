"""The frozen baseline: exact outputs of the committed model, the safety net of every refactor.

``python tests/frozen_baseline.py`` regenerates ``tests/frozen/*.parquet``; do that only in a
commit whose purpose is to change results, and say why in its message. ``test_frozen_baseline``
compares a fresh run with these files bit for bit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FROZEN = Path(__file__).resolve().parent / "frozen"
SEEDS = (1, 2)
QUARTERS = 12    # the published years 2023–2024 (replayed as written), then 2025 under the scenario
SCALE = 0.05


def _run(params, seed: int, quarters: int):
    from sim import InnovationModel
    from sim.core import metrics
    model = InnovationModel(params=params, seed=seed)
    for _ in range(quarters):
        model.step()
    city, districts = metrics.city_frame(model).reset_index(), metrics.district_frame(model)
    model.release()
    return city, districts


def frames() -> dict[str, pd.DataFrame]:
    """The frozen tables: the calibrated baseline's city and district frames (two seeds, eight
    quarters from end-2022) and a hindcast's city frame (eight quarters from end-2017)."""
    sys.path.insert(0, str(ROOT))
    from sim.experiments import scenarios
    params = scenarios.load("baseline").params.with_overrides(scale=SCALE)
    out: dict[str, list[pd.DataFrame]] = {"city": [], "districts": [], "hindcast": []}
    for seed in SEEDS:
        city, districts = _run(params, seed, QUARTERS)
        out["city"].append(city.assign(seed=seed))
        out["districts"].append(districts.assign(seed=seed))
    city, _ = _run(params.with_overrides(start_year=2017), SEEDS[0], QUARTERS)
    out["hindcast"].append(city.assign(seed=SEEDS[0]))
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


def write() -> None:
    FROZEN.mkdir(exist_ok=True)
    for name, df in frames().items():
        df.to_parquet(FROZEN / f"{name}.parquet", index=False)
        print(f"wrote {FROZEN / (name + '.parquet')}: {df.shape[0]} rows × {df.shape[1]} columns")


if __name__ == "__main__":
    write()
