"""Hindcast runs 2017→2022: one simulation, the process pool they share, and ensembles over
replicates and parameter draws (by default at the calibration file's parameters)."""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pandas as pd

from ..experiments.calibration_file import (CALIBRATION_FILE, LAST_YEAR, START_YEAR, CalibrationError, flatten,
                                            load_calibration, nest)
from ..experiments.executors import executor
from ..params.parameters import Params
from .fit import SERIES, TIER_YEAR, TIERS, district_points

# The model's city series a published figure after 2022 can be compared with
# (observations.model_quantity), and the district stocks a district's figure can.
COLUMNS = ("year", "quarter", "tech_enterprises", "high_tech_enterprises", "rd_expenditure", "rd_intensity",
           "registrations_q", "certifications_q", "renewals_q", "specialised_q")
DISTRICT_COLUMNS = ("year", "quarter", "adcode", "tech_enterprises", "high_tech_enterprises")


def frames_after(model, year: int) -> dict:
    """A run's quarterly city frame and districts' stocks after ``year`` (only the columns the
    published figures after 2022 need), as lists: what a path through those years leaves."""
    from ..core import metrics

    df = model.datacollector.get_model_vars_dataframe()
    dist = metrics.district_frame(model)
    return dict(frame=df[df["year"] > year][list(COLUMNS)].to_dict(orient="list"),
                districts=dist[dist["year"] > year][list(DISTRICT_COLUMNS)].to_dict(orient="list"))


def run_one(task) -> dict:
    """One hindcast 2017→2022; returns year-end series (and the end-2022 candidate ratio). A
    task's optional sixth item, a year after 2022, runs on through the published years to it
    and adds what ``frames_after`` 2022 leaves (``later``: a backtest's forecast of them)."""
    from ..model import InnovationModel, replicate_seed

    overrides, seed, replicate, scale, base, *rest = task
    through = rest[0] if rest else LAST_YEAR
    params = (base if base is not None else Params()).with_overrides(nest(overrides or {}))
    params = params.with_overrides({"start_year": START_YEAR, "scale": scale})
    model = InnovationModel(params, seed=replicate_seed(seed, replicate))
    from ..programmes.evaluation import evaluate, tiers

    groups = np.array([d.group for d in model.district_list])
    metro = np.isin(groups, ("central_urban", "new_metropolitan"))
    by_code = {str(d.adcode): d for d in model.district_list}
    points = district_points()
    published_tier = np.array([d.tier_2022 for d in model.district_list])
    out = {s: {} for s in (*SERIES, *(p[0] for p in points), TIERS)}
    district_value = {"tech_enterprises": lambda d: d.tech_enterprises,
                      "high_tech_enterprises": lambda d: d.high_tech_enterprises,
                      "rd_expenditure": lambda d: d.rd, "rd_intensity": lambda d: 100.0 * d.rd / d.gdp}

    def record(model):
        rd = np.array([d.rd for d in model.district_list])
        y = model.year
        out["tech_enterprises"][y] = sum(d.tech_enterprises for d in model.district_list)
        out["high_tech_enterprises"][y] = sum(d.high_tech_enterprises for d in model.district_list)
        out["rd_expenditure"][y] = float(rd.sum())
        out["rd_intensity"][y] = 100.0 * float(rd.sum()) / sum(d.gdp for d in model.district_list)
        out["rd_metropolitan"][y] = float(rd[metro].sum())
        out["rd_northeast"][y] = float(rd[groups == "northeast"].sum())
        out["rd_southeast"][y] = float(rd[groups == "southeast"].sum())
        out["rd_share_central_urban"][y] = 100.0 * float(rd[groups == "central_urban"].sum() / rd.sum())
        for series, indicator, code in points:
            out[series][y] = float(district_value[indicator](by_code[code]))
        # The report scores each year against that year's city values (benchmark None).
        if y == TIER_YEAR:
            out[TIERS][y] = 100.0 * float(np.mean(tiers(evaluate(model, None)[0]) == published_tier))

    record(model)
    model.run_until(LAST_YEAR, on_year_end=record)
    pop = model.firms
    alive, reg = pop.col("alive"), pop.col("registered")
    ratio = pop.count(alive & ~reg) / max(pop.count(alive & reg), 1e-9)
    waiting = alive & reg & ~pop.col("certified")
    rd = pop.col("rd_rate")[waiting]
    if model.district_rd_factor is not None:   # a 2022 start multiplies by the district's factor again
        rd = rd / model.district_rd_factor[pop.col("district")[waiting]]
    rd_waiting = float(np.median(rd)) if waiting.any() else float("nan")
    result = dict(series=out, candidate_ratio=ratio, registered_rd=rd_waiting)
    if through > LAST_YEAR:
        # the same run goes on: its end-2022 state is its own, not the published one a forecast
        # from 2022 starts from (what was published in 2022 is after a backtest's origin)
        result["later"] = frames_after(model.run_until(through), LAST_YEAR)
    model.release()
    return result



