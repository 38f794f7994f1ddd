"""Every parameter of the model in one validated structure.

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

from .messages import clip, short

ALLOCATION_RULES = ("equal", "gdp", "need", "competitive", "mix")
MIXING_MODES = ("graph", "complete")


class ParamError(ValueError):
    """A scenario value that is not allowed; the message names file, key and what is allowed."""

    def __init__(self, key: str, message: str, file: str | None = None):
        self.key, self.file, self.detail = key, file, message
        where = f"{clip(str(file), 200)}: " if file else ""
        super().__init__(clip(f"{where}key '{key}': {message}"))


def P(default, unit: str, doc: str, source: str, lo=None, hi=None, choices=None, lever=False):
    """A documented parameter field."""
    meta = dict(unit=unit, doc=doc, source=source, lo=lo, hi=hi, choices=choices, lever=lever)
    if isinstance(default, (list, dict)):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------------------------
# Levers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MixWeights:
    equal: float = P(0.4, "share", "weight of the equal split in the 'mix' rule", "estimated: a plausible blend; no published factor formula", 0, 1)
    gdp: float = P(0.2, "share", "weight of the GDP-proportional split in the 'mix' rule", "estimated", 0, 1)
    need: float = P(0.2, "share", "weight of the need-based split (inverse R&D intensity) in 'mix'", "estimated", 0, 1)
    competitive: float = P(0.2, "share", "weight of the split by last year's evaluation index in 'mix'", "estimated", 0, 1)


@dataclass(frozen=True)
class GuidingFund:
    """市级引导区县科技发展专项资金 (municipal guiding fund for district S&T)."""

    annual_budget: float = P(10.0, "100m_yuan/yr", "yearly budget of the municipal guiding fund for district S&T", "estimated: the 2021 municipal decision added 10亿/yr of city-level S&T money (policy_timeline 2021-05-17); the fund's own size is not published", 0, 200, lever=True)
    allocation: str = P("mix", "rule", "how the budget is split across the 38 districts", "seed §(二十五); the rule itself is a scenario choice", choices=ALLOCATION_RULES, lever=True)
    mix: MixWeights = field(default_factory=MixWeights, metadata=dict(doc="weights of the 'mix' rule", lever=True))
    share_rd_subsidy: float = P(0.45, "share", "share spent on ex-post R&D subsidies proportional to firms' R&D", "estimated: the 2021 decision switched firm support to ex-post subsidy proportional to R&D (policy_timeline 2021-05-17)", 0, 1, lever=True)
    share_platforms: float = P(0.25, "share", "share spent on characteristic platforms (一区一平台)", "estimated", 0, 1, lever=True)
    share_incubators: float = P(0.15, "share", "share spent on incubators and maker spaces", "estimated", 0, 1, lever=True)
    share_talent: float = P(0.15, "share", "share spent on talent (英才计划, S&T commissioners)", "estimated", 0, 1, lever=True)


@dataclass(frozen=True)
class DistrictBudget:
    own_programme_share: float = P(0.25, "share", "share of a district's own fiscal S&T spending that goes to the four programmes (subsidy, platform, incubator, talent), the rest being institutions' running costs", "estimated", 0, 1, lever=True)
    own_budget_growth: float = P(0.068, "1/yr", "yearly growth of districts' own fiscal S&T spending", "verified: local fiscal S&T spending grew 6.8 % in 2022 (city_history fiscal_st_spending)", -0.5, 1.0, lever=True)


@dataclass(frozen=True)
class Cultivation:
    """The enterprise cultivation chain and its national tax incentive."""

    super_deduction: float = P(1.0, "share", "R&D super-deduction rate from 2023 (1.0 = 200 % deduction)", "verified: 财政部 税务总局公告2023年第7号, 100 % for all eligible firms (policy_timeline)", 0, 2, lever=True)
    super_deduction_2022_sme: float = P(1.0, "share", "rate in force in 2022 for registered tech-based SMEs (the reference of the R&D cost)", "verified: 公告2022年第16号", 0, 2)
    candidate_list_size: float = P(0.05, "share", "share of a district's registered, not yet certified firms on its candidate list (清单式管理)", "estimated: seed §(十二) asks districts to list firms; list sizes are not published", 0, 1, lever=True)
    candidate_list_boost: float = P(1.5, "x", "multiplier on the yearly certification-application odds of listed firms", "estimated", 1, 10, lever=True)
    coaching_registration_boost: float = P(0.5, "x", "extra registration push (relative to the base external rate p) from district cultivation work and annual targets (目标管理绩效考核)", "estimated", 0, 10, lever=True)
    certification_windows: tuple = P((2, 4), "quarters", "quarters in which high-tech certification batches are decided", "estimated: two batches a year is common practice (policy_timeline: unverified)")
    validity_years: int = P(3, "yr", "validity of a high-tech certificate", "verified: 国科发火〔2016〕32号", 1, 10)


@dataclass(frozen=True)
class Consortia:
    enabled: bool = P(True, "bool", "innovation consortia led by the five leading firms (创新联合体)", "seed §(十三)", lever=True)
    links_per_leader: float = P(60.0, "links/yr", "new consortium links a leading firm forms per year with suppliers and universities", "estimated", 0, 10000, lever=True)


@dataclass(frozen=True)
class PairedAssistance:
    enabled: bool = P(True, "bool", "paired assistance 对口协同 between metropolitan districts and cluster counties", "seed §(二十二); pairs in sim/data/paired_assistance.csv", lever=True)
    intensity: float = P(1.0, "x", "strength of the pairing: scales cross-pair link formation, talent flow and support transfers", "estimated (1 = the 2021–22 level)", 0, 10, lever=True)
    support_per_pair: float = P(0.18, "100m_yuan/yr", "support money a partner district transfers to its county each year at intensity 1", "derived: 4.24亿 in place by Nov 2021 (policy_parameters paired_support_funds) / 24 pairs ≈ 0.18亿 per pair-year", 0, 100, lever=True)
    cross_link_share: float = P(0.04, "share", "share of new firm links drawn to the paired district at intensity 1", "estimated", 0, 1)
    enclave_share: float = P(0.05, "share", "share of a county's new firms set up in enclave parks (飞地建园) of its partner, benefiting from the partner's environment", "estimated", 0, 1, lever=True)
    sichuan_chongqing: float = P(1.0, "x", "strength of Sichuan–Chongqing border cooperation (川渝毗邻) for border districts", "estimated", 0, 10, lever=True)
    sichuan_chongqing_link_share: float = P(0.03, "share", "share of a border district's new firm links drawn across the Sichuan border cooperation at strength 1", "estimated", 0, 1)


@dataclass(frozen=True)
class Finance:
    fund_of_funds_size: float = P(20.0, "100m_yuan", "committed capital of the municipal S&T cultivation fund-of-funds (科创培育基金) with district sub-funds", "estimated: the seed/angel/VC guidance funds were 10亿 each (policy_timeline 2018-04-02)", 0, 1000, lever=True)
    capital_call_per_year: float = P(0.2, "share/yr", "share of committed capital called per year", "estimated", 0, 1)
    ticket: float = P(5.0, "million_yuan", "equity ticket per young firm", "estimated", 0.1, 1000)
    max_age_years: float = P(5.0, "yr", "the 'first kilometre': oldest firm age eligible for equity", "estimated from seed §(十七)", 0, 50)
    exit_multiple: float = P(3.0, "x", "proceeds per yuan invested when a portfolio firm lists", "estimated", 0, 100)
    credit_annual_lending: float = P(72.0, "100m_yuan/yr", "knowledge-value credit lending per year (知识价值信用贷款)", "derived: (223.5 − 133.78)亿 over Oct 2020–Dec 2021, annualised = 71.8亿/yr (policy_parameters kv_loan_annual_flow_2021_approx)", 0, 10000, lever=True)
    loan_size: float = P(2.38, "million_yuan", "average knowledge-value loan", "verified: 20.1亿 to 844 firms = 238.2万 per firm (policy_timeline 2019-07-04)", 0.1, 100)
    loan_term_quarters: int = P(4, "quarters", "loan term", "estimated: one-year credit lines", 1, 40)
    risk_pool_initial: float = P(31.0, "100m_yuan", "risk-compensation pool at start", "verified: risk fund 31亿 (policy_timeline 2019-07-04)", 0, 10000, lever=True)
    risk_pool_topup: float = P(2.0, "100m_yuan/yr", "yearly fiscal top-up of the risk pool", "estimated", 0, 1000, lever=True)
    compensation_share: float = P(0.8, "share", "share of defaulted principal the pool compensates", "verified: 80 % (policy_timeline, risk-sharing rule)", 0, 1)
    city_share_of_pool: float = P(0.4, "share", "city's share of pool funding (districts the rest)", "verified: city:district 4:6 (policy_timeline)", 0, 1)


@dataclass(frozen=True)
class Talent:
    effect: float = P(10.0, "x per (million yuan per firm)", "absorptive-capacity gain per million yuan of talent spending per registered firm in the district", "estimated", 0, 100)
    commissioners: float = P(1.0, "x", "scale of S&T commissioners sent to counties (科技特派员; 1 = 2020 level, 3,448 person-times)", "verified level: 科技日报 2021-03-31; effect estimated", 0, 10, lever=True)


@dataclass(frozen=True)
class Platforms:
    programme: bool = P(True, "bool", "the 一区一平台 platform programme is active", "seed §(七)", lever=True)
    cost: float = P(1.5, "100m_yuan", "cumulative spending that completes a characteristic platform", "estimated", 0.01, 1000, lever=True)
    zone_upgrades: tuple = P(("500151", "500152", "500102", "500111", "500117", "500110"), "adcodes", "municipal high-tech zones that reach national status (铜梁, 潼南, 涪陵, 大足, 合川, 綦江, named in seed §(七))", "seed §(七); the upgrade year is a scenario choice", lever=True)
    zone_upgrade_year: int = P(2025, "yr", "year by whose end the listed zones are national (firms join them, the zone share of their district rises)", "estimated", 2023, 2100, lever=True)
    scenario_pull: float = P(0.01, "1/yr", "extra revenue growth of firms in directions with application scenarios (AI, industrial internet, smart city, ecology: 场景应用, seed §(十四))", "estimated", 0, 1, lever=True)
    incubator_cost: float = P(0.5, "million_yuan per entrant", "incubator spending per additional new firm per year", "estimated", 0.01, 1000)


@dataclass(frozen=True)
class Transfer:
    projects_per_100m_research: float = P(4.0, "projects/yr per 100m_yuan", "transfer projects started per 亿元 of university/institute research per year", "estimated", 0, 1000, lever=True)
    stage_success: tuple = P((0.5, 0.5, 0.6), "prob", "success probability of proof of concept, pilot, demonstration (概念验证→小试中试→示范推广), one stage per year", "estimated", 0, 1)
    branch_share: float = P(0.15, "share", "share of spin-offs placed through branch centres in the two clusters", "estimated from seed §(九)", 0, 1, lever=True)


@dataclass(frozen=True)
class InnovativeCounty:
    support: bool = P(True, "bool", "the city supports counties building toward national innovative county status", "seed §(七)", lever=True)
    in_construction: tuple = P(("500233", "500230"), "adcodes", "counties building toward national innovative county status from 2023 (忠县, 丰都)", "seed §(七) names them")
    construction_years: int = P(3, "yr", "construction cycle before acceptance", "verified: 3-year cycle of the second batch (国科发农〔2023〕76号, notes/districts_first_pass §3)", 1, 10)
    rd_intensity_min: float = P(1.0, "pct_gdp", "county R&D intensity required at acceptance", "estimated", 0, 10)
    rd_growth_min: float = P(0.10, "1/yr", "county R&D CAGR over construction required at acceptance", "estimated (in line with target T3)", -1, 5)
    already_passed: tuple = P(("500236",), "adcodes", "counties already accepted at end-2022", "verified: 奉节 passed in 2022 (city_history)")


@dataclass(frozen=True)
class Evaluation:
    weights: tuple = P((0.2, 0.2, 0.2, 0.2, 0.2), "share", "weights of environment, input, output, high-tech industrialisation, economic contribution", "estimated: the report's weights are not published")
    city_score_start: float = P(70.70, "pct", "city innovation index at the start; fixes the benchmark of every indicator", "verified: 重庆科技创新指数报告2023 (2022 data), city_history", 1, 100)
    competitive_feedback: bool = P(True, "bool", "the yearly evaluation feeds the competitive share of the guiding fund", "seed §(二十五)", lever=True)


# --------------------------------------------------------------------------------------------
# Behaviour (estimated; the calibration fits the free ones to 2017–2022)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Behaviour:
    candidate_ratio: float = P(1.0, "x", "unregistered R&D-active SMEs per registered tech-based SME at start (the adoption pool)", "estimated", 0.05, 20)
    registered_rd_2022: float = P(0.035, "share", "median R&D intensity of registered, not yet certified firms in the end-2022 start population (a 2017 start uses the FIRM_START value)", "estimated (FIRM_START); the calibration derives it from the fitted hindcast's end-2022 state so that a forecast starts with as many near-threshold firms as history left", 0.002, 0.4)
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
    mixing: str = P("graph", "mode", "who a candidate imitates: its contacts on the graph, or everyone (complete mixing)", "model choice", choices=MIXING_MODES)


@dataclass(frozen=True)
class Params:
    start_year: int = P(2022, "yr", "the model starts at the end of this year: 2022 (forecast) or 2017 (hindcast: 2017 district state, then the 2018–2022 policy environment of sim/data/policy_environment.csv)", "data years of the data layer", 2017, 2022)
    scale: float = P(1.0, "share", "firms simulated per real firm (1.0 = one agent per real firm)", "model choice", 0.001, 1.0)
    guiding_fund: GuidingFund = field(default_factory=GuidingFund)
    district_budget: DistrictBudget = field(default_factory=DistrictBudget)
    cultivation: Cultivation = field(default_factory=Cultivation)
    consortia: Consortia = field(default_factory=Consortia)
    paired: PairedAssistance = field(default_factory=PairedAssistance)
    finance: Finance = field(default_factory=Finance)
    talent: Talent = field(default_factory=Talent)
    platforms: Platforms = field(default_factory=Platforms)
    transfer: Transfer = field(default_factory=Transfer)
    innovative_county: InnovativeCounty = field(default_factory=InnovativeCounty)
    evaluation: Evaluation = field(default_factory=Evaluation)
    behaviour: Behaviour = field(default_factory=Behaviour)

    # ---- construction and validation -------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict | None = None, file: str | None = None) -> "Params":
        """Build from a nested mapping (a scenario's parameter part), validating every key and
        what the model needs across them (:func:`sim.validation.check_params`)."""
        return check_params(_build(cls, data or {}, "", file), file)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def with_overrides(self, overrides: dict | None = None, file: str | None = None, **dotted) -> "Params":
        """A copy with nested overrides ({'finance': {'ticket': 3}}) or dotted ones (finance__ticket=3)."""
        merged = self.to_dict()
        for source in (overrides or {}), _undot(dotted):
            _merge(merged, source)
        return Params.from_dict(merged, file)

    def policy_off(self) -> "Params":
        """The counterfactual without any municipal or district lever (national tax rules aside)."""
        return self.with_overrides(POLICY_OFF)


POLICY_OFF = {
    "guiding_fund": {"annual_budget": 0.0},
    "district_budget": {"own_programme_share": 0.0},
    "cultivation": {"candidate_list_size": 0.0, "coaching_registration_boost": 0.0},
    "consortia": {"enabled": False},
    "paired": {"enabled": False, "sichuan_chongqing": 0.0},
    "finance": {"fund_of_funds_size": 0.0, "credit_annual_lending": 0.0},
    "talent": {"commissioners": 0.0},
    "platforms": {"programme": False, "zone_upgrades": (), "scenario_pull": 0.0},
    "transfer": {"projects_per_100m_research": 0.0},
    "evaluation": {"competitive_feedback": False},
    "innovative_county": {"support": False},
}


def _undot(dotted: dict, sep: str = "__") -> dict:
    """{'a__b': 1} (or with sep='.', {'a.b': 1}) → {'a': {'b': 1}}."""
    out: dict = {}
    for key, value in dotted.items():
        node = out
        parts = key.split(sep)
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _merge(base: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
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
        raise ParamError(prefix + clip(unknown[0], 80), f"unknown key; allowed here: {allowed}", file)
    kwargs = {}
    for name, value in data.items():
        f, typ, key = known[name], hints[name], prefix + name
        if dataclasses.is_dataclass(typ):
            kwargs[name] = _build(typ, value, key + ".", file)
        else:
            kwargs[name] = _check_value(key, value, typ, f, file)
    return cls(**kwargs)


def _check_value(key, value, typ, f, file):
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
        value = tuple(value)
        default = f.default
        if default and all(isinstance(x, str) for x in default) and not all(isinstance(x, str) for x in value):
            raise ParamError(key, f"expected a list of strings, got {short(list(value))}", file)
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


def describe(params: Params | None = None) -> list[dict]:
    """One row per leaf parameter: key, value, unit, meaning, source, range, lever flag."""
    params = params or Params()
    rows: list[dict] = []

    def walk(obj, prefix):
        for f in fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value, prefix + f.name + ".")
                continue
            m = f.metadata
            rows.append(dict(key=prefix + f.name, value=value, unit=m.get("unit"), doc=m.get("doc"),
                             source=m.get("source"), lo=m.get("lo"), hi=m.get("hi"),
                             choices=m.get("choices"), lever=bool(m.get("lever", False))))
    walk(params, "")
    return rows


# Ten industry directions of the seed (§(十一)), in the order used by the firm arrays.
INDUSTRY_DIRECTIONS = (
    "industrial_software", "electronic_devices", "intelligent_manufacturing", "big_data",
    "biomedicine", "food_health", "modern_agriculture", "green_energy",
    "ecology_environment", "energy_saving",
)

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
}

# R&D intensity a firm needs for high-tech certification, by revenue band (国科发火〔2016〕32号,
# verified): ≤ 50 million yuan: 5 %; ≤ 200 million: 4 %; above: 3 %.
CERT_RD_BANDS = ((50.0, 0.05), (200.0, 0.04), (float("inf"), 0.03))


# Last: the cross-field rules need ParamError and Params defined above (and load the data layer).
from .validation import check_params  # noqa: E402
