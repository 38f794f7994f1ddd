"""How a simulated district is compared with a district's own published figure of 2023 on
(``sim/data/district_recent.csv``): the observation model the update weighs its paths with and
the backtest scores district bands against.

The model's quantity is the district's stock (tech-based SMEs or high-tech enterprises, firms
scaled to the whole population) at the end of the row's quarter. The figure is log-normal around
it, with σ from the statement (``observations.SIGMA_BY_STATUS``), from the weeks between the
date it describes and the quarter's end (``SIGMA_DATE``), from what a district counts
(``SIGMA_DEFINITION``) and from the model's own error on the districts
(``MODEL_ERROR_DISTRICT``), added in quadrature. A district's figure may also measure
something else (another register, a cumulative count): with probability ``OUTLIER[doubt]`` it is
unrelated to the model's value, its log ratio uniform within a factor ``OUTLIER_RANGE`` either
side. That mixture keeps one odd figure from deciding the whole update.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..data.district_recent import load_district_recent
from .observations import SIGMA_BY_STATUS

# A figure stated two to four weeks after the quarter's end it is compared with: about one
# month of a stock growing 10-25 % a year.
SIGMA_DATE = 0.03
# Districts count 科技型企业 as register entries, valid registrations or lists of their own (渝北's
# 2,203 of mid-2023 against its 4,545 of about 2021; 璧山's "区级以上科技企业" 1,521 of 2022):
# a district's count and the register the model follows differ by about this much.
SIGMA_DEFINITION = 0.2
# The fitted hindcast's miss on the districts' own 2018-2022 figures: 13.8 % mean absolute
# percentage error (docs/CALIBRATION.md), σ ≈ MAPE × √(π/2) for a normal error.
MODEL_ERROR_DISTRICT = 0.17
# The chance that a figure measures something else than the model's stock altogether: any district
# figure (a page may mean another list), more when its year is only inferred, and as likely as
# not when its wording may count every firm ever registered or certified.
OUTLIER = {"": 0.1, "year_inferred": 0.3, "may_be_cumulative": 0.5}
OUTLIER_RANGE = 5.0


@dataclass(frozen=True)
class DistrictObservation:
    """One row of ``district_recent.csv`` as an observation of a district's stock."""
    adcode: int
    indicator: str
    year: int
    quarter: int
    value: float
    doubt: str
    sigma: float        # of the log ratio, when the figure measures the model's stock
    outlier: float      # the chance that it does not
    source: str

    @property
    def series(self) -> str:
        """The name the calibration's tables give a district series (``indicator@adcode``)."""
        return f"{self.indicator}@{self.adcode}"

    @property
    def key(self) -> str:
        return f"{self.series}:{self.year}Q{self.quarter}"


def district_observations(data_dir=None, through: int | None = None) -> list[DistrictObservation]:
    """The rows of ``district_recent.csv`` (of years up to ``through``; all when None)."""
    rows = load_district_recent(data_dir)
    return [DistrictObservation(adcode=int(r.adcode), indicator=r.indicator, year=int(r.year), quarter=int(r.quarter),
                                value=float(r.value), doubt=r.doubt,
                                sigma=math.sqrt(SIGMA_BY_STATUS[r.status] ** 2 + SIGMA_DATE ** 2 + SIGMA_DEFINITION ** 2
                                                + MODEL_ERROR_DISTRICT ** 2),
                                outlier=OUTLIER[r.doubt], source=r.source)
            for r in rows.itertuples(index=False) if through is None or int(r.year) <= through]


def district_values(frame: pd.DataFrame, obs: Sequence[DistrictObservation]) -> dict[str, float]:
    """Each observation's model value from one run's district frame (``metrics.district_frame``:
    one row per district and step, with year, quarter, adcode and the indicators)."""
    at = frame.set_index(["adcode", "year", "quarter"])
    out = {}
    for o in obs:
        try:
            out[o.key] = float(at.at[(o.adcode, o.year, o.quarter), o.indicator])
        except KeyError:
            raise ValueError(f"the district frame does not reach {o.indicator} of {o.adcode} at the end of "
                             f"{o.year} Q{o.quarter}") from None
    return out


def log_likelihood(o: DistrictObservation, simulated: float) -> float:
    """log p(the district's figure | the model's stock ``simulated``), the mixture of the module
    docstring (in the log ratio, so comparable across figures)."""
    if not simulated > 0:      # no firm in the model: only the outlier branch can explain a figure
        return math.log(o.outlier / (2 * math.log(OUTLIER_RANGE)))
    z = (math.log(simulated) - math.log(o.value)) / o.sigma
    inside = math.exp(-0.5 * z * z) / (o.sigma * math.sqrt(2 * math.pi))
    return math.log((1 - o.outlier) * inside + o.outlier / (2 * math.log(OUTLIER_RANGE)))


def total_log_likelihood(values: Mapping[str, float], obs: Sequence[DistrictObservation]) -> float:
    """Sum of :func:`log_likelihood` over ``obs``, the model's values keyed by each one's ``key``."""
    return math.fsum(log_likelihood(o, values[o.key]) for o in obs)