@contextlib.contextmanager
def worker_pool(workers: int):
    """The process pool of the whole calibration (None when serial), from the executor factory
    that ensembles use."""
    if workers <= 1:
        yield None
        return
    with executor("processes", workers) as ex:
        yield ex


def execute(tasks, pool, progress: bool, desc: str):
    """Run tasks in order (serially or in the pool) with a tqdm bar; same results either way."""
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), desc=desc, disable=not progress, unit="run", file=sys.stderr)
    results = []
    runs = map(run_one, tasks) if pool is None else pool.map(run_one, tasks, chunksize=1)
    for r in runs:
        results.append(r)
        bar.update()
    bar.close()
    return results


def frame(results, replicate_ids) -> pd.DataFrame:
    rows = []
    for k, r in zip(replicate_ids, results):
        for s, by_year in r["series"].items():
            for y, v in by_year.items():
                rows.append((k, y, s, v))
    return pd.DataFrame(rows, columns=["replicate", "year", "series", "value"])


def hindcast(params: Params | dict | None = None, replicates: int = 8, seed: int = 2017, scale: float = 0.25,
             workers: int = 1, samples: list[dict] | None = None, progress: bool = False) -> pd.DataFrame:
    """Run the model from the end of 2017 to the end of 2022; long frame (replicate, year, series, value).

    ``params``: a Params (its start year and scale are set here) or a dict of dotted overrides
    of the defaults, e.g. ``load_calibration()["parameters"]`` flattened, or None for the file
    ``sim/data/calibration.toml`` if it exists (else the defaults). ``samples``: parameter draws
    (dicts of dotted keys), run k uses draw k mod len(samples) on top of ``params``.
    """
    base, flat = _resolve_params(params)
    tasks = []
    for k in range(replicates):
        ov = dict(flat)
        if samples:
            ov.update(samples[k % len(samples)])
        tasks.append((ov, seed, k, scale, base))
    with worker_pool(min(workers, len(tasks))) as pool:
        results = execute(tasks, pool, progress, "hindcast")
    df = frame(results, range(replicates))
    df.attrs["candidate_ratio_2022"] = float(np.mean([r["candidate_ratio"] for r in results]))
    df.attrs["registered_rd_2022"] = float(np.nanmean([r["registered_rd"] for r in results]))
    return df


def _resolve_params(params):
    if isinstance(params, Params):
        return params, {}
    if params is None:
        if CALIBRATION_FILE.is_file():
            return None, flatten(load_calibration()["parameters"])
        return None, {}
    if isinstance(params, dict):
        flat = flatten(params) if any(isinstance(v, dict) for v in params.values()) else dict(params)
        return None, flat
    raise CalibrationError(f"params: expected a Params, a dict of overrides or None, got {type(params).__name__}")

