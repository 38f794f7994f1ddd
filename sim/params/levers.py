"""The policy levers: one section per programme of the 2022 guiding opinions.

Each lever field declares, once, its unit, meaning, provenance and allowed range, and its
:class:`~sim.params.fields.Lever` — labels, off value, the app's control, the study range, the
optimiser's search range and the public money it moves; everything else (the no-policy
counterfactual, the app's lever panel, the sensitivity ranges, the search space of the cheapest
mix, the direction tests) is derived from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .fields import ALLOCATION_RULES, KEEP, Adcodes, Check, Lever, P

SECTION_LABELS = {
    "guiding_fund": "引导资金 Guiding fund", "district_budget": "区县预算 District budgets",
    "cultivation": "企业培育 Enterprise cultivation", "consortia": "创新联合体 Innovation consortia",
    "paired": "对口协同 Paired assistance", "finance": "科技金融 Finance", "talent": "人才 Talent",
    "platforms": "平台与高新区 Platforms and zones", "transfer": "成果转化 Technology transfer",
    "innovative_county": "创新型县 Innovative counties", "evaluation": "评价 Evaluation",
}

SPLIT = "none: splits the guiding fund's money, which its annual budget counts"
UNPRICED = "none in the model: {} is not priced"
SHARES = (0, 1, 0.05)


def _own_money(p, ctx) -> float:
    g = p.district_budget.own_budget_growth
    growth = sum((1 + g) ** y for y in range(ctx.years)) / max(ctx.years, 1)
    return p.district_budget.own_programme_share * ctx.own_st_spending * growth


def _called_capital(p, ctx) -> float:
    f = p.finance
    return min(f.fund_of_funds_size * f.capital_call_per_year * ctx.years, f.fund_of_funds_size) / max(ctx.years, 1)


# --------------------------------------------------------------------------------------------
# Levers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MixWeightsParams:
    equal: float = P(0.4, "share", "weight of the equal split in the 'mix' rule", "estimated: a plausible blend; no published factor formula", 0, 1,
                     lever=Lever("混合: 均分", "mix weight: equal", KEEP, SPLIT, SHARES))
    gdp: float = P(0.2, "share", "weight of the GDP-proportional split in the 'mix' rule", "estimated", 0, 1,
                   lever=Lever("混合: 按GDP", "mix weight: by GDP", KEEP, SPLIT, SHARES))
    need: float = P(0.2, "share", "weight of the need-based split (inverse R&D intensity) in 'mix'", "estimated", 0, 1,
                    lever=Lever("混合: 按需要", "mix weight: by need", KEEP, SPLIT, SHARES))
    competitive: float = P(0.2, "share", "weight of the split by last year's evaluation index in 'mix'", "estimated", 0, 1,
                           lever=Lever("混合: 竞争性", "mix weight: competitive", KEEP, SPLIT, SHARES))


@dataclass(frozen=True)
class GuidingFundParams:
    """市级引导区县科技发展专项资金 (municipal guiding fund for district S&T)."""

    annual_budget: float = P(10.0, "100m_yuan/yr", "yearly budget of the municipal guiding fund for district S&T", "estimated: the 2021 municipal decision added 10亿/yr of city-level S&T money (policy_timeline 2021-05-17); the fund's own size is not published", 0, 200,
                             lever=Lever("年度预算", "annual budget (亿元/yr)", 0.0, "the budget itself, 亿元/yr", (0, 50, 0.5), (5.0, 30.0),
                                         money=lambda p, ctx: p.guiding_fund.annual_budget,
                                         check=Check("rd_expenditure", {"guiding_fund.annual_budget": 60.0}),
                                         optimise=(0.0, 40.0, 0.5)))
    allocation: str = P("mix", "rule", "how the budget is split across the 38 districts", "seed §(二十五); the rule itself is a scenario choice", choices=ALLOCATION_RULES,
                        lever=Lever("分配规则", "allocation rule", KEEP, SPLIT, study=ALLOCATION_RULES, optimise=ALLOCATION_RULES))
    mix: MixWeightsParams = field(default_factory=MixWeightsParams, metadata=dict(doc="weights of the 'mix' rule"))
    share_rd_subsidy: float = P(0.45, "share", "share spent on ex-post R&D subsidies proportional to firms' R&D", "estimated: the 2021 decision switched firm support to ex-post subsidy proportional to R&D (policy_timeline 2021-05-17)", 0, 1,
                                lever=Lever("研发补助占比", "share to R&D subsidies", KEEP, SPLIT, SHARES, (0.2, 0.7), optimise=(0.2, 0.7, 0.05)))
    share_platforms: float = P(0.25, "share", "share spent on characteristic platforms (一区一平台)", "estimated", 0, 1,
                               lever=Lever("平台占比", "share to platforms", KEEP, SPLIT, SHARES, optimise=(0.1, 0.6, 0.05)))
    share_incubators: float = P(0.15, "share", "share spent on incubators and maker spaces", "estimated", 0, 1,
                                lever=Lever("孵化器占比", "share to incubators", KEEP, SPLIT, SHARES))
    share_talent: float = P(0.15, "share", "share spent on talent (英才计划, S&T commissioners)", "estimated", 0, 1,
                            lever=Lever("人才占比", "share to talent", KEEP, SPLIT, SHARES))


@dataclass(frozen=True)
class DistrictBudgetParams:
    own_programme_share: float = P(0.25, "share", "share of a district's own fiscal S&T spending that goes to the four programmes (subsidy, platform, incubator, talent), the rest being institutions' running costs", "estimated", 0, 1,
                                   lever=Lever("区县自有资金用于项目的比例", "own money to programmes", 0.0,
                                               "districts' own money put into the programmes, 亿元/yr (grows with own_budget_growth)", SHARES, (0.1, 0.5), money=_own_money,
                                               optimise=(0.0, 0.6, 0.05)))
    own_budget_growth: float = P(0.068, "1/yr", "yearly growth of districts' own fiscal S&T spending", "verified: local fiscal S&T spending grew 6.8 % in 2022 (city_history fiscal_st_spending)", -0.5, 1.0,
                                 lever=Lever("区县科技支出年增长", "own S&T budget growth (/yr)", KEEP,
                                             "counted in district_budget.own_programme_share's money", (-0.1, 0.3, 0.01)))


@dataclass(frozen=True)
class CultivationParams:
    """The enterprise cultivation chain and its national tax incentive."""

    super_deduction: float = P(1.0, "share", "R&D super-deduction rate from 2023 (1.0 = 200 % deduction)", "verified: 财政部 税务总局公告2023年第7号, 100 % for all eligible firms (policy_timeline)", 0, 2,
                               lever=Lever("研发费用加计扣除比例", "R&D super-deduction rate", KEEP,
                                           "none municipal: a national tax rule; the tax it forgoes is the state's, not the city's", (0, 2, 0.05), (0.5, 1.5),
                                           check=Check("rd_expenditure", {"cultivation.super_deduction": 1.0}, low={"cultivation.super_deduction": 0.0})))
    super_deduction_2022_sme: float = P(1.0, "share", "rate in force in 2022 for registered tech-based SMEs (the reference of the R&D cost)", "verified: 公告2022年第16号", 0, 2)
    candidate_list_size: float = P(0.05, "share", "share of a district's registered, not yet certified firms on its candidate list (清单式管理)", "estimated: seed §(十二) asks districts to list firms; list sizes are not published", 0, 1,
                                   lever=Lever("培育清单比例", "candidate list share", 0.0, UNPRICED.format("districts' listing work"), (0, 0.5, 0.01), (0.0, 0.2),
                                               check=Check("high_tech_enterprises", {"cultivation.candidate_list_size": 0.5, "cultivation.candidate_list_boost": 2.5})))
    candidate_list_boost: float = P(1.5, "x", "multiplier on the yearly certification-application odds of listed firms", "estimated", 1, 10,
                                    lever=Lever("清单企业申报倍数", "listed firms' application boost (×)", KEEP, UNPRICED.format("coaching listed firms"), (1, 5, 0.1), (1.0, 3.0)))
    coaching_registration_boost: float = P(0.5, "x", "extra registration push (relative to the base external rate p) from district cultivation work and annual targets (目标管理绩效考核)", "estimated", 0, 10,
                                           lever=Lever("入库辅导力度", "registration coaching boost (×)", 0.0, UNPRICED.format("districts' coaching work"), (0, 5, 0.1), (0.0, 1.5),
                                                       check=Check("tech_enterprises", {"cultivation.coaching_registration_boost": 3.0})))
    certification_windows: tuple = P((2, 4), "quarters", "quarters in which high-tech certification batches are decided", "estimated: two batches a year is common practice (policy_timeline: unverified)")
    validity_years: int = P(3, "yr", "validity of a high-tech certificate", "verified: 国科发火〔2016〕32号", 1, 10)
    list_patent_weight: float = P(0.1, "per log(1+patents)", "weight of a firm's patents, beside its R&D against the certification threshold, in a district's ranking of firms for its candidate list", "estimated: R&D intensity is the binding certification criterion, IP a secondary one", 0, 10)


@dataclass(frozen=True)
class ConsortiaParams:
    enabled: bool = P(True, "bool", "innovation consortia led by the five leading firms (创新联合体)", "seed §(十三)",
                      lever=Lever("创新联合体", "innovation consortia on", False, UNPRICED.format("the firms' own consortium money")))
    links_per_leader: float = P(60.0, "links/yr", "new consortium links a leading firm forms per year with suppliers and universities", "estimated", 0, 10000,
                                lever=Lever("每家龙头企业年新增合作", "links per leading firm (/yr)", KEEP, UNPRICED.format("the firms' own consortium money"), (0, 500, 10), (0.0, 200.0),
                                            check=Check("consortium_reach", {"consortia.links_per_leader": 400.0}, low={"consortia.enabled": False})))


@dataclass(frozen=True)
class PairedParams:
    enabled: bool = P(True, "bool", "paired assistance 对口协同 between metropolitan districts and cluster counties", "seed §(二十二); pairs in sim/data/paired_assistance.csv",
                      lever=Lever("对口协同", "paired assistance on", False, "none new: moves partners' money to their counties (see paired.support_per_pair)"))
    intensity: float = P(1.0, "x", "strength of the pairing: scales cross-pair link formation (a pair's link share is capped at 0.3 of new links, sim/programmes/paired.py), support transfers and the enclave parks' share of county entrants", "estimated (1 = the 2021–22 level)", 0, 10,
                         lever=Lever("协同强度", "pairing intensity (×)", KEEP, "none new: scales the transfers between paired districts", (0, 5, 0.1), (0.0, 3.0),
                                     check=Check("core_cluster_link_share", {"paired.intensity": 4.0}, low={"paired.enabled": False})))
    support_per_pair: float = P(0.18, "100m_yuan/yr", "support money a partner district transfers to its county each year at intensity 1", "derived: 4.24亿 in place by Nov 2021 (policy_parameters paired_support_funds) / 24 pairs ≈ 0.18亿 per pair-year", 0, 100,
                                lever=Lever("每对帮扶资金", "support per pair (亿元/yr)", KEEP, "none new: a transfer from the partner district's programme money to its county's", (0, 2, 0.02), (0.0, 0.5)))
    cross_link_share: float = P(0.04, "share", "share of new firm links drawn to the paired district at intensity 1", "estimated", 0, 1)
    enclave_share: float = P(0.05, "share", "share of a county's new firms set up in enclave parks (飞地建园) of its partner, benefiting from the partner's environment", "estimated", 0, 1,
                             lever=Lever("飞地园区新企业占比", "enclave-park share of new county firms", KEEP, UNPRICED.format("enclave-park land and building"), (0, 0.5, 0.01)))
    sichuan_chongqing: float = P(1.0, "x", "strength of Sichuan–Chongqing border cooperation (川渝毗邻) for border districts", "estimated", 0, 10,
                                 lever=Lever("川渝毗邻合作", "Sichuan–Chongqing cooperation (×)", 0.0, UNPRICED.format("cross-border cooperation"), (0, 5, 0.1)))
    sichuan_chongqing_link_share: float = P(0.03, "share", "share of a border district's new firm links drawn across the Sichuan border cooperation at strength 1", "estimated", 0, 1)


@dataclass(frozen=True)
class FinanceParams:
    fund_of_funds_size: float = P(20.0, "100m_yuan", "committed capital of the municipal S&T cultivation fund-of-funds (科创培育基金) with district sub-funds", "estimated: the seed/angel/VC guidance funds were 10亿 each (policy_timeline 2018-04-02)", 0, 1000,
                                  lever=Lever("科创培育基金规模", "fund-of-funds size (亿元)", 0.0, "capital called from the public side, 亿元/yr (size × call rate until all is called)", (0, 200, 5), (0.0, 60.0),
                                              money=_called_capital,
                                              check=Check("listed_enterprises", {"finance.fund_of_funds_size": 400.0, "finance.capital_call_per_year": 0.5}, steps=12),
                                              optimise=(0.0, 60.0, 5.0)))
    capital_call_per_year: float = P(0.2, "share/yr", "share of committed capital called per year", "estimated", 0, 1)
    ticket: float = P(5.0, "million_yuan", "equity ticket per young firm", "estimated", 0.1, 1000)
    max_age_years: float = P(5.0, "yr", "the 'first kilometre': oldest firm age eligible for equity", "estimated from seed §(十七)", 0, 50)
    exit_multiple: float = P(3.0, "x", "proceeds per yuan invested when a portfolio firm lists", "estimated", 0, 100)
    credit_annual_lending: float = P(72.0, "100m_yuan/yr", "knowledge-value credit lending per year (知识价值信用贷款)", "derived: (223.5 − 133.78)亿 over Oct 2020–Dec 2021, annualised = 71.8亿/yr (policy_parameters kv_loan_annual_flow_2021_approx)", 0, 10000,
                                     lever=Lever("知识价值信用贷款年投放", "knowledge-value lending (亿元/yr)", 0.0, "none new: banks lend their own money; the public side pays through the risk pool (finance.risk_pool_topup)", (0, 300, 5), (30.0, 150.0),
                                                 check=Check("high_tech_enterprises", {"finance.credit_annual_lending": 400.0}, steps=12)))
    loan_size: float = P(2.38, "million_yuan", "average knowledge-value loan", "verified: 20.1亿 to 844 firms = 238.2万 per firm (policy_timeline 2019-07-04)", 0.1, 100)
    loan_term_quarters: int = P(4, "quarters", "loan term", "estimated: one-year credit lines", 1, 40)
    risk_pool_initial: float = P(31.0, "100m_yuan", "risk-compensation pool at start", "verified: risk fund 31亿 (policy_timeline 2019-07-04)", 0, 10000,
                                 lever=Lever("风险补偿资金池", "risk pool at start (亿元)", KEEP, "none new: the pool's money is in place at the start", (0, 100, 1)))
    risk_pool_topup: float = P(2.0, "100m_yuan/yr", "yearly fiscal top-up of the risk pool", "estimated", 0, 1000,
                               lever=Lever("资金池年补充", "risk pool top-up (亿元/yr)", KEEP, "the top-up itself, 亿元/yr", (0, 20, 0.5),
                                           money=lambda p, ctx: p.finance.risk_pool_topup, optimise=(0.0, 10.0, 0.5)))
    compensation_share: float = P(0.8, "share", "share of defaulted principal the pool compensates", "verified: 80 % (policy_timeline, risk-sharing rule)", 0, 1)
    city_share_of_pool: float = P(0.4, "share", "city's share of pool funding (districts the rest)", "verified: city:district 4:6 (policy_timeline)", 0, 1)
    financed_exit_ratio: float = P(0.7, "x", "exit hazard of a firm holding a loan or equity, relative to one without", "estimated: lenders and funds screen for survivors and carry firms through bad quarters", 0, 1)


@dataclass(frozen=True)
class TalentParams:
    effect: float = P(10.0, "x per (million yuan per firm)", "absorptive-capacity gain per million yuan of talent spending per registered firm in the district", "estimated", 0, 100)
    commissioners: float = P(1.0, "x", "scale of S&T commissioners sent to counties (科技特派员; 1 = 2020 level, 3,448 person-times)", "verified level: 科技日报 2021-03-31; effect estimated", 0, 10,
                             lever=Lever("科技特派员规模", "S&T commissioners (× 2020 level)", 0.0, UNPRICED.format("commissioners' time"), (0, 5, 0.1), (0.0, 3.0),
                                         check=Check("knowledge_absorbed_q", {"talent.commissioners": 5.0, "guiding_fund.share_talent": 0.15},
                                                     low={"talent.commissioners": 0.0, "guiding_fund.share_talent": 0.0}, steps=12, scale=0.1)))
    commissioner_effect: float = P(0.1, "x per unit", "absorptive-capacity gain of county firms per unit of commissioners (the 2020 level)", "estimated: a tenth of a firm's own absorptive capacity at the 2020 level", 0, 10)


@dataclass(frozen=True)
class PlatformsParams:
    programme: bool = P(True, "bool", "the 一区一平台 platform programme is active", "seed §(七)",
                        lever=Lever("一区一平台", "platform programme on", False, SPLIT,
                                    check=Check("districts_with_platform", {"platforms.programme": True, "platforms.cost": 0.3})))
    cost: float = P(1.5, "100m_yuan", "cumulative spending that completes a characteristic platform", "estimated", 0.01, 1000,
                    lever=Lever("平台建成所需投入", "cost of a platform (亿元)", KEEP, SPLIT, (0.1, 5, 0.1), (0.75, 3.0)))
    zone_upgrades: tuple = Adcodes(("500151", "500152", "500102", "500111", "500117", "500110"), "districts", "municipal high-tech zones that reach national status (铜梁, 潼南, 涪陵, 大足, 合川, 綦江, named in seed §(七))", "seed §(七); the upgrade year is a scenario choice",
                             lever=Lever("升级为国家级的高新区", "zones upgraded to national", (), UNPRICED.format("zone building"),
                                         check=Check("hightech_zone_output_share", {"platforms.zone_upgrade_year": 2023})))
    zone_upgrade_year: int = P(2025, "yr", "year by whose end the listed zones are national (firms join them, the zone share of their district rises)", "estimated", 2023, 2100,
                               lever=Lever("升级年份", "upgrade year", KEEP, UNPRICED.format("zone building"), (2023, 2030, 1)))
    scenario_pull: float = P(0.01, "1/yr", "extra revenue growth of firms in directions with application scenarios (AI, industrial internet, smart city, ecology: 场景应用, seed §(十四))", "estimated", 0, 1,
                             lever=Lever("场景应用拉动", "application-scenario pull (/yr)", 0.0, UNPRICED.format("scenario procurement"), (0, 0.1, 0.005), (0.0, 0.03),
                                         check=Check("rd_expenditure", {"platforms.scenario_pull": 0.1})))
    incubator_cost: float = P(0.5, "million_yuan per entrant", "incubator spending per additional new firm per year", "estimated", 0.01, 1000)
    building_progress: float = P(0.5, "share", "share of a platform's cost already spent at the start where the district's only platform is under construction (platforms.csv stage under_construction: 渝中软件产业园, 云阳小江科创城)", "estimated: 'being built' read as half-way", 0, 1)
    absorption_boost: float = P(0.2, "x", "absorptive-capacity gain of firms in a district with a characteristic platform", "estimated: shared equipment and services, a fifth of a firm's own capacity", 0, 10)


@dataclass(frozen=True)
class TransferParams:
    projects_per_100m_research: float = P(4.0, "projects/yr per 100m_yuan", "transfer projects started per 亿元 of university/institute research per year", "estimated", 0, 1000,
                                          lever=Lever("每亿元科研转化项目", "transfer projects per 亿元 research", 0.0, UNPRICED.format("the transfer chain's services"), (0, 20, 0.5)))
    stage_success: tuple = P((0.5, 0.5, 0.6), "prob", "success probability of proof of concept, pilot, demonstration (概念验证→小试中试→示范推广), one stage per year", "estimated", 0, 1)
    branch_share: float = P(0.15, "share", "share of spin-offs placed through branch centres in the two clusters", "estimated from seed §(九)", 0, 1,
                            lever=Lever("分中心落地两群比例", "spin-offs via branch centres", KEEP, UNPRICED.format("branch centres"), (0, 1, 0.05)))
    spinoff_rd_ratio: float = P(1.5, "x", "R&D intensity of a spin-off relative to an ordinary entrant", "estimated: spin-offs commercialise research and start registered", 0.1, 10)
    spinoff_knowledge_ratio: float = P(2.0, "x", "knowledge stock of a spin-off relative to an ordinary entrant with the same R&D", "estimated: they carry the project's know-how", 0.1, 10)


# The direction check runs at a known list (in 2023, of two): with the list's year and size
# drawn, a few replicates would compare two runs without any list.
KNOWN_LIST = {"innovative_county.batch_year_spread": 0, "innovative_county.quota_mean": 0, "innovative_county.quota": 2}


@dataclass(frozen=True)
class InnovativeCountyParams:
    support: bool = P(True, "bool", "the city recommends counties for the national innovative-county list (seed §(七) '支持…创建国家创新型县')", "seed §(七)",
                      lever=Lever("支持创建创新型县", "innovative-county support on", False, UNPRICED.format("the city's support work"),
                                  check=Check("new_innovative_counties_listed", {"innovative_county.support": True, **KNOWN_LIST},
                                              low={"innovative_county.support": False, **KNOWN_LIST})))
    candidates: tuple = Adcodes(("500233", "500230"), "counties", "counties the city recommends first when the ministry calls for a list (忠县, 丰都)", "seed §(七) names them")
    batch_year: int = P(2023, "yr", "earliest year from the start in which the ministry publishes its next national construction list", "estimated: the first list (2018-11) came a year after 国办发〔2017〕43号 and its acceptance ended in 2022 (cq.cri.cn 2022-08-31); no call for a second list had been published by the end of 2022, so the next one comes the year after at the earliest", 2018, 2100)
    batch_year_spread: int = P(3, "yr", "the next list comes in a year drawn uniformly from batch_year to batch_year + spread in each replicate (0: in batch_year)", "estimated: the timing of the next call is unknown at the end of 2022; the spread covers the rest of the 14th five-year plan (to 2025) and one year more", 0, 20)
    batch_interval: int = P(5, "yr", "years between two national lists", "estimated: one list per five-year plan (the first in 2018)", 1, 50)
    quota: int = P(3, "counties", "most Chongqing counties a national list takes in", "estimated: the seed names two candidates '等' (§(七)); one more ready county allowed", 0, 12)
    quota_mean: float = P(1.7, "counties", "mean of the Poisson number of Chongqing counties a list takes in, drawn for each list and capped at quota (0: exactly quota)", "estimated: the first list took 52 counties for 31 provinces, ≈1.7 a province (Chongqing 1, 奉节)", 0, 12)
    list_rd_intensity_min: float = P(0.4, "pct_gdp", "county R&D intensity the ministry's review requires for listing", "derived: 奉节 was listed in 2018 at ≈0.42 % (R&D 1.195亿, cq.cri.cn 2022-08-31; GDP ≈ 286亿 estimated from hindcast_2017.csv × city growth)", 0, 10)
    construction_years: int = P(3, "yr", "construction cycle after listing", "verified: 奉节 '创建周期为三年' (cq.cri.cn 2022-08-31)", 1, 10)
    acceptance_lag: int = P(1, "yr", "years from the end of construction to the published acceptance", "derived: 奉节 listed 2018-11, built 2019–2021, passed 2022 (cq.cri.cn 2022-08-31)", 0, 5)
    rd_intensity_min: float = P(0.7, "pct_gdp", "county R&D intensity required at acceptance", "derived: 奉节 reached ≈0.70 % in 2021 (R&D 2.701亿, cq.cri.cn 2022-08-31; GDP ≈ 386亿 estimated) and passed", 0, 10)
    rd_growth_min: float = P(0.10, "1/yr", "county R&D growth per year from listing to acceptance required to pass", "estimated: the policy's T3 rate (奉节 grew ≈31 %/yr over 2018–2021)", -1, 5)
    already_passed: tuple = Adcodes(("500236",), "districts", "counties already accepted at the start", "verified: 奉节 passed in 2022 (city_history)")


@dataclass(frozen=True)
class EvaluationParams:
    weights: tuple = P((0.295, 0.197, 0.305, 0.143, 0.06), "share", "weights of environment, input, output, high-tech industrialisation, economic contribution", "derived: fitted to the published 2022 tiers and city index (sim/data/evaluation_fit.toml, tools/data/fit_evaluation.py); the report's weights are not published")
    exponents: tuple = P((0.166, 0.129, 0.833, 1.413, 0.515, 0.172, 1.499, 0.8, 0.051), "x", "elasticity of each indicator's score to its ratio to the city value (programmes/evaluation.py INDICATORS order); below 1 compresses the spread", "derived: fitted with the weights (sim/data/evaluation_fit.toml)")
    city_dimension_scores: tuple = P((68.16, 62.21, 76.27, 74.95, 72.63), "pct", "the city's score on each dimension at the start; with the weights they make the city index (70.70 in 2022)", "verified: 重庆科技创新指数报告2023 (2022 data), 重庆日报 2023-12-21 (td.fyun.cc mirror): 环境68.16% 投入62.21% 产出76.27% 高新技术产业化74.95% 科技促进经济发展72.63%, 综合70.70%")
    competitive_feedback: bool = P(True, "bool", "the yearly evaluation feeds the competitive share of the guiding fund", "seed §(二十五)",
                                   lever=Lever("评价结果用于竞争性分配", "evaluation feeds competitive split", False, SPLIT))


