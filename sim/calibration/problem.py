"""What the calibration fits: the free parameters and their priors, what stays fixed or is
derived instead, where the figure lives and the default settings of a run. The calibration
file itself, its years and its errors are :mod:`sim.experiments.calibration_file`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..experiments.calibration_file import LAST_YEAR, START_YEAR
from ..params.constants import STEPS_PER_YEAR

ROOT = Path(__file__).resolve().parents[2]   # the repository: this file is sim/calibration/problem.py
FIGURE_FILE = ROOT / "results" / "calibration" / "hindcast.png"
STEPS = STEPS_PER_YEAR * (LAST_YEAR - START_YEAR)

# Defaults of the command line (and of calibrate()). The search runs at scale 0.25: below it a
# run's R&D is both noisy and biased (at 0.1, 9 % between seeds and +6 % on average against
# 1.4 % and the full-scale mean at 0.25, because a few large firms per small district carry it),
# which a distance of a few per cent cannot see through; since the compiled firm kernels a run
# at 0.25 costs about 0.2 s, little more than at 0.1. The fitted point is chosen by ensembles at
# full scale, the scale forecasts run at. 200 particles a generation give a posterior sample of
# 200 weighted draws; the tolerance follows the median distance of the last generation.
DEFAULTS = dict(budget=8000, generations=10, accept=0.5, population=200, seed=2017, scale=0.25, eval_scale=1.0,
                replicates=8, top=3, refine=60, refine_replicates=2, posterior_draws=200)
# The posterior is the last generation whose weights are worth at least this share of its
# particles (Kish's effective sample size). A generation whose kernel left a handful of particles
# with nearly all the weight (an ESS of 5 of 200) is a few particles' posterior, not a sample of
# one: its bands are as narrow as those particles happen to be. The rule was fixed before the
# backtest was scored with it, and binds the fit and the backtest's searches alike.
ESS_FLOOR = 0.1


@dataclass(frozen=True)
class Free:
    key: str          # dotted Params key
    lo: float
    hi: float
    log: bool         # prior uniform in log space
    why: str


# What the model leaves free and the history can inform. Everything else is either verified
# (rates, elasticities from the literature, the policy environment) or has no signal in city
# totals (see FIXED_BECAUSE).
FREE = (
    Free("behaviour.candidate_ratio_2017", 1.0, 15.0, True,
         "size of the 2017 pool of firms yet to register: sets how far the register could grow (no published count)"),
    Free("behaviour.bass_p", 0.005, 0.3, True,
         "external registration rate (with the default coaching push): timing of the first registrations"),
    Free("behaviour.bass_q", 0.05, 2.0, True,
         "imitation rate: the S-shape of 2018–2022 (additions peaked in 2020–2021)"),
    Free("behaviour.entry_rate", 0.02, 0.6, False,
         "new R&D-active firms per candidate and year: refills the pool (firm-birth counts for this population are not published)"),
    Free("behaviour.apply_rate", 0.05, 1.0, False,
         "certification applications per window (pass rates are not published; only apply x pass is identified, pass_rate stays at its prior)"),
    Free("behaviour.cert_bunching", 0.0, 0.8, False,
         "how far below the R&D threshold firms still top up and apply: the flow of new certifications"),
    Free("behaviour.growth_base", -0.10, 0.12, False,
         "revenue drift of firms: the level of enterprise R&D growth"),
    Free("behaviour.growth_finance", 0.0, 0.4, False,
         "extra growth of firms with a knowledge-value loan or equity: how R&D follows the 2019–2021 credit expansion"),
    Free("behaviour.district_rd_elasticity", 0.0, 1.5, False,
         "how far a district's firms' R&D intensity follows the district's: whether high-R&D districts keep their high-tech share (the districts' own figures, the published tiers)"),
)
FIXED_BECAUSE = {
    "behaviour.pass_rate": "only apply_rate x pass_rate is identified by stock data",
    "behaviour.recert_rate": "renewals and new certifications are not published separately for 2018–2022",
    "behaviour.rd_elasticity": "verified in the literature (Chen et al. 2021)",
    "behaviour.knowledge_depreciation": "verified in the literature (15 %/yr)",
    "behaviour.spillover": "acts on R&D only through revenue growth, like growth_base: not separately identified by city totals",
    "behaviour.exit_rate_registered": "confounded with registrations in a net stock; kept at its estimate from firm-death statistics",
    "behaviour.coaching_registration_boost (lever)": "multiplies bass_p; bass_p is fitted at the default push",
}
# Derived from the fitted hindcast rather than fitted: a forecast starting in 2022 needs the pool
# of firms yet to register and the R&D of firms waiting for certification at the end of 2022,
# which the fitted hindcast produces; otherwise the forecast's first years would replay a
# certification or registration wave that history had already absorbed.
DERIVED = {"behaviour.candidate_ratio": "unregistered R&D-active firms per registered tech-based SME at the end of 2022 in the fitted hindcast (ensemble mean)",
           "behaviour.registered_rd_2022": "median R&D intensity of registered, not yet certified firms at the end of 2022 in the fitted hindcast (ensemble mean of the medians), each divided by its district's R&D factor (a 2022 start multiplies it back)"}


