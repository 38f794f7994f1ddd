"""Where the districts start, and how sure we are of it.

Of the end-2022 district stocks (tech-based SMEs, high-tech enterprises, R&D) only nine values
come from a district's own publication (status ``verified`` or ``derived`` in
``district_indicators.csv``: "anchors"); the others are city totals split by proxies. This
module says which is which (``start_status``), scores candidate proxies by how far each misses
the anchors when that anchor is left out (``proxy_scores``), turns the chosen method's misses
into an error model (``error_model``) and draws a district split from it that keeps every
published total and every anchor (``draw_split``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .datasets import load_districts, load_indicators, view_stamps
from .identity import data_folder

STOCKS = ("tech_enterprises", "high_tech_enterprises", "rd_expenditure")
START_YEAR = 2022
ANCHOR_STATUSES = ("verified", "derived")   # a district's own figure (derived: carried to end-2022)


def start_status(data_dir=None) -> pd.DataFrame:
    """Per district (index: adcode, sorted) and start stock (columns ``STOCKS``): ``"own"`` when the
    end-2022 value is the district's own published figure (verified, or derived from it by the
    city's growth to year end), ``"estimated"`` when it is a share of a city total."""
    ind = load_indicators(data_dir)
    sub = ind[ind.indicator.isin(STOCKS) & (ind.year == START_YEAR)]
    table = sub.pivot(index="adcode", columns="indicator", values="status")[list(STOCKS)]
    return table.apply(lambda col: np.where(col.isin(ANCHOR_STATUSES), "own", "estimated")).rename_axis(columns=None)


# The tier factor of the estimation (tools/data/estimate_districts.py): tier 1 over tier 2 is the
# ratio of the two published 2020 intensities (大渡口 3.98 % / 涪陵 2.4 %); tier 3's 0.5 is assumed.
TIER_FACTOR = {1: 0.0398 / 0.024, 2: 1.0, 3: 0.5}
# The blocks whose totals are published (or kept from a published share): an estimate moves only
# within its block. Tech-based SMEs: 92.09 % to the 主城都市区 (Q1-2021 share of new firms); R&D:
# 中心城区 61.2 % in 2022, each cluster its 2020 share, 主城新区 the rest; high-tech: the city.
BLOCKS = {
    "tech_enterprises": {"central_urban": "metropolitan", "new_metropolitan": "metropolitan",
                         "northeast": "clusters", "southeast": "clusters"},
    "high_tech_enterprises": {g: "city" for g in ("central_urban", "new_metropolitan", "northeast", "southeast")},
    "rd_expenditure": {g: g for g in ("central_urban", "new_metropolitan", "northeast", "southeast")},
}


def _proxies(d: pd.DataFrame) -> dict[str, np.ndarray]:
    """Candidate weights for splitting a stock, each from a column the data have for every district.
    Counts of research units and platforms get one added, so that a district with none still gets
    a share (most have none)."""
    tier = d["innovation_tier"].map(TIER_FACTOR).to_numpy(float)
    gdp, industry = d["gdp"].to_numpy(float), d["industrial_output"].to_numpy(float)
    units = (d["n_universities"] + d["n_institutes"]).to_numpy(float)
    return {
        "GDP": gdp,
        "GDP × √tier": gdp * np.sqrt(tier),
        "GDP × tier": gdp * tier,
        "industrial output": industry,
        "industrial output × tier": industry * tier,
        "population": d["population"].to_numpy(float),
        "research units + 1": units + 1,
        "GDP × (research units + 1)^½": gdp * np.sqrt(units + 1),
        "platforms + 1": d["n_platforms"].to_numpy(float) + 1,
        "GDP × tier × (platforms + 1)^½": gdp * tier * np.sqrt(d["n_platforms"].to_numpy(float) + 1),
        # the file's R&D (its own blocks, anchors and GDP × tier): a firm stock only, not R&D itself
        "R&D": d["rd_expenditure"].to_numpy(float),
    }


# The method the shipped file uses for each stock (tools/data/estimate_districts.py). High-tech
# enterprises are split by the estimated R&D, which is itself GDP × tier within its blocks.
IN_USE = {"tech_enterprises": "GDP × √tier", "high_tech_enterprises": "R&D", "rd_expenditure": "GDP × tier"}


