"""What the model needs of a parameter set beyond each value's own type and range.

``Params.from_dict`` (and so ``with_overrides``, every scenario file and every model built from
a mapping) ends with :func:`check_params`, so a set-up that the model cannot run — or would run
without doing what it says — is refused before any simulation with a :class:`ParamError` that
names the key and what is allowed:

* ``start_year``: a year the data layer holds a start state for (2017 or 2022);
* ``evaluation.weights``: non-negative with a positive sum (the index divides by it); 5 of
  them, 5 city dimension scores in (0, 100] and 9 indicator exponents in (0, 10];
* ``cultivation.certification_windows``: quarters 1–4 (another number never comes round, so
  nothing would ever be certified);
* ``platforms.zone_upgrades``, ``innovative_county.already_passed``: adcodes of the 38 districts;
  ``innovative_county.candidates``: adcodes of counties (the model only builds counties
  toward national innovative-county status, so a district there would silently do nothing);
* the collaboration network stays bounded: see :data:`MAX_LINKS`.
"""

from __future__ import annotations

import functools
import math

from ..util.messages import short
from .parameters import ParamError, Params

# Links decay to MIN_WEIGHT and are then dropped, so at steady state the network holds
# (formation per year) × (lifetime) links, lifetime = ln(1 / MIN_WEIGHT) / link_decay. The edge
# arrays and the quarterly sparse product take about 115 bytes a link at their peak (measured),
# so the ceiling of 10 million links keeps one replicate's network under about 1.1 GB. The default
# set-up holds about 0.9 million at full scale by 2035.
MAX_LINKS = 10_000_000
BYTES_PER_LINK = 115
# Live firms grow about 2.3-fold from the end of 2022 to 2035 in the calibrated baseline.
FIRM_GROWTH_ALLOWANCE = 3.0


class ParamConflict(ParamError):
    """A rule across several parameters. In an ``extends`` chain one file may set one side of it
    and its parent the other, so it is checked on the merged scenario, not file by file."""


def check_params(params: Params, file: str | None = None, data_dir=None) -> Params:
    """Raise :class:`ParamError` (naming ``file``, the key and what is allowed) if the model
    cannot run ``params`` as they say; return them unchanged otherwise."""
    from ..data import datasets  # the data layer, loaded when a parameter set is first checked

    if params.start_year not in datasets.START_YEARS:
        raise ParamError("start_year", f"the data holds start states for the end of "
                         f"{' and '.join(map(str, datasets.START_YEARS))} (2017 = hindcast), got {short(params.start_year)}",
                         file)
    weights = params.evaluation.weights
    if any(w < 0 for w in weights) or not sum(weights) > 0:
        raise ParamError("evaluation.weights", "the five dimension weights must be 0 or more with a positive sum "
                         f"(they are normalised to shares), got {short(list(weights))}", file)
    ev = params.evaluation
    if len(weights) != 5 or len(ev.city_dimension_scores) != 5 or len(ev.exponents) != 9:
        raise ParamError("evaluation", "5 weights, 5 city dimension scores and 9 indicator exponents are needed, got "
                         f"{len(weights)}, {len(ev.city_dimension_scores)} and {len(ev.exponents)}", file)
    if not all(0 < e <= 10 for e in ev.exponents):
        raise ParamError("evaluation.exponents", f"each must be above 0 and at most 10, got {short(list(ev.exponents))}", file)
    if not all(0 < c <= 100 for c in ev.city_dimension_scores):
        raise ParamError("evaluation.city_dimension_scores", "percentages above 0 and at most 100, got "
                         f"{short(list(ev.city_dimension_scores))}", file)
    windows = params.cultivation.certification_windows
    if not all(float(q).is_integer() and 1 <= q <= 4 for q in windows):
        raise ParamError("cultivation.certification_windows", "quarters in which certification batches are decided: "
                         f"whole numbers from 1 to 4, got {short(list(windows))}", file)

    names, counties, _, _ = _data_facts(data_dir)
    every = f"the adcodes of the {len(names)} districts, {min(names)} {names[min(names)]} … {max(names)} {names[max(names)]}"
    for key, codes, allowed, what in (
            ("platforms.zone_upgrades", params.platforms.zone_upgrades, names, every),
            ("innovative_county.already_passed", params.innovative_county.already_passed, names, every),
            ("innovative_county.candidates", params.innovative_county.candidates, counties,
             "adcodes of counties: " + ", ".join(f"{c} {n}" for c, n in sorted(counties.items())))):
        bad = [c for c in codes if c not in allowed]
        if bad:
            raise ParamError(key, f"{short(bad[0])} is not allowed; {what}", file)
    _check_network(params, file, data_dir)
    return params


def expected_links(params: Params, data_dir=None) -> float:
    """Links the collaboration network holds at steady state, at the most firms the horizon
    reaches (an upper estimate; infinite when links form and never decay)."""
    from ..data import datasets
    from ..core.network import MIN_WEIGHT
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
    from ..data import datasets
    from ..data.tables import stamp
    d = datasets._dir(data_dir)
    files = ("districts.csv", "district_indicators.csv", "universities.csv", "leading_firms.csv")
    return _facts(str(d), tuple(stamp(d / f) for f in files))


@functools.lru_cache(maxsize=8)
def _facts(dir_str: str, stamps: tuple) -> tuple[dict, dict, int, int]:
    from ..data import datasets
    districts = datasets.district_identity(dir_str)
    names = dict(zip(districts["adcode"].astype(str), districts["short_zh"]))
    counties = {str(c): n for c, n, k in zip(districts["adcode"], districts["short_zh"], districts["kind"])
                if k in ("county", "autonomous_county")}
    return names, counties, len(datasets.load_universities(dir_str)), len(datasets.load_leading_firms(dir_str))


def _check_network(params: Params, file, data_dir) -> None:
    from ..core.network import MIN_WEIGHT
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


SMOKE_SCALE = 0.001


def smoke_build(params: Params, seed: int = 0, data_dir=None) -> None:
    """Build the model at a tiny scale and run one quarter (a tenth of a second or so), so that
    whatever no rule here foresees fails before any simulation is started."""
    from ..model import InnovationModel
    model = InnovationModel(params.with_overrides(scale=min(params.scale, SMOKE_SCALE)), seed=seed, data_dir=data_dir)
    try:
        model.step()
    finally:
        model.release()
