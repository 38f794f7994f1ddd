"""Named constants of the model's structure: the calendar (one step is a quarter), the industry
directions' mix by group, the start population's distributions and the certification bands.
Every module reads the step length from here; nothing restates it."""

from __future__ import annotations

import numpy as np

from ..data.actors import INDUSTRY_DIRECTIONS

# One step of the model is a quarter.
STEPS_PER_YEAR = 4
DT = 1 / STEPS_PER_YEAR  # years per step

def in_directions(names) -> np.ndarray:
    """Per industry direction (the firm arrays' order), whether it is one of ``names``."""
    return np.array([d in names for d in INDUSTRY_DIRECTIONS])

# Share of a group's firms in each direction. Estimated from the roles the seed gives the groups
# (§二: the core and central districts in software, electronics, data and biomedicine; the new
# metropolitan districts in manufacturing; the two clusters in food, agriculture and green
# industries). Rows sum to 1.
INDUSTRY_MIX = {
    "central_urban":    (0.14, 0.16, 0.16, 0.16, 0.14, 0.05, 0.02, 0.06, 0.05, 0.06),
    "new_metropolitan": (0.05, 0.14, 0.24, 0.06, 0.10, 0.10, 0.08, 0.09, 0.06, 0.08),
    "northeast":        (0.03, 0.05, 0.10, 0.04, 0.08, 0.22, 0.20, 0.10, 0.10, 0.08),
    "southeast":        (0.03, 0.05, 0.10, 0.04, 0.08, 0.22, 0.20, 0.10, 0.10, 0.08),
}

# Directions that the application scenarios of seed §(十四) pull into use.
SCENARIO_DIRECTIONS = ("industrial_software", "big_data", "intelligent_manufacturing", "ecology_environment")

# Starting distributions of the firm population (estimated; the district R&D totals of the
# data layer then rescale revenue so that firms' R&D adds up to the enterprise share).
FIRM_START = {
    # status: (median revenue million yuan, median R&D intensity, median age years)
    "candidate": (3.0, 0.020, 4.0),
    "registered": (10.0, 0.035, 6.0),
    "certified": (40.0, 0.055, 9.0),
    "revenue_sigma": 1.1,
    "rd_sigma": 0.45,
    # certified firms start at least this far above their band's R&D threshold
    "certified_margin": 1.2,
    # share of a district's firms inside a high-tech zone, by the zone the district hosts
    "zone_share": {"national": 0.5, "municipal": 0.3, "none": 0.0},
    # The end-2022 start, so that it holds the firms the fitted 2017–2022 hindcast leaves there
    # (derived: measured on the fitted hindcast's end-2022 state, scale 0.25, six seeds). Built
    # with the status medians above, the start's registered, uncertified firms spent 2.4 times
    # the hindcast's R&D, held fewer patents than the model's own patent process leaves them, and
    # their certificates expired evenly, so certifications accelerated after 2022 with every lever
    # off (1,250 → 1,810 a year against 1,240 published for 2022) where the hindcast continued
    # adds 1,080 → 880 (docs/MODEL.md, "Why certifications accelerated after 2022").
    # Registered, uncertified firms: revenue log-sd wider by this, each district's total kept (so
    # the median falls from 9.8 to about 4.3 million yuan, as in the hindcast's end-2022 state).
    "registered_2022_revenue_sigma": 1.3,
    # Certificates valid at the end of 2022 by the year they were issued (2020, 2021, 2022): the
    # hindcast's certificates of those years (1,640, 2,247, 2,710), so they expire as cohorts.
    "certificate_cohorts_2022": (0.249, 0.341, 0.411),
}

# R&D intensity a firm needs for high-tech certification, by revenue band (国科发火〔2016〕32号,
# verified): ≤ 50 million yuan: 5 %; ≤ 200 million: 4 %; above: 3 %.
CERT_RD_BANDS = ((50.0, 0.05), (200.0, 0.04), (float("inf"), 0.03))