@dataclass(frozen=True)
class Miss:
    stock: str
    proxy: str
    adcode: int
    name: str
    own: float          # the district's own figure (end-2022)
    predicted: float    # the proxy's share of what the other anchors leave of the block

    @property
    def log_error(self) -> float:
        return float(np.log(self.own / self.predicted))


def leave_one_out(data_dir=None) -> list[Miss]:
    """Each proxy's miss on each anchor: the anchor is left out, the other anchors of its stock
    keep their own figures, and the proxy splits what they leave of the block's total."""
    d = load_districts(data_dir, year=START_YEAR)
    status = start_status(data_dir).loc[d["adcode"]]
    out = []
    for stock in STOCKS:
        value = d[stock].to_numpy(float)
        block = d["group"].map(BLOCKS[stock]).to_numpy()
        own = (status[stock] == "own").to_numpy()
        for name, weight in _proxies(d).items():
            if name == "R&D" and stock == "rd_expenditure":
                continue
            for a in np.flatnonzero(own):
                members = block == block[a]
                fixed = members & own
                fixed[a] = False
                free = members & ~fixed
                rest = value[members].sum() - value[fixed].sum()
                out.append(Miss(stock, name, int(d["adcode"].iat[a]), str(d["short_zh"].iat[a]), value[a],
                                rest * weight[a] / weight[free].sum()))
    return out


def proxy_scores(data_dir=None) -> pd.DataFrame:
    """Per stock and proxy: the anchors, the root-mean-square and the largest leave-one-out log
    error; sorted best first within each stock. ``pooled`` rows score a proxy on all nine."""
    misses = pd.DataFrame([{"stock": m.stock, "proxy": m.proxy, "error": m.log_error} for m in leave_one_out(data_dir)])
    pooled = misses.assign(stock="pooled")
    rows = pd.concat([misses, pooled]).groupby(["stock", "proxy"], sort=False)["error"].agg(
        anchors="size", rms=lambda e: float(np.sqrt(np.mean(np.square(e)))), worst=lambda e: float(np.abs(e).max()),
        bias="mean")
    order = {s: i for i, s in enumerate((*STOCKS, "pooled"))}
    rows = rows.reset_index()
    return rows.sort_values(["stock", "rms"], key=lambda c: c.map(order) if c.name == "stock" else c).reset_index(drop=True)


# Partial pooling of the error model: a stock's own leave-one-out misses (two to four) count
# beside this many pseudo-misses at the pooled size of all nine.
POOLING_WEIGHT = 3


def error_model(data_dir=None, without: tuple[str, int] | None = None) -> dict[str, float]:
    """Per stock, the standard deviation of the log error of an estimated district value: the
    root-mean-square leave-one-out miss of the method in use (``IN_USE``), pooled with the nine
    misses of all three stocks by ``POOLING_WEIGHT`` pseudo-observations. ``without`` (stock,
    adcode) leaves one miss out, to check the model on it."""
    misses = [m for m in leave_one_out(data_dir) if IN_USE[m.stock] == m.proxy and (m.stock, m.adcode) != without]
    pooled = float(np.mean([m.log_error ** 2 for m in misses]))
    out = {}
    for stock in STOCKS:
        own = [m.log_error ** 2 for m in misses if m.stock == stock]
        out[stock] = float(np.sqrt((sum(own) + POOLING_WEIGHT * pooled) / (len(own) + POOLING_WEIGHT)))
    return out


def start_coverage(data_dir=None) -> pd.DataFrame:
    """The error model checked where it can be: each own figure, left out of both the split and
    the error model, against the 50 % and 90 % bands the model then gives its estimate."""
    rows = []
    for m in leave_one_out(data_dir):
        if IN_USE[m.stock] != m.proxy:
            continue
        sd = error_model(data_dir, without=(m.stock, m.adcode))[m.stock]
        rows.append({"stock": m.stock, "district": m.name, "own": m.own, "estimate": m.predicted,
                     "log_error": m.log_error, "sigma": sd,
                     "in_50": abs(m.log_error) <= 0.674 * sd, "in_90": abs(m.log_error) <= 1.645 * sd})
    return pd.DataFrame(rows)


