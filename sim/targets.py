"""The policy's targets and how each is measured on a model run.

The default set is the 2025 targets T1–T6 of the 2022 guiding opinions (seed §一(三)); the
2023 "double-doubling" plan's sets are stricter alternatives.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Target:
    id: str
    description: str
    indicator: str        # a city reporter, or a special measure named below
    threshold: float
    year: int
    unit: str = ""


TARGETS_FILE = Path(__file__).parent / "data" / "targets.toml"
RD_GROWTH_TARGET = 0.10    # T3: each district's R&D grows at least 10 %/yr on average


def load_target_sets(path: Path = TARGETS_FILE) -> dict[str, tuple[Target, ...]]:
    """Target sets are data: one TOML table per set, each with an array of targets."""
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    sets = {}
    for name, table in raw.items():
        sets[name] = tuple(Target(str(t["id"]), str(t["description"]), str(t["indicator"]), float(t["threshold"]),
                                  int(t["year"]), str(t.get("unit", ""))) for t in table["targets"])
    return sets


TARGET_SETS = load_target_sets()
POLICY_2025 = TARGET_SETS["policy_2025"]
DOUBLE_DOUBLING_2025 = TARGET_SETS["double_doubling_2025"]
DOUBLE_DOUBLING_2027 = TARGET_SETS["double_doubling_2027"]


def rd_cagr(history: dict, start: int, end: int) -> float:
    if start not in history or end not in history or history[start] <= 0:
        return float("nan")
    return (history[end] / history[start]) ** (1.0 / (end - start)) - 1.0


def measure(model, target: Target, year: int | None = None, frame=None) -> float:
    """The value of a target's indicator at the end of ``year`` (default: the target year) —
    from the model's collected Q4 data, so it can be asked after the run has gone past it.
    ``frame``: the model's city data frame, when the caller already has it."""
    year = target.year if year is None else year
    if target.indicator == "districts_rd_cagr_10":
        start = model.params.start_year
        cagrs = [rd_cagr(d.rd_history, start, year) for d in model.district_list]
        return float(np.sum(np.array(cagrs) >= RD_GROWTH_TARGET))
    df = model.datacollector.get_model_vars_dataframe() if frame is None else frame
    rows = df[(df["year"] == year) & (df["quarter"] == 4)]
    if rows.empty:
        return float("nan")
    return float(rows[target.indicator].iloc[-1])


def city_rd_cagr(model, year: int) -> float:
    start = model.params.start_year
    total = {y: sum(d.rd_history.get(y, np.nan) for d in model.district_list) for y in (start, year)}
    return rd_cagr(total, start, year)


def scoreboard(model, targets=POLICY_2025) -> list[dict]:
    """Each target's value now (or at its year, if reached) and whether it is met."""
    rows = []
    for t in targets:
        year = min(t.year, model.year if model.quarter == 4 else model.year - 1)
        value = measure(model, t, year)
        met = bool(value >= t.threshold) if np.isfinite(value) else False
        rows.append(dict(target=t.id, description=t.description, threshold=t.threshold, unit=t.unit,
                         year=year, value=value, met=met))
    return rows
