"""Observation models of the city's published figures from 2023 on (``sim/data/city_recent.csv``):
for each row, which model quantity it speaks to and how likely the published statement is
given the value a replicate simulated.

One model per kind of statement (:data:`sim.data.recent.KINDS`), the error of each a named σ
below (a log-scale standard deviation: 0.02 is about 2 %):

- a level, a flow or a preliminary or expected figure: log-normal around the simulated value,
  ``log L = log N(log y; log m, σ) − log y``, peaked at m = y;
- a lower bound ("超", "有望突破"): the chance that the simulated value, with the statement's
  error, is above it, ``log Φ((log m − log X)/σ)``: flat well above X, falling below it;
- an upper bound (one reconciled row): ``log Φ((log X − log m)/σ)``.

The model quantity (:func:`model_quantity`) is a column of one replicate's quarterly city frame
(``sim/core/metrics.py`` CITY_REPORTERS): a stock at year end (Q4), a flow summed over the year's
quarters, a January–October flow as Q1 + Q2 + Q3 + one third of Q4 (the model does not know
the months inside a quarter, so November and December are taken as two thirds of Q4).

Rows the model cannot speak to stay in the file and are listed by :func:`unused` with the reason.
Imports only the data wing, numpy, scipy and pandas.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..data import recent

# ---------------------------------------------------------------------------- errors (σ, log scale)
# A final published level: Chongqing's city counts and R&D move by 0.1–2 % between their first
# publication and later restatements (2021: 36,939 vs '3.69万', 5,108 vs the mayor's 5,109, R&D
# 603.8 vs 605亿), and the model's count of a register need not match the bureau's to the firm.
SIGMA_VERIFIED = 0.02
# Arithmetic on published figures (a growth multiple rounded to one decimal is ±2.5 %).
SIGMA_DERIVED = 0.04
# A preliminary (预计) figure before the bulletin: revisions of a few per cent are usual.
SIGMA_PRELIMINARY = 0.05
# A figure known only from a news summary or paraphrase: rounding and scope are unsure.
SIGMA_SECONDARY = 0.08
# Output of a documented estimate.
SIGMA_ESTIMATED = 0.10
# An expectation of the year's value stated before the final figure.
SIGMA_EXPECTED = 0.04
# An October "expected to pass X by year end" (有望突破X): officials ten weeks before the year
# end would not say it of a count several per cent short, so a shortfall of a few per cent is the
# room it leaves. Its 'secondary' status says that it is an expectation, which this σ already is.
SIGMA_EXPECTED_BOUND = 0.04
# January–October out of a quarterly model: if November–December hold a share of the year's
# registrations 5 points off the flat 1/6 the interpolation assumes, the January–October count is
# 5/83 ≈ 6 % off. Added in quadrature to the row's own σ.
SIGMA_PARTIAL_YEAR = 0.06

SIGMA_BY_STATUS = {"verified": SIGMA_VERIFIED, "derived": SIGMA_DERIVED, "estimated": SIGMA_ESTIMATED,
                   "verified_preliminary": SIGMA_PRELIMINARY, "secondary": SIGMA_SECONDARY}
# The model's own error, added to every statement's (in quadrature): a replicate is a model, not
# the city, and even the fitted hindcast misses the published 2018–2022 series, by a MAPE of
# 1.3–7.6 % on the yearly levels and 11–21 % on the yearly additions (calibration.toml [fit]).
# Without it, a verified figure's 2 % would let a handful of paths carry all the weight of the
# update for differences the model cannot resolve.
MODEL_ERROR_LEVEL = 0.04
MODEL_ERROR_FLOW = 0.12
MODELS = ("lognormal", "lower_bound", "upper_bound")
FULL_YEAR = 12

# ---------------------------------------------------------------------------- what each row speaks to
# indicator -> the model's columns (summed) it is compared with.
SERIES_OF = {
    "tech_enterprises": ("tech_enterprises",),
    "high_tech_enterprises": ("high_tech_enterprises",),
    "rd_expenditure": ("rd_expenditure",),
    "rd_intensity": ("rd_intensity",),
    "tech_enterprises_added": ("registrations_q",),
    # "新评审通过高新技术企业" counts the firms that passed the year's review. Renewal is not
    # automatic: an expiring firm re-applies and is reviewed like a first applicant (国科发火〔2016〕32号;
    # policy_timeline.csv: "3 years from certificate; then re-apply"), and a batch's published and
    # filed list holds both. So the count is compared with all the year's certificates, first ones
    # and renewals. Read as first certificates alone, 3,295 would be 2.7 times the largest yearly
    # net addition to the stock ever published (1,240 in 2022).
    "high_tech_enterprises_added": ("certifications_q", "renewals_q"),
    # Filing (报备) with the ministry follows every certificate a province grants, renewals included.
    "high_tech_enterprises_filed": ("certifications_q", "renewals_q"),
}
# Certificates come in batches on dates the model does not know (its windows are Q2 and Q4, an
# estimate): a count to October cannot be interpolated within the year, but it is a floor on the
# whole year's certificates.
BATCH_INDICATORS = frozenset({"high_tech_enterprises_added", "high_tech_enterprises_filed"})
UNUSED_INDICATORS = {
    "gdp": "GDP is an input of the model (policy_environment.csv gdp_city drives the GDP outside the modelled "
           "firms): comparing it would test the input against itself",
    "fiscal_st_spending": "fiscal S&T money is an input of the model (policy_environment.csv fiscal_st_city)",
    "innovation_index_city": "the model's city_index is a proxy composite whose weights and elasticities were fitted "
                             "across districts to the 2022 tiers (sim/programmes/evaluation.py); its change over "
                             "years is not what they were fitted to, and the report's own benchmarks may move",
    "national_innovative_county_list": "the size of a national list; which Chongqing counties are on it is not in "
                                       "the row, and the model's list event counts Chongqing counties",
    "specialised_smes_municipal_added": "the model's 专精特新 are certified high-tech firms only (a hazard of 3 %/yr, "
                                        "not fitted); the municipal list also admits uncertified SMEs and its size "
                                        "is a yearly quota, so the two counts are of different populations",
}
# Decisions about single rows, (indicator, year, kind) -> the model to use, or None: not used.
RULINGS: dict[tuple[str, int, str], tuple[str | None, str]] = {
    ("rd_intensity", 2023, "preliminary"): (None,
        "the same statement as the 2023 R&D preliminary (750亿, same article): given GDP 30,145.79亿 it is 2.49 %, "
        "and the 1.5 % gap to 2.45 % is within a preliminary figure's rounding. Counting both would weigh one statement "
        "twice; the level is kept because the model's GDP is only in part the published path"),
    ("rd_intensity", 2024, "expected"): ("upper_bound",
        "the 2024 R&D is read as the interval between two secondary statements that disagree: at least 800亿 "
        "(rd_expenditure, lower edge) and 2.6 % expected (this row, upper edge); with GDP 32,193.15亿 that is "
        "2.49–2.6 %. Each edge is one-sided and soft, on the quantity its statement is about, so neither "
        "statement is counted twice"),
}


@dataclass(frozen=True)
class Observation:
    """One published row as an observation of a model quantity."""
    indicator: str
    year: int
    value: float                 # as published, in the row's unit
    unit: str
    kind: str
    status: str
    series: tuple[str, ...]      # the model's city-frame columns, summed
    months: int                  # 12: year end or full year; less: a flow from January
    model: str                   # one of MODELS
    sigma: float                 # error of the statement, log scale
    why: str                     # the model and σ in words
    source: str

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.indicator, self.year, self.kind)

    @property
    def is_flow(self) -> bool:
        return all(s.endswith("_q") for s in self.series)


def _observe(row) -> Observation | str:
    """The row's observation, or the reason it is not used."""
    key = (row.indicator, int(row.year), row.kind)
    ruling = RULINGS.get(key)
    if ruling is not None and ruling[0] is None:
        return ruling[1]
    if row.indicator in UNUSED_INDICATORS:
        return UNUSED_INDICATORS[row.indicator]
    if row.indicator not in SERIES_OF or row.kind == "event":
        return f"no model quantity for {row.indicator} ({row.kind})"
    s_status = SIGMA_BY_STATUS[row.status]
    months = int(row.months)
    if row.kind in ("level", "flow"):
        model, sigma, why = "lognormal", s_status, f"{row.kind}, {row.status}: log-normal"
    elif row.kind == "preliminary":
        model, sigma, why = "lognormal", max(SIGMA_PRELIMINARY, s_status), "preliminary figure: log-normal"
    elif row.kind == "expected":
        model, sigma, why = "lognormal", max(SIGMA_EXPECTED, s_status), f"expectation, {row.status}: log-normal"
    elif row.kind in ("level_lower_bound", "flow_lower_bound"):
        model, sigma, why = "lower_bound", s_status, f"published floor, {row.status}: only a shortfall counts"
    elif row.kind == "expected_year_end_lower_bound":
        model, sigma, why = "lower_bound", SIGMA_EXPECTED_BOUND, "expected to pass by year end: only a shortfall counts"
    elif row.indicator in BATCH_INDICATORS:      # partial_year of certificates: a floor on the year
        model, sigma, months = "lower_bound", s_status, FULL_YEAR
        why = f"certificates to month {row.months} (batches): a floor on the whole year's certificates"
    else:                                        # partial_year of a continuous flow
        model, sigma = "lognormal", math.hypot(s_status, SIGMA_PARTIAL_YEAR)
        why = f"flow January to month {row.months}, {row.status}: log-normal, σ with the interpolation's error"
    if ruling is not None:
        model, why = ruling[0], ruling[1]
    model_error = MODEL_ERROR_FLOW if recent.INDICATORS[row.indicator][1] == "flow" else MODEL_ERROR_LEVEL
    sigma = math.hypot(sigma, model_error)
    why += f", with the model's own error {model_error:.2f}"
    return Observation(indicator=row.indicator, year=int(row.year), value=float(row.value), unit=row.unit,
                       kind=row.kind, status=row.status, series=SERIES_OF[row.indicator], months=months,
                       model=model, sigma=float(sigma), why=f"{why} (σ = {sigma:.3f})", source=row.source)


