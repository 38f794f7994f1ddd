"""The app's levers and the configuration they edit: which policy levers there are, how each is
labelled and bounded on its slider, and the scenario-plus-changes a Reset builds a model from."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

from . import scenarios
from .params import Params, describe
from .targets import POLICY_2025, Target

DEFAULT_SCALE = 0.1   # 1 simulated firm per 10: a step and its redraw stay well under 0.5 s
SCALES = {0.1: "0.1 快速 fast (1 simulated firm per 10 real ones)",
          1.0: "1.0 全量 full scale: every firm, slower (about 3x the time per step)"}
RULE_NAMES = {"equal": "均分", "gdp": "按GDP", "need": "按需要(研发强度低者多得)", "competitive": "竞争性(按评价)",
              "mix": "混合"}

SECTIONS = {
    "guiding_fund": "引导资金 Guiding fund", "district_budget": "区县预算 District budgets",
    "cultivation": "企业培育 Enterprise cultivation", "consortia": "创新联合体 Innovation consortia",
    "paired": "对口协同 Paired assistance", "finance": "科技金融 Finance", "talent": "人才 Talent",
    "platforms": "平台与高新区 Platforms and zones", "transfer": "成果转化 Technology transfer",
    "innovative_county": "创新型县 Innovative counties", "evaluation": "评价 Evaluation",
}
# key: (Chinese, English, slider min, slider max, step). Ranges are what a planner plausibly
# tries; Params itself allows more, and a scenario value outside widens the slider.
LEVERS = {
    "guiding_fund.annual_budget": ("年度预算", "annual budget (亿元/yr)", 0, 50, 0.5),
    "guiding_fund.allocation": ("分配规则", "allocation rule", None, None, None),
    "guiding_fund.mix.equal": ("混合: 均分", "mix weight: equal", 0, 1, 0.05),
    "guiding_fund.mix.gdp": ("混合: 按GDP", "mix weight: by GDP", 0, 1, 0.05),
    "guiding_fund.mix.need": ("混合: 按需要", "mix weight: by need", 0, 1, 0.05),
    "guiding_fund.mix.competitive": ("混合: 竞争性", "mix weight: competitive", 0, 1, 0.05),
    "guiding_fund.share_rd_subsidy": ("研发补助占比", "share to R&D subsidies", 0, 1, 0.05),
    "guiding_fund.share_platforms": ("平台占比", "share to platforms", 0, 1, 0.05),
    "guiding_fund.share_incubators": ("孵化器占比", "share to incubators", 0, 1, 0.05),
    "guiding_fund.share_talent": ("人才占比", "share to talent", 0, 1, 0.05),
    "district_budget.own_programme_share": ("区县自有资金用于项目的比例", "own money to programmes", 0, 1, 0.05),
    "district_budget.own_budget_growth": ("区县科技支出年增长", "own S&T budget growth (/yr)", -0.1, 0.3, 0.01),
    "cultivation.super_deduction": ("研发费用加计扣除比例", "R&D super-deduction rate", 0, 2, 0.05),
    "cultivation.candidate_list_size": ("培育清单比例", "candidate list share", 0, 0.5, 0.01),
    "cultivation.candidate_list_boost": ("清单企业申报倍数", "listed firms' application boost (×)", 1, 5, 0.1),
    "cultivation.coaching_registration_boost": ("入库辅导力度", "registration coaching boost (×)", 0, 5, 0.1),
    "consortia.enabled": ("创新联合体", "innovation consortia on", None, None, None),
    "consortia.links_per_leader": ("每家龙头企业年新增合作", "links per leading firm (/yr)", 0, 500, 10),
    "paired.enabled": ("对口协同", "paired assistance on", None, None, None),
    "paired.intensity": ("协同强度", "pairing intensity (×)", 0, 5, 0.1),
    "paired.support_per_pair": ("每对帮扶资金", "support per pair (亿元/yr)", 0, 2, 0.02),
    "paired.enclave_share": ("飞地园区新企业占比", "enclave-park share of new county firms", 0, 0.5, 0.01),
    "paired.sichuan_chongqing": ("川渝毗邻合作", "Sichuan–Chongqing cooperation (×)", 0, 5, 0.1),
    "finance.fund_of_funds_size": ("科创培育基金规模", "fund-of-funds size (亿元)", 0, 200, 5),
    "finance.credit_annual_lending": ("知识价值信用贷款年投放", "knowledge-value lending (亿元/yr)", 0, 300, 5),
    "finance.risk_pool_initial": ("风险补偿资金池", "risk pool at start (亿元)", 0, 100, 1),
    "finance.risk_pool_topup": ("资金池年补充", "risk pool top-up (亿元/yr)", 0, 20, 0.5),
    "talent.commissioners": ("科技特派员规模", "S&T commissioners (× 2020 level)", 0, 5, 0.1),
    "platforms.programme": ("一区一平台", "platform programme on", None, None, None),
    "platforms.cost": ("平台建成所需投入", "cost of a platform (亿元)", 0.1, 5, 0.1),
    "platforms.zone_upgrades": ("升级为国家级的高新区", "zones upgraded to national", None, None, None),
    "platforms.zone_upgrade_year": ("升级年份", "upgrade year", 2023, 2030, 1),
    "platforms.scenario_pull": ("场景应用拉动", "application-scenario pull (/yr)", 0, 0.1, 0.005),
    "transfer.projects_per_100m_research": ("每亿元科研转化项目", "transfer projects per 亿元 research", 0, 20, 0.5),
    "transfer.branch_share": ("分中心落地两群比例", "spin-offs via branch centres", 0, 1, 0.05),
    "innovative_county.support": ("支持创建创新型县", "innovative-county support on", None, None, None),
    "evaluation.competitive_feedback": ("评价结果用于竞争性分配", "evaluation feeds competitive split", None, None, None),
}


def lever_keys(params: Params | None = None) -> list[str]:
    """Every policy lever of the model: the fields marked ``lever`` and the weights of the 'mix' rule."""
    rows = describe(params)
    return [r["key"] for r in rows if r["lever"] or r["key"].startswith("guiding_fund.mix.")]


def get_value(params: Params, key: str):
    obj = params
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def lever_label(key: str) -> str:
    zh, en = LEVERS[key][:2] if key in LEVERS else ("", key)
    return f"{zh} {en}".strip()


@dataclass(frozen=True)
class AppConfig:
    """What a Reset builds: a scenario's parameters with the user's lever changes."""

    scenario: str
    description: str
    scenario_params: Params          # as the scenario file sets them: levers are compared to these
    params: Params
    seed: int = 42
    until: int = 2025
    targets: tuple[Target, ...] = POLICY_2025
    scale: float = DEFAULT_SCALE
    file: str = ""

    @classmethod
    def from_scenario(cls, ref, scale: float = DEFAULT_SCALE) -> "AppConfig":
        s = scenarios.load(ref)
        return cls(s.name, s.description, s.params, s.params, s.seed, s.until, s.targets, scale, s.file)

    def with_lever(self, key: str, value) -> "AppConfig":
        params = self.params.with_overrides(**{key.replace(".", "__"): value})
        return dataclasses.replace(self, params=params)

    def changed_levers(self) -> list[tuple[str, object]]:
        return [(k, get_value(self.params, k)) for k in lever_keys(self.params)
                if get_value(self.params, k) != get_value(self.scenario_params, k)]


@lru_cache(maxsize=1)
def default_config() -> AppConfig:
    return AppConfig.from_scenario("baseline")
