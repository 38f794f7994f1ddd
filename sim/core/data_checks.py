"""What the model needs of a parameter set that only the data can tell: a start year the data
holds a start state for, adcodes of the 38 districts (and of counties where only counties can
be meant), and a collaboration network that stays bounded (:data:`MAX_LINKS`).

The model's build calls :func:`check_against_data` (so a ``Params`` built by hand is held to it),
and so does the scenario loader, which names the file:

* ``start_year``: 2017 (the hindcast), 2022 (a retrospective over the published years) or a
  year after 2022 up to the latest published one (``sim/core/hindcast.py``'s ``latest_year``);
* the sets of adcodes (declared with ``Adcodes`` in sim/params/levers.py):
  ``platforms.zone_upgrades``, ``innovative_county.already_passed``: adcodes of the 38 districts;
  ``innovative_county.candidates``: adcodes of counties (the model only builds counties
  toward national innovative-county status, so a district there would silently do nothing);
  that each is a set (no repeats, so no longer than the districts) is checked as the
  parameters are built;
* the collaboration network stays bounded: see :data:`MAX_LINKS`.
"""

from __future__ import annotations

import functools
import math

from ..data import actors, datasets, identity
from ..data.tables import stamp
from ..params.fields import ParamConflict, ParamError
from ..params.parameters import Params, adcode_sets
from ..util.messages import short
from .hindcast import latest_year
from .network import MIN_WEIGHT

# Links decay to MIN_WEIGHT and are then dropped, so at steady state the network holds
# (formation per year) × (lifetime) links, lifetime = ln(1 / MIN_WEIGHT) / link_decay. The edge
# arrays and the quarterly sparse product take about 115 bytes a link at their peak (measured),
# so the ceiling of 10 million links keeps one replicate's network under about 1.1 GB. The default
# set-up holds about 0.9 million at full scale by 2035.
MAX_LINKS = 10_000_000
BYTES_PER_LINK = 115
# Live firms grow about 2.3-fold from the end of 2022 to 2035 in the calibrated baseline.
FIRM_GROWTH_ALLOWANCE = 3.0


def check_against_data(params: Params, file: str | None = None, data_dir=None) -> Params:
    """Raise :class:`ParamError` (naming ``file``, the key and what is allowed) if the data cannot
    carry ``params`` as they say; return them unchanged otherwise."""
    latest = latest_year(data_dir)
    allowed = (*datasets.START_YEARS, *range(max(datasets.START_YEARS) + 1, latest + 1))
    if params.start_year not in allowed:
        raise ParamError("start_year", f"the scenario takes over at the end of 2017 (the hindcast), 2022 (a retrospective "
                         f"over the published years) or a published year up to the latest, {latest}; "
                         f"got {short(params.start_year)}", file)
    names, counties, _, _ = _data_facts(data_dir)
    of = {"districts": (names, f"the adcodes of the {len(names)} districts, {min(names)} {names[min(names)]} … "
                               f"{max(names)} {names[max(names)]}"),
          "counties": (counties, "adcodes of counties: " + ", ".join(f"{c} {n}" for c, n in sorted(counties.items())))}
    # Each set was refused when longer than the districts or with a repeat as the parameters were
    # built (sim/params/parameters.py), so this looks at a few dozen adcodes at most.
    for key, codes, what in adcode_sets(params):
        allowed, listing = of[what]
        bad = [c for c in codes if c not in allowed]
        if bad:
            raise ParamError(key, f"{short(bad[0])} is not allowed; {listing}", file)
    _check_network(params, file, data_dir)
    return params


def expected_links(params: Params, data_dir=None) -> float:
    """Links the collaboration network holds at steady state, at the most firms the horizon
    reaches (an upper estimate; infinite when links form and never decay)."""
    _, _, n_universities, n_leaders = _data_facts(data_dir)
    b, scale = params.behaviour, params.scale
    firms = FIRM_GROWTH_ALLOWANCE * scale * max(
        datasets.CITY_TOTALS[("tech_enterprises", 2017)][0] * (1 + b.candidate_ratio_2017),
        datasets.CITY_TOTALS[("tech_enterprises", 2022)][0] * (1 + b.candidate_ratio))
    per_year = (b.link_rate * firms + b.university_link_rate * n_universities * scale
                + (params.consortia.links_per_leader * n_leaders * scale if params.consortia.enabled else 0.0))
    if per_year <= 0:
        return 0.0
    if b.link_decay <= 0:
        return math.inf
    return per_year * math.log(1 / MIN_WEIGHT) / b.link_decay


def _data_facts(data_dir) -> tuple[dict, dict, int, int]:
    """District names, county names, universities and leading firms of the data folder: every
    parameter set is checked against them, so they are read once per version of the files."""
    d = identity.data_folder(data_dir)
    files = ("districts.csv", "district_indicators.csv", "universities.csv", "leading_firms.csv")
    return _facts(str(d), tuple(stamp(d / f) for f in files))


@functools.lru_cache(maxsize=8)
def _facts(dir_str: str, stamps: tuple) -> tuple[dict, dict, int, int]:
    districts = identity.district_identity(dir_str)
    names = dict(zip(districts["adcode"].astype(str), districts["short_zh"]))
    counties = {str(c): n for c, n, k in zip(districts["adcode"], districts["short_zh"], districts["kind"])
                if k in ("county", "autonomous_county")}
    return names, counties, len(actors.load_universities(dir_str)), len(actors.load_leading_firms(dir_str))


def _check_network(params: Params, file, data_dir) -> None:
    links = expected_links(params, data_dir)
    if links <= MAX_LINKS:
        return
    b = params.behaviour
    needed = b.link_decay * links / MAX_LINKS
    grows = ("links never decay, so the network grows without bound" if math.isinf(links) else
             f"links would last {math.log(1 / MIN_WEIGHT) / b.link_decay:,.0f} years and the network would reach about "
             f"{links:,.0f} links")
    raise ParamConflict("behaviour.link_decay", f"{grows} (got link_decay = {short(b.link_decay)}); the model allows "
                        f"{MAX_LINKS:,} links (about {MAX_LINKS * BYTES_PER_LINK / 1e9:.1f} GB per replicate): "
                        + (f"raise link_decay to at least {needed:.3g}/yr, or " if math.isfinite(needed) else "set a "
                           "positive link_decay, or ")
                        + f"lower behaviour.link_rate, behaviour.university_link_rate, consortia.links_per_leader "
                        f"or scale (now {params.scale:g})", file)