def _draw_inputs(data_dir) -> tuple[dict[str, float], pd.DataFrame]:
    """The error model and the start status a drawn split needs. Every model from the end of 2022
    draws one, and ensembles and the update build thousands, so they are kept until one of the
    view's files changes (their leave-one-out scoring takes about 20 ms)."""
    return _draw_inputs_cached(str(data_folder(data_dir)), view_stamps(data_dir))


@functools.lru_cache(maxsize=8)
def _draw_inputs_cached(dir_str: str, stamps: tuple) -> tuple[dict[str, float], pd.DataFrame]:
    return error_model(dir_str), start_status(dir_str)


def _largest_remainder(x: np.ndarray, total: int) -> np.ndarray:
    base = np.floor(x).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        base[np.argsort(base - x, kind="stable")[:short]] += 1
    return base


def draw_split(districts: pd.DataFrame, rng: np.random.Generator, spread: float = 1.0, data_dir=None,
               sigma: dict[str, float] | None = None) -> pd.DataFrame:
    """A copy of the end-2022 district view with each estimated stock drawn around its estimate.

    One standard normal per district scales all three of its stocks (a district that the proxies
    underrate has more firms and more R&D alike: 渝北's three misses share their sign), by
    ``exp(spread × sigma[stock] × z)``; each block's estimated values are then rescaled to what the
    block held, so the published city and block totals and every own figure stay as they are.
    Counts stay whole (largest remainder within the block) and no district certifies more firms
    than it registers. ``spread = 0`` returns the estimate itself."""
    d = districts.copy()
    if spread == 0:
        return d
    model, status = _draw_inputs(data_dir)
    sigma = sigma or model
    status = status.loc[d["adcode"]]
    z = rng.standard_normal(len(d))
    for stock in STOCKS:
        value = d[stock].to_numpy(float)
        drawn = value.copy()
        free = (status[stock] == "estimated").to_numpy()
        block = d["group"].map(BLOCKS[stock]).to_numpy()
        for b in np.unique(block):
            m = free & (block == b)
            if not m.any():
                continue
            moved = value[m] * np.exp(spread * sigma[stock] * z[m])
            drawn[m] = moved * value[m].sum() / moved.sum()
            if stock != "rd_expenditure":
                drawn[m] = _largest_remainder(drawn[m], int(round(value[m].sum())))
        d[stock] = drawn.astype(d[stock].dtype) if stock != "rd_expenditure" else drawn
    _certified_within_registered(d, (status["high_tech_enterprises"] == "estimated").to_numpy(),
                                 (status["tech_enterprises"] == "estimated").to_numpy(),
                                 d["group"].map(BLOCKS["tech_enterprises"]).to_numpy())
    return d


def _certified_within_registered(d: pd.DataFrame, ht_free: np.ndarray, te_free: np.ndarray, te_block) -> None:
    """Keep certified ⊆ registered in a drawn split (only a far tail of the draw needs it): a
    district's own high-tech count raises its drawn tech-based SMEs, taken from its block's
    estimated district with the most; an estimated high-tech count above them moves to the
    estimated district with the most room."""
    te = d["tech_enterprises"].to_numpy(np.int64).copy()
    ht = d["high_tech_enterprises"].to_numpy(np.int64).copy()
    for i in np.flatnonzero((ht > te) & ~ht_free):
        need, te[i] = ht[i] - te[i], ht[i]
        while need > 0:
            spare = np.where(te_free & (te_block == te_block[i]) & (np.arange(len(te)) != i), te - ht, 0)
            j = int(np.argmax(spare))
            step = min(need, int(spare[j]))
            if step <= 0:
                raise ValueError("the drawn split has no room for a district's own high-tech enterprises")
            te[j] -= step
            need -= step
    for i in np.flatnonzero(ht > te):
        excess, ht[i] = ht[i] - te[i], te[i]
        while excess > 0:
            room = np.where(ht_free, te - ht, 0)
            j = int(np.argmax(room))
            step = min(excess, int(room[j]))
            if step <= 0:
                raise ValueError("the drawn split has no room for the city's high-tech enterprises")
            ht[j] += step
            excess -= step
    d["tech_enterprises"], d["high_tech_enterprises"] = te, ht
