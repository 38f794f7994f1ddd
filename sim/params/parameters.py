"""Every parameter of the model in one validated structure (the lever sections are in
``sim/params/levers.py``, the declaration vocabulary in ``sim/params/fields.py``).

Each field carries its unit, a one-line meaning, its provenance (``verified`` with a source,
``derived`` with the arithmetic, ``estimated`` with the reasoning) and its allowed range. A
scenario file is a nested mapping with the same section and field names; ``Params.from_dict``
checks it and names the file, the key and what is allowed when something is wrong.

Sections are of two kinds: *levers* (what a planner changes: budgets, allocation rules, paired
assistance, finance, talent, platforms) and *behaviour* (how firms, universities and links
respond; estimated, to be calibrated on 2017–2022 history).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, get_type_hints

from ..util.messages import key_name, short
from .checks import check_params
from .fields import DISTRICTS, KEEP, MIXING_MODES, CostContext, Lever, P, ParamError
from .levers import (ConsortiaParams, CultivationParams, DistrictBudgetParams, EvaluationParams, FinanceParams,
                     GuidingFundParams, InnovativeCountyParams, PairedParams, PlatformsParams, TalentParams,
                     TransferParams)


# --------------------------------------------------------------------------------------------
# Behaviour (estimated; the calibration fits the free ones to 2017–2022)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BehaviourParams:
    candidate_ratio: float = P(1.0, "x", "unregistered R&D-active SMEs per registered tech-based SME at start (the adoption pool)", "estimated", 0.05, 20)
    registered_rd_2022: float = P(0.035, "share", "median R&D intensity of registered, not yet certified firms in the end-2022 start population, in a district at the city's R&D intensity (the others scale by their district factor, district_rd_elasticity; a 2017 start uses the FIRM_START value)", "estimated (FIRM_START); the calibration derives it from the fitted hindcast's end-2022 state so that a forecast starts with as many near-threshold firms as history left", 0.002, 0.4)
    candidate_ratio_2017: float = P(3.0, "x", "unregistered R&D-active SMEs per registered tech-based SME at the end of 2017 (the adoption pool of a hindcast started in 2017, when the register was one year old)", "estimated; fitted by the calibration to 2018–2022 (sim/data/calibration.toml)", 0.05, 20)
    bass_p: float = P(0.04, "1/yr", "external (innovation) registration rate without policy push", "estimated; literature mean p = 0.03 (Sultan, Farley & Lehmann 1990; policy_parameters bass_p_mean)", 0, 5)
    bass_q: float = P(0.30, "1/yr", "imitation registration rate per unit of registered share among contacts", "estimated; literature mean q = 0.38, range 0.3–0.5 (policy_parameters bass_q_mean)", 0, 5)
    entry_rate: float = P(0.22, "1/yr", "new R&D-active firms per year per candidate firm in the district (before incubator and talent effects)", "estimated to keep the 2022 candidate pool", 0, 5)
    exit_rate_candidate: float = P(0.10, "1/yr", "exit hazard of unregistered firms", "estimated: Chinese firm death rates 6–9 %/yr (policy_parameters firm_death_rate_cn), higher for small unregistered firms", 0, 1)
    exit_rate_registered: float = P(0.04, "1/yr", "exit hazard of registered firms", "estimated", 0, 1)
    deregistration_rate: float = P(0.10, "1/yr", "yearly removal of registered firms whose R&D intensity falls below the registration floor", "estimated", 0, 1)
    registration_rd_floor: float = P(0.02, "share", "R&D/revenue floor for small firms to stay registered", "verified: Chongqing 科技型企业 criteria, small firms ≥2 % (policy_timeline)", 0, 1)
    apply_rate: float = P(0.4, "prob per window", "probability an eligible registered firm applies in a certification window", "estimated", 0, 1)
    pass_rate: float = P(0.5, "prob", "probability an application passes", "estimated: pass rates are not published", 0, 1)
    cert_bunching: float = P(0.0, "share", "firms whose R&D intensity is within this share below their certification threshold raise it to the threshold when they apply (bunching at the high-tech notch); 0 = only firms already above it apply", "estimated; the notch response is documented by Chen, Liu, Suárez Serrato & Xu (2021) AER 111(7) (policy_parameters rd_itt_effect_hnte, rd_relabel_share); fitted by the calibration", 0, 0.9)
    recert_rate: float = P(0.75, "prob", "probability an eligible certified firm re-applies and passes at expiry", "estimated", 0, 1)
    specialised_rate: float = P(0.03, "1/yr", "hazard of a certified firm becoming 专精特新", "estimated", 0, 1)
    listing_rate: float = P(0.004, "1/yr", "hazard of a 专精特新 or equity-backed firm listing", "estimated", 0, 1)
    rd_elasticity: float = P(1.14, "-", "price elasticity of R&D with respect to its after-tax, after-subsidy cost", "verified (literature): user-cost elasticity of real R&D in China 1.14, Chen, Liu, Suárez Serrato & Xu (2021) AER 111(7)", 0, 5)
    knowledge_depreciation: float = P(0.15, "1/yr", "depreciation of knowledge stocks", "verified (literature): 15 %/yr is the conventional R&D depreciation rate (Griliches)", 0, 1)
    spillover: float = P(0.20, "1/yr", "share of the knowledge gap to contacts closed per year", "estimated", 0, 5)
    growth_base: float = P(0.04, "1/yr", "revenue growth of a firm with no knowledge growth", "estimated", -1, 1)
    growth_knowledge: float = P(0.15, "-", "revenue growth per unit of knowledge growth", "estimated", 0, 5)
    growth_finance: float = P(0.15, "1/yr", "extra growth while a loan or equity is in place", "estimated", 0, 5)
    growth_environment: float = P(0.03, "1/yr", "extra growth in a district with a characteristic platform", "estimated", 0, 1)
    growth_noise: float = P(0.25, "1/sqrt(yr)", "idiosyncratic revenue volatility", "estimated", 0, 5)
    rd_rate_drift: float = P(0.05, "1/yr", "yearly relative drift of listed and financed firms' R&D intensity towards certification", "estimated", 0, 1)
    patent_rate: float = P(1.0, "patents per million yuan R&D", "patents granted per million yuan of firm R&D", "derived: 66,500 patents granted in 2022 (city_history) / 543亿 enterprise R&D ≈ 1.2 per million yuan; rounded down for patents of non-modelled applicants", 0, 100)
    patent_lapse: float = P(0.10, "1/yr", "share of held patents lapsing or expiring per year", "estimated", 0, 1)
    link_rate: float = P(0.6, "links/yr per firm", "new collaboration links a firm forms per year", "estimated", 0, 50)
    link_decay: float = P(0.3, "1/yr", "decay of a link's weight without renewal", "estimated", 0, 10)
    link_local_share: float = P(0.6, "share", "share of new links within the firm's own district", "estimated (proximity)", 0, 1)
    university_link_rate: float = P(20.0, "links/yr per university", "new firm links a university forms per year", "estimated", 0, 10000)
    zone_output_share_start: float = P(0.27, "share", "high-tech zones' share of the city's industrial output at the start", "estimated: no 2020–2022 figure was found; the policy sets 'more than 30 %' as the 2025 goal, implying a 2022 share below it (sim/data/policy_parameters.md §4)", 0, 1)
    industrial_growth: float = P(0.05, "1/yr", "nominal growth of industrial output outside the modelled zone firms", "estimated", -1, 1)
    gdp_growth: float = P(0.05, "1/yr", "nominal GDP growth outside the modelled firms", "derived: city GDP 25,003 → 29,129亿 over 2020–2022 ≈ 7.9 %/yr nominal, lowered for the modelled firms' share", -1, 1)
    value_added_ratio: float = P(0.25, "share", "value added per yuan of modelled firms' revenue", "estimated", 0, 1)
    non_firm_rd_growth: float = P(0.08, "1/yr", "growth of university, institute and other non-enterprise R&D", "estimated", -1, 1)
    enterprise_rd_share: float = P(0.791, "share", "enterprises' share of R&D spending at start", "verified: 79.1 % in 2020 (S&T input bulletin)", 0, 1)
    absorption_rd_reference: float = P(0.03, "share", "R&D intensity at which a firm's absorptive capacity is 1 (it scales with the firm's own R&D intensity)", "estimated: about the median intensity of registered firms (FIRM_START)", 0.001, 1)
    absorption_cap: float = P(2.0, "x", "largest absorptive capacity a firm's own R&D gives it", "estimated: spillovers saturate for the most R&D-intensive firms", 0.1, 100)
    imitation_contact_weight: float = P(0.5, "share", "weight of a candidate's contacts (against its district's registered share) in the exposure that drives imitation under graph mixing", "estimated: contacts and the local register count alike", 0, 1)
    district_rd_elasticity: float = P(0.0, "-", "elasticity of the median R&D intensity of a district's firms (registered, candidates, entrants) to the district's R&D intensity relative to the city's at the start: 0 = the same in every district", "estimated; fitted by the calibration to the districts' own figures and the published tiers (sim/data/calibration.toml)", 0, 2)
    entrant_revenue_ratio: float = P(0.5, "x", "revenue of a new firm relative to the median candidate firm of its district at the start", "estimated: entrants start smaller than incumbents", 0.01, 10)
    university_knowledge_ratio: float = P(2.0, "x", "knowledge a university passes on per yuan of partner revenue, relative to a typical certified firm's knowledge per revenue", "estimated", 0, 100)
    district_start_spread: float = P(1.0, "x", "how far each replicate's end-2022 district split of the estimated stocks (tech-based SMEs, high-tech enterprises, R&D) is drawn from its estimate, in units of the estimation method's leave-one-out error (0 = every replicate starts from the point estimate; the districts' own figures and the published totals are kept either way)", "derived: sim/data/district_start.py error_model (the method's misses where districts published their own figures)", 0, 3)
    mixing: str = P("graph", "mode", "who a candidate imitates: its contacts on the graph, or everyone (complete mixing)", "model choice", choices=MIXING_MODES)


@dataclass(frozen=True)
class Params:
    start_year: int = P(2024, "yr", "the scenario takes over at the end of this year: the latest published year (2024: the published years are replayed under the policy as written, conditioned on the published figures, and the forecast starts after them), 2022 (a retrospective: the scenario's levers act from 2023) or 2017 (the calibration's hindcast from the 2017 district state); the published years run under their policy environment (sim/data/policy_environment.csv)", "the latest year with published city figures (sim/data/city_recent.csv)", 2017, 2100)
    scale: float = P(1.0, "share", "firms simulated per real firm (1.0 = one agent per real firm)", "model choice", 0.001, 1.0)
    max_firm_rows: int = P(165_000, "rows", "at most this many firm rows (times scale) in a run from the end-2022 state: a run whose pool of firms would grow past it continues at a coarser resolution, each row standing for more real firms (sim/core/resolution.py); 0 = no bound", "model choice: three times the largest published stock of firms (55,000 tech-based SMEs expected at the end of 2023, sim/data/city_recent.csv), so that no replicate costs an ensemble more than a few ordinary ones", 0, 100_000_000)
    guiding_fund: GuidingFundParams = field(default_factory=GuidingFundParams)
    district_budget: DistrictBudgetParams = field(default_factory=DistrictBudgetParams)
    cultivation: CultivationParams = field(default_factory=CultivationParams)
    consortia: ConsortiaParams = field(default_factory=ConsortiaParams)
    paired: PairedParams = field(default_factory=PairedParams)
    finance: FinanceParams = field(default_factory=FinanceParams)
    talent: TalentParams = field(default_factory=TalentParams)
    platforms: PlatformsParams = field(default_factory=PlatformsParams)
    transfer: TransferParams = field(default_factory=TransferParams)
    innovative_county: InnovativeCountyParams = field(default_factory=InnovativeCountyParams)
    evaluation: EvaluationParams = field(default_factory=EvaluationParams)
    behaviour: BehaviourParams = field(default_factory=BehaviourParams)

    # ---- construction and validation -------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict | None = None, file: str | None = None) -> "Params":
        """Build from a nested mapping (a scenario's parameter part), validating every key and
        what they need across each other (:func:`sim.params.checks.check_params`; what needs the
        data too is checked when a model is built, :mod:`sim.core.data_checks`)."""
        return check_params(_build(cls, data or {}, "", file), file)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def with_overrides(self, overrides: dict | None = None, file: str | None = None, **dotted) -> "Params":
        """A copy with nested overrides ({'finance': {'ticket': 3}}) or dotted ones (finance__ticket=3)."""
        merged = self.to_dict()
        for source in (overrides or {}), undot(dotted):
            merge(merged, source)
        return Params.from_dict(merged, file)

    def policy_off(self) -> "Params":
        """The counterfactual without any municipal or district lever (national tax rules aside)."""
        return self.with_overrides(POLICY_OFF)


def undot(dotted: dict, sep: str = "__") -> dict:
    """{'a__b': 1} (or with sep='.', {'a.b': 1}) → {'a': {'b': 1}}."""
    out: dict = {}
    for key, value in dotted.items():
        node = out
        parts = key.split(sep)
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def merge(base: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


def _build(cls, data: Any, prefix: str, file: str | None):
    if not isinstance(data, dict):
        raise ParamError(prefix.rstrip(".") or "(root)", f"expected a table of keys, got {type(data).__name__}", file)
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        allowed = ", ".join(sorted(known))
        raise ParamError(prefix + key_name(unknown[0]), f"unknown key; allowed here: {allowed}", file)
    kwargs = {}
    for name, value in data.items():
        f, typ, key = known[name], hints[name], prefix + name
        if dataclasses.is_dataclass(typ):
            kwargs[name] = _build(typ, value, key + ".", file)
        else:
            kwargs[name] = check_value(key, value, typ, f, file)
    return cls(**kwargs)


def check_value(key, value, typ, f, file):
    meta = f.metadata
    expected = {bool: "true or false", int: "an integer", float: "a number", str: "a string", tuple: "a list"}[typ]
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
        tuple: isinstance(value, (list, tuple)),
    }[typ]
    if not ok:
        raise ParamError(key, f"expected {expected} ({meta.get('doc', '')}), got {short(value)}", file)
    lo, hi = meta.get("lo"), meta.get("hi")
    allowed = f"allowed {lo} to {hi} {meta.get('unit', '')}".rstrip()
    if typ is float:
        if not _finite(value):
            raise ParamError(key, f"expected a finite number, got {short(value)}; {allowed}", file)
        value = float(value)
    if typ is tuple:
        of = meta.get("adcodes_of")
        if of and len(value) > DISTRICTS:
            # Before anything reads the elements: a list of a million repeats is refused at once.
            raise ParamError(key, f"a set of adcodes of {of}, each listed at most once, so at most {DISTRICTS}; got a "
                             f"list of {len(value):,}", file)
        value = tuple(value)
        default = f.default
        if (of or default and all(isinstance(x, str) for x in default)) and not all(isinstance(x, str) for x in value):
            raise ParamError(key, f"expected a list of strings, got {short(list(value))}", file)
        if of:
            seen: set = set()
            twice = next((x for x in value if x in seen or seen.add(x)), None)
            if twice is not None:
                raise ParamError(key, f"{short(twice)} is listed more than once; a set of adcodes of {of} lists each "
                                 "at most once", file)
        if default and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in default):
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and _finite(x) for x in value):
                raise ParamError(key, f"expected a list of numbers, got {short(list(value))}", file)
            if len(value) != len(default):
                raise ParamError(key, f"expected {len(default)} numbers, got {len(value)}", file)
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ParamError(key, f"{short(value)} is not allowed; choose one of: {', '.join(choices)}", file)
    items = value if typ is tuple else (value,)
    for item in items:
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            if (lo is not None and item < lo) or (hi is not None and item > hi):
                raise ParamError(key, f"{short(item)} is out of range; {allowed}", file)
    return value


def _finite(x) -> bool:
    """A finite number that a float can hold: TOML integers have no size limit, floats do."""
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def _leaves(obj, prefix=""):
    for f in fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, prefix + f.name + ".")
        else:
            yield prefix + f.name, value, f.metadata


def adcode_sets(params: Params) -> list[tuple[str, tuple, str]]:
    """Every set of adcodes (fields declared with ``Adcodes``): dotted key, its adcodes and what
    they must be adcodes of (``"districts"`` or ``"counties"``)."""
    return [(key, value, m["adcodes_of"]) for key, value, m in _leaves(params) if m.get("adcodes_of")]


def levers() -> dict[str, Lever]:
    """Every policy lever, in declaration order: dotted key → its :class:`Lever` declaration."""
    return {key: m["lever"] for key, _, m in _leaves(Params()) if m.get("lever") is not None}


def describe(params: Params | None = None) -> list[dict]:
    """One row per leaf parameter: key, value, unit, meaning, source, range, and for a lever its
    off value, labels, cost, control, study range and search range."""
    rows = []
    for key, value, m in _leaves(params or Params()):
        lv = m.get("lever")
        rows.append(dict(key=key, value=value, unit=m.get("unit"), doc=m.get("doc"), source=m.get("source"),
                         lo=m.get("lo"), hi=m.get("hi"), choices=m.get("choices"), lever=lv is not None,
                         off=lv.off if lv else None, label_zh=lv.zh if lv else None, label_en=lv.en if lv else None,
                         cost=lv.cost if lv else None, control=lv.control if lv else None,
                         study=lv.study if lv else None, optimise=lv.optimise if lv else None))
    return rows


def public_money(params: Params, context: CostContext) -> dict[str, float]:
    """New public money per lever that moves any, 亿元 per year on average over the run."""
    return {key: float(lv.money(params, context)) for key, lv in levers().items() if lv.money is not None}


# The no-policy counterfactual, derived from the levers' off values.
POLICY_OFF = undot({key: lv.off for key, lv in levers().items() if lv.off is not KEEP}, sep=".")