def _rows(data_dir) -> list[tuple[dict, Observation | str]]:
    table = recent.load_recent(data_dir)
    return [({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row._asdict().items()}, _observe(row))
            for row in table.itertuples(index=False)]


def observations(data_dir=None, through: int | None = None) -> list[Observation]:
    """The usable rows of ``city_recent.csv`` as observations, those of years up to ``through``
    (all when None), in the file's key order (indicator, year, kind)."""
    if through is not None and (isinstance(through, bool) or not isinstance(through, (int, np.integer))):
        raise TypeError(f"through: a year (an integer) or None, got {through!r}")
    return [o for _, o in _rows(data_dir)
            if isinstance(o, Observation) and (through is None or o.year <= through)]


def unused(data_dir=None) -> list[tuple[dict, str]]:
    """The rows of ``city_recent.csv`` that no observation uses, each with the reason."""
    return [(row, o) for row, o in _rows(data_dir) if isinstance(o, str)]


def model_quantity(obs: Observation) -> tuple[str, int, int]:
    """(model series, year, months): the city-frame column (columns joined by '+' are summed),
    the year, and the months it covers (12: a year-end stock or a full-year flow)."""
    return "+".join(obs.series), obs.year, obs.months


def simulated_value(obs: Observation, frame: pd.DataFrame) -> float:
    """The value one replicate's quarterly city frame (columns year, quarter and the series;
    one row per quarter) gives for ``obs``: a stock at Q4 of the year; a full-year flow summed
    over Q1–Q4; a flow over the first ``months`` months as the whole quarters plus the share
    of the next (January–October: Q1 + Q2 + Q3 + Q4 / 3)."""
    missing = [c for c in ("year", "quarter", *obs.series) if c not in frame.columns]
    if missing:
        raise ValueError(f"the city frame has no column {', '.join(missing)} (needed for {obs.indicator} {obs.year})")
    rows = frame[frame["year"] == obs.year]
    quarters = rows["quarter"].astype(int).tolist()
    if len(set(quarters)) != len(quarters):
        raise ValueError(f"the city frame has a quarter of {obs.year} twice")
    value = rows[list(obs.series)].sum(axis=1).to_numpy(float)
    by_q = dict(zip(quarters, value))
    if not obs.is_flow:
        if 4 not in by_q:
            raise ValueError(f"the city frame does not reach the end of {obs.year} (Q4), needed for {obs.indicator}")
        return float(by_q[4])
    whole, part = divmod(obs.months, 3)
    need = range(1, whole + (1 if part else 0) + 1)
    if any(q not in by_q for q in need):
        raise ValueError(f"the city frame lacks quarters {[q for q in need if q not in by_q]} of {obs.year}, "
                         f"needed for {obs.indicator}")
    total = sum(by_q[q] for q in range(1, whole + 1))
    return float(total + (part / 3) * by_q[whole + 1] if part else total)


