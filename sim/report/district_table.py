"""The report's district table: each district's R&D growth and T3 lag (counted run by run, as the
scoreboard counts T3), its three start stocks at the horizon as the median with the runs' 5–95 %
band, and whether each start value is the district's own published figure or an estimate."""

from __future__ import annotations

import html
import math

import pandas as pd

from ..experiments.district_bands import ESTIMATED, OWN, STATUS_YEAR, STOCKS, district_quantiles
from ..experiments.laggards import MOSTLY, t3_laggards
from ..experiments.outfolder import DISTRICT_QUANTILES
from ..experiments.results import EnsembleResult
from ..experiments.targets import RD_GROWTH_TARGET
from ..programmes.evaluation import TIER_NAMES
from . import numbers as num
from .figures import GROUP_ZH, district_final

# The district table: (column, header with its unit, a count?, decimals)
RANKING_COLUMNS = [("tech_enterprises", "tech SMEs (firms)", True, 0), ("tech_per_10k", "tech SMEs per 10k people", False, 1),
                   ("high_tech_enterprises", "high-tech (firms)", True, 0), ("rd_expenditure", "R&D (100m yuan)", False, 1),
                   ("rd_intensity", "R&D (% of GDP)", False, 2), ("rd_cagr", "R&D growth (%/yr, median run)", False, 1)]


def _tier(v) -> str:
    return "—" if num.missing(v) or int(v) not in TIER_NAMES else TIER_NAMES[int(v)]


SCORED = ", and the scoreboard's T3 counts the others, run by run as here"


# A start stock's marker: the district's own published figure, or its share of a city total.
START_MARKS = {OWN: "●", ESTIMATED: "○"}
START_WORDS = {OWN: "start: the district's own published figure", ESTIMATED: "start: estimated (a share of a city total)"}


def _stock_cell(q, count: bool, digits: int) -> str:
    """A start stock at the horizon: median, 5–95 % band and the start's marker, e.g. "1,234 (1,100–1,390) ●"."""
    if q is None:
        return "—"
    mark = START_MARKS.get(q.start_status)
    mark = f' <span title="{START_WORDS[q.start_status]}">{mark}</span>' if mark else ""
    return (f"{num.value(q.median, count, digits)} <span class=note>({num.band(q.p05, q.p95, count, digits, sep='–')})"
            f"</span>{mark}")


def start_note(quantiles: pd.DataFrame, until: int, drawn: bool = False) -> str:
    """Under the district table: how to read its bands and start markers (``drawn``: each run
    started from its own draw of the estimated values)."""
    first = quantiles[quantiles["year"] == quantiles["year"].min()]
    marks = ""
    if (first["start_status"] != "").any():      # the runs start from the state start_status describes
        own = first[first["start_status"] == OWN].groupby("indicator").size()
        names = {"tech_enterprises": "tech SMEs", "high_tech_enterprises": "high-tech", "rd_expenditure": "R&D"}
        marks = (f" {START_MARKS[OWN]} marks a start value (end-{STATUS_YEAR}) that is the district's own published "
                 f"figure, {START_MARKS[ESTIMATED]} one estimated as the district's share of a city total (split by "
                 "proxies), which is less certain. Own start figures: "
                 + ", ".join(f"{names[c]} {own.get(c, 0)}" for c in STOCKS) + f" of the {first['adcode'].nunique()} districts.")
        if drawn:
            marks += (" Each run starts from its own draw of the estimated values, as far from the estimate as the "
                      "estimation method missed where districts published their own figures, so an estimated "
                      "district's band holds where it started as well as what followed.")
    return (f"<p class=note>Tech SMEs, high-tech enterprises and R&D: the median over the runs at the end of {until} "
            f"and, in brackets, the 5–95 % band of the runs (nine in ten fall inside it).{marks} The results folder's "
            f"{DISTRICT_QUANTILES} holds these bands at every year end.</p>")


def ranking_html(result: EnsembleResult) -> str:
    """The district table, with T3 counted as the scoreboard counts it: run by run (the median and
    band of the runs' laggards; each district's share of the runs in which it lags); for the three
    start stocks the median with the runs' 5–95 % band at the horizon and whether the district's
    start value is its own figure or estimated (``sim.experiments.district_bands``)."""
    fin = district_final(result).sort_values(["rd_cagr", "adcode"], ascending=[False, True], kind="stable")
    lag = t3_laggards(result)
    quantiles = district_quantiles(result)
    at_horizon = quantiles[quantiles["year"] == result.scenario.until]
    horizon = {(q.adcode, q.indicator): q for q in at_horizon.itertuples()}
    head = ("<tr><th>#</th><th class=l>district</th><th class=l>group</th>"
            + "".join(f"<th>{h}</th>" for _, h, _, _ in RANKING_COLUMNS)
            + "<th>lags on T3 (% of runs)</th><th class=l>evaluation tier (most runs)</th></tr>")
    rows = []
    for rank, r in enumerate(fin.itertuples(), 1):
        red = " class=miss" if r.lag_share >= MOSTLY else ""
        cells = [f"<td class=l>{html.escape(r.name_zh)}</td>", f"<td class=l>{GROUP_ZH.get(r.group, r.group)}</td>"]
        cells += [f"<td>{_stock_cell(horizon.get((r.adcode, c)), count, digits)}</td>" if c in STOCKS else
                  f"<td>{num.value(getattr(r, c), count, digits)}</td>" for c, _, count, digits in RANKING_COLUMNS]
        cells.append(f"<td>{'—' if num.missing(r.lag_share) else f'{r.lag_share:.0%}'}</td>")
        cells.append(f"<td class=l>{html.escape(_tier(getattr(r, 'tier', math.nan)))}</td>")
        rows.append(f"<tr{red}><td>{rank}</td>{''.join(cells)}</tr>")
    n, until = lag.n_districts, result.scenario.until
    median, band = num.value(lag.median, count=True), num.band(lag.p05, lag.p95, count=True, sep="–")
    return (f"<p>In the median run, {median} of the {n} districts grow their R&D by less than "
            f"{RD_GROWTH_TARGET:.0%}/yr on average from {lag.start_year} to {lag.year} (5–95 % of the runs: {band}): "
            f"they are where T3 is lost{SCORED if lag.scored else ''}. The column "
            f"“lags on T3” gives the share of the {lag.replicates} runs in which each district does; red rows lag in at "
            f"least {'half' if MOSTLY == 0.5 else f'{100 * MOSTLY:.0f} %'} of them. R&D growth is the median of the runs' growth from {lag.start_year} to "
            f"{lag.year}; the other figures are medians over the runs at the end of {until}; a district's tier is "
            "the one most runs give it.</p>"
            f"<table>{head}{''.join(rows)}</table>{start_note(quantiles, until, bool(drawn_start(result)))}")


def drawn_start(result: EnsembleResult) -> float:
    """How far the runs' district starts were drawn (0: every run from the point estimate)."""
    return float(result.scenario.params.behaviour.district_start_spread)
