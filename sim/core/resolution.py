"""How many real firms a row stands for, and how a run keeps its firm table bounded.

A run at ``scale`` s starts with one row per 1/s real firms (``FirmPopulation``'s ``weight``).
Some calibrated draws let the pool of unregistered R&D-active firms grow by a quarter to a third
a year: their table would reach ten or more times the largest published stock of firms by 2030,
and such a replicate costs an ensemble as much as a dozen ordinary ones. So a run from the
end-2022 state holds its firm rows under ``max_firm_rows`` (times the scale):

* built from a start that would pass ``TRIGGER`` of the bound, it is built at a coarser
  resolution (fewer rows, each standing for more real firms: the same start at a smaller scale);
* once its table passes ``TRIGGER`` of the bound, the same share of every district's candidates,
  registered and certified firms is kept, enough to leave at most ``TARGET`` of the bound, and
  each kept row stands for the rows dropped beside it (its weight is divided by that share). The
  share is one in a whole number (a half, a third...), so a row always stands for a whole number
  of real firms at scale 1 and every count stays whole. The rows are
  chosen by systematic sampling down the live rows ordered by district, rung of the ladder and
  R&D, so every district's rung keeps its share to within one row and a dropped firm's R&D is
  stood for by a neighbour's of about its size; the leading firms and the 1 % of rows with the
  most R&D are kept whole. Every weighted total keeps its expectation: the city's and each
  district's counts, R&D, loans and stakes. The rows dropped take their links with them, and as
  many links as they held are formed again among the rows kept, with the ages of links in the
  steady state (as at the start), so a firm keeps about as many contacts. Entrants from then on
  are born at the new resolution.

Thinning every rung alike keeps the mix of the firms a firm meets (registered, certified or not)
what it was; dropping only the unregistered rows would have left every firm's contacts more
registered than the city's firms are, and registration follows its contacts. What the coarser
rows lose is resolution: counts move in steps of a row's weight, and a small district's count is
noisier. The calibration's hindcast from 2017 is never coarsened (the fit is what it was
measured at). ``max_firm_rows = 0`` turns the bound off.
"""

from __future__ import annotations

import math

import numpy as np

from ..data.datasets import START_YEARS

TRIGGER = 0.8   # coarsen once the table passes this share of the bound: a quarter's entrants fit in the rest
TARGET = 0.6    # ... down to this share, so that a fast-growing run coarsens about once a year, not every quarter
TAKE_ALL = 0.99  # rows above this quantile of R&D are kept whole: a few firms carry much of a district's R&D


def bounded(params) -> bool:
    """Whether a run of ``params`` (the model's own, whose start_year is its data origin) keeps its
    firm table under the bound: runs from the latest district state with a bound set."""
    return params.max_firm_rows > 0 and params.start_year == max(START_YEARS)


def row_bound(params) -> float:
    """The bound on a run's firm rows (``max_firm_rows`` times the scale); inf when unbounded."""
    return params.max_firm_rows * params.scale if bounded(params) else math.inf


def start_resolution(districts, params) -> float:
    """Rows per real firm to build the start with: the scale, or a whole fraction of it when the
    start's expected rows (registered firms and ``candidate_ratio`` times as many candidates) would
    pass ``TRIGGER`` of the bound."""
    expected = float(np.sum(districts["tech_enterprises"])) * (1 + params.behaviour.candidate_ratio) * params.scale
    bound = row_bound(params)
    # a whole number of real firms per row, so that at scale 1 every count stays whole
    return params.scale if expected <= TRIGGER * bound else params.scale / max(2, math.ceil(expected / (TARGET * bound)))


def coarsen(model) -> int | None:
    """Drop rows if the table has passed ``TRIGGER`` of the bound (module docstring). Marks the
    rows dropped as gone with weight 0, so compaction does not count them as exits, and returns
    how many links they held; None when the table is within the bound (and nothing is drawn)."""
    pop, bound = model.firms, model.row_bound
    if pop.n <= TRIGGER * bound:
        return None
    alive, leader = pop.col("alive"), pop.col("leader")
    movable = alive & ~leader
    live = int(np.count_nonzero(alive))
    if live <= TRIGGER * bound:
        return 0   # only exited rows to drop: compaction is enough
    rd = pop.col("rd") * pop.col("weight")
    movable &= ~(rd > np.quantile(rd[movable], TAKE_ALL))   # ties at the quantile stay movable
    rows = np.flatnonzero(movable)
    m = max(2, math.ceil(len(rows) / max(TARGET * bound - (live - len(rows)), 1.0)))   # one row in m is kept
    # Systematic sampling down the rows ordered by district, rung of the ladder and R&D: each
    # district's rung keeps its share of rows to within one, and a firm's R&D is stood for by a
    # neighbour's of about its size.
    rows = rows[np.lexsort((rd[rows], pop.status()[rows], pop.col("district")[rows]))]
    start = model.stream("thinning").random()
    marks = np.floor(start + np.arange(len(rows) + 1) / m)
    drop = np.zeros(pop.n, bool)
    drop[rows[marks[1:] == marks[:-1]]] = True
    weight = pop.col("weight")
    weight[movable & ~drop] *= m
    weight[drop] = 0.0
    alive[drop] = False
    model.resolution /= m
    net = model.network
    return int(np.count_nonzero(drop[net.src] | drop[net.dst]))