def log_likelihood(obs: Observation, simulated: float) -> float:
    """log p(published statement | the model's value ``simulated``), as the module docstring
    states for ``obs.model``. −inf for a value the statement rules out (≤ 0 for a level or a
    floor; not finite)."""
    if obs.model not in MODELS:
        raise ValueError(f"unknown observation model {obs.model!r} (allowed: {', '.join(MODELS)})")
    m = float(simulated)
    if math.isnan(m) or obs.value <= 0:
        return -math.inf
    # z: how many σ the simulated value lies above the published one, on the log scale
    z = -math.inf if m <= 0 else (math.log(m) - math.log(obs.value)) / obs.sigma
    if obs.model == "lower_bound":
        return float(norm.logcdf(z))
    if obs.model == "upper_bound":
        return float(norm.logcdf(-z))
    if not math.isfinite(z):
        return -math.inf
    return float(-0.5 * z * z - math.log(obs.sigma * math.sqrt(2 * math.pi)) - math.log(obs.value))


def total_log_likelihood(frame_or_values, obs_list: Sequence[Observation]) -> float:
    """Sum of :func:`log_likelihood` over ``obs_list``. ``frame_or_values``: one replicate's
    quarterly city frame, or the simulated values themselves (a sequence in the order of
    ``obs_list``, or a mapping keyed by each observation's ``key``)."""
    if isinstance(frame_or_values, pd.DataFrame):
        values = [simulated_value(o, frame_or_values) for o in obs_list]
    elif isinstance(frame_or_values, Mapping):
        values = [frame_or_values[o.key] for o in obs_list]
    else:
        values = list(frame_or_values)
        if len(values) != len(obs_list):
            raise ValueError(f"{len(values)} simulated values for {len(obs_list)} observations")
    return float(math.fsum(log_likelihood(o, v) for o, v in zip(obs_list, values)))
