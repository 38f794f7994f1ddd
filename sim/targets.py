"""The policy's targets and how each is measured on a model run.

The default set is the 2025 targets T1–T6 of the 2022 guiding opinions (seed §一(三)); the
2023 "double-doubling" plan's sets are stricter alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Target:
    id: str
    description: str
    indicator: str        # a city reporter, or a special measure named below
    threshold: float
    year: int
    unit: str = ""


POLICY_2025 = (
    Target("T1", "45,000 tech-based SMEs (科技型企业) cultivated by the districts", "tech_enterprises", 45000, 2025, "firms"),
    Target("T2", "8,000 certified high-tech enterprises (高新技术企业)", "high_tech_enterprises", 8000, 2025, "firms"),
    Target("T3", "every district's R&D spending grows ≥ 10 %/yr on average from 2022 (districts meeting it, of 38)",
           "districts_rd_cagr_10", 38, 2025, "districts"),
    Target("T4", "high-tech zones produce more than 30 % of industrial output", "hightech_zone_output_share", 30.0, 2025, "%"),
    Target("T5", "about 2 new national innovative counties (国家创新型县)", "new_innovative_counties", 2, 2025, "counties"),
    Target("T6", "'one district, one platform' basically formed (≥ 90 % of the 38 read as 'basically')",
           "districts_with_platform", 34, 2025, "districts"),
)

DOUBLE_DOUBLING_2025 = (
    Target("DD25-HT", "more than 10,000 high-tech enterprises", "high_tech_enterprises", 10000, 2025, "firms"),
    Target("DD25-TS", "more than 67,000 tech-based SMEs", "tech_enterprises", 67000, 2025, "firms"),
)

DOUBLE_DOUBLING_2027 = (
    Target("DD27-HT", "more than 12,800 high-tech enterprises", "high_tech_enterprises", 12800, 2027, "firms"),
    Target("DD27-TS", "more than 86,000 tech-based SMEs (the plan's own figure; news rounds to 100,000)", "tech_enterprises", 86000, 2027, "firms"),
)

TARGET_SETS = {"policy_2025": POLICY_2025, "double_doubling_2025": DOUBLE_DOUBLING_2025,
               "double_doubling_2027": DOUBLE_DOUBLING_2027}


def rd_cagr(history: dict, start: int, end: int) -> float:
    if start not in history or end not in history or history[start] <= 0:
        return float("nan")
    return (history[end] / history[start]) ** (1.0 / (end - start)) - 1.0


def measure(model, target: Target, year: int | None = None) -> float:
    """The value of a target's indicator at the end of ``year`` (default: the target year) —
    from the model's collected Q4 data, so it can be asked after the run has gone past it."""
    year = target.year if year is None else year
    if target.indicator == "districts_rd_cagr_10":
        start = model.params.start_year
        cagrs = [rd_cagr(d.rd_history, start, year) for d in model.district_list]
        return float(np.sum(np.array(cagrs) >= 0.10))
    df = model.datacollector.get_model_vars_dataframe()
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
