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


def rd_growth_rate(rd_now, rd_start, years):
    """Average yearly growth of R&D over ``years`` (arrays or numbers); nan where the start is
    not positive."""
    rd_now, rd_start = np.asarray(rd_now, float), np.asarray(rd_start, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rd_start > 0, (rd_now / rd_start) ** (1.0 / years) - 1.0, np.nan)


def meets_rd_growth(rd_now, rd_start, years):
    """T3's test of a district: its R&D grew at least ``RD_GROWTH_TARGET`` a year on average.
    The targets, the app and the report all count T3 with this."""
    return rd_growth_rate(rd_now, rd_start, years) >= RD_GROWTH_TARGET


def rd_cagr(history: dict, start: int, end: int) -> float:
    if start not in history or end not in history:
        return float("nan")
    return float(rd_growth_rate(history[end], history[start], end - start))


def measure(model, target: Target, year: int | None = None, frame=None) -> float:
    """The value of a target's indicator at the end of ``year`` (default: the target year) —
    from the model's collected Q4 data, so it can be asked after the run has gone past it.
    ``frame``: the model's city data frame, when the caller already has it."""
    year = target.year if year is None else year
    if target.indicator == "districts_rd_cagr_10":
        start = model.params.start_year
        hist = [d.rd_history for d in model.district_list]
        if year == start:
            return 0.0           # no growth to measure yet
        if any(year not in h for h in hist):
            return float("nan")
        return float(np.sum(meets_rd_growth([h[year] for h in hist], [h[start] for h in hist], year - start)))
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
