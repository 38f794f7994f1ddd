"""Parts of the browser app (``sim/app.py``): the app's model, the district map with the
collaboration network, the target charts, the scoreboard, the district panel and the lever and
scenario controls.

Everything drawn per step is plain SVG or HTML built here in a few milliseconds: a matplotlib
figure of the same charts takes about 0.4 s to render on a 2-core machine, which alone would
break the half-second budget of a step and its redraw. The map is a Vue template so that a
click on a district reaches Python; its shapes are sent once per page, only colours, tooltips
and links travel with each step.
"""

from __future__ import annotations

import dataclasses
import html
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ipyvuetify as v
import numpy as np
import solara
import traitlets
from matplotlib import colormaps
from matplotlib.colors import to_hex
from mesa.visualization.utils import update_counter

from . import datasets, scenarios
from .firms import STATUS_NAMES
from .model import InnovationModel
from .params import ALLOCATION_RULES, Params, ParamError, describe
from .targets import POLICY_2025, RD_GROWTH_TARGET, Target

DEFAULT_SCALE = 0.1   # 1 simulated firm per 10: a step and its redraw stay well under 0.5 s
SCALES = {0.1: "0.1 快速 fast (1 simulated firm per 10 real ones)",
          1.0: "1.0 全量 full scale: every firm, slower (about 3x the time per step)"}
TOP_LINKS = 120       # strongest district pairs drawn; paired-assistance pairs are always drawn

GROUPS = {"central_urban": "中心城区 Central urban", "new_metropolitan": "主城新区 New metropolitan",
          "northeast": "渝东北三峡库区城镇群 Northeast (Three Gorges) cluster",
          "southeast": "渝东南武陵山区城镇群 Southeast (Wuling) cluster"}

MAP_INDICATORS = {
    "tech_per_10k": "每万人科技型企业 Tech-based SMEs per 10,000 people",
    "high_tech_enterprises": "高新技术企业 High-tech enterprises",
    "rd_intensity": "研发投入强度 R&D intensity (% of GDP)",
    "tier": "评价档次 Evaluation tier",
}
RULE_NAMES = {"equal": "均分", "gdp": "按GDP", "need": "按需要(研发强度低者多得)", "competitive": "竞争性(按评价)",
              "mix": "混合"}
TIER_COLOURS = {1: "#2b8a3e", 2: "#f2c14e", 3: "#e8590c"}
TIER_NAMES = {1: "1 高于全市平均 above city average", 2: "2 平均至后30% average to bottom 30 %",
              3: "3 后30% bottom 30 %"}
PALETTE = [to_hex(c) for c in colormaps["YlGnBu"](np.linspace(0.08, 0.95, 64))]

# Chart titles of the indicators a target set can use (sim/data/targets.toml).
INDICATOR_LABELS = {
    "tech_enterprises": "科技型企业 Tech-based SMEs",
    "high_tech_enterprises": "高新技术企业 High-tech enterprises",
    "districts_rd_cagr_10": "研发年均增长≥10%的区县 Districts with R&D growth ≥ 10 %/yr",
    "hightech_zone_output_share": "高新区工业产值占比 High-tech zones' share of industrial output",
    "new_innovative_counties": "新增国家创新型县 New national innovative counties",
    "districts_with_platform": "建成特色平台的区县 Districts with a characteristic platform",
}
# Indicators that are already a rate over the whole period: on track means meeting it so far.
RATE_INDICATORS = {"districts_rd_cagr_10"}
STATUS = {"met": ("已达标 met", "#2b8a3e"), "on_track": ("进度正常 on track", "#1971c2"),
          "off_track": ("进度滞后 off track", "#e8590c"), "pending": ("待观测 no growth yet", "#868e96")}
ON_TRACK_RULE = ("进度正常 on track: the value is at or above the straight line from its end-2022 value to the "
                 "target at the end of the target year (T3, a growth rate already: annualised R&D growth so far "
                 "≥ 10 % in enough districts; nothing to measure before the first quarter). 已达标 met: at or "
                 "above the target now, or at the end of the target year once it has passed.")

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


# ------------------------------------------------------------------------------------------
# The app's model
# ------------------------------------------------------------------------------------------
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


class AppModel(InnovationModel):
    """The model as the app runs it: built from an :class:`AppConfig` (or a reactive holding
    one, so that SolaraViz's Reset picks up the levers as they are now), stopping at the
    scenario's horizon, and keeping each district's R&D per step for target T3."""

    def __init__(self, config: AppConfig | solara.Reactive | None = None):
        cfg = getattr(config, "value", config) or default_config()
        super().__init__(params=cfg.params, seed=cfg.seed, scale=cfg.scale)
        self.config = cfg
        self._cache = {}
        self.rd_track = [np.array([d.rd for d in self.district_list])]
        G = self.graph
        strengths = _district_links(self, G)[0]
        self.link_reference = max(strengths.max(), 1e-9)
        self.map_reference = {k: max(float(np.max(_indicator(self, k))), 1e-9) * 1.5 for k in MAP_INDICATORS}

    def per_step(self, name: str, compute):
        """``compute(self)`` once per step: several views need the same numbers."""
        key = (name, self.steps)
        if key not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if k[1] == self.steps}
            self._cache[key] = compute(self)
        return self._cache[key]

    def step(self):
        super().step()
        self.rd_track.append(np.array([d.rd for d in self.district_list]))
        if self.quarter == 4 and self.year >= self.config.until:
            self.running = False


# ------------------------------------------------------------------------------------------
# Numbers behind the views
# ------------------------------------------------------------------------------------------
def _indicator(model, key) -> np.ndarray:
    return np.array([float(getattr(d, key)) for d in model.district_list])


def _district_links(model, G=None):
    """District × district collaboration strength (real-firm link equivalents): firm links
    between districts, plus university links credited to the university's district. A leading
    firm's links are firm links already, so its node in the graph is left out."""
    G = model.graph if G is None else G
    n = model.n_districts
    M = np.zeros((n, n))
    paired = np.zeros((n, n), bool)
    host = {node: data["index"] if data["kind"] == "district" else data["district"]
            for node, data in G.nodes(data=True) if data["kind"] != "leader"}
    for a, b, data in G.edges(data=True):
        if a not in host or b not in host:
            continue
        i, j = host[a], host[b]
        if i != j:
            M[i, j] += data["weight"]
            M[j, i] += data["weight"]
    if model.params.paired.enabled:     # the pairs are data; they are links only while the lever is on
        for a, b in model.paired_pairs:
            paired[a, b] = paired[b, a] = True
    return M / model.params.scale, paired


def indicator_series(model, indicator: str) -> np.ndarray:
    """A target indicator at every step so far."""
    if indicator == "districts_rd_cagr_10":
        rd0 = model.rd_track[0]
        out = [0.0]
        for t, rd in enumerate(model.rd_track[1:], start=1):
            cagr = (rd / np.maximum(rd0, 1e-12)) ** (4.0 / t) - 1
            out.append(float(np.sum(cagr >= RD_GROWTH_TARGET)))
        return np.array(out)
    frame = model.per_step("city", lambda m: m.datacollector.get_model_vars_dataframe())
    return frame[indicator].to_numpy(float)


def target_status(values: np.ndarray, target: Target, start_year: int) -> str:
    """met / on_track / off_track; the rule is ON_TRACK_RULE."""
    span = target.year - start_year
    now = (len(values) - 1) / 4
    if now >= span:
        return "met" if values[int(round(span * 4))] >= target.threshold else "off_track"
    if target.indicator in RATE_INDICATORS:
        if now == 0:
            return "pending"
        return "on_track" if values[-1] >= target.threshold else "off_track"
    if values[-1] >= target.threshold:
        return "met"
    path = values[0] + (target.threshold - values[0]) * now / span
    return "on_track" if values[-1] >= path - 1e-9 else "off_track"


def district_status_counts(model, index: int) -> dict[str, float]:
    pop = model.firms
    status = pop.status()
    mine = pop.col("district") == index
    w = pop.col("weight")
    return {STATUS_NAMES[s]: float(w[mine & (status == s)].sum()) for s in range(len(STATUS_NAMES))}


def _fmt(x: float, unit: str = "") -> str:
    if not np.isfinite(x):
        return "–"
    if unit == "%":
        return f"{x:.1f} %"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"


# ------------------------------------------------------------------------------------------
# Map geometry: projected once, shapes simplified to what a 1000-px drawing shows
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def map_geometry():
    gj = datasets.load_boundaries()
    dd = datasets.load_districts()
    lons, lats = [], []
    for f in gj["features"]:
        for poly in _polygons(f["geometry"]):
            for ring in poly:
                lons += [p[0] for p in ring]
                lats += [p[1] for p in ring]
    lat0 = math.radians((min(lats) + max(lats)) / 2)
    k = 1000.0 / ((max(lons) - min(lons)) * math.cos(lat0))
    lon_min, lat_max = min(lons), max(lats)

    def project(lon, lat):
        return (round((lon - lon_min) * math.cos(lat0) * k + 5, 1), round((lat_max - lat) * k + 5, 1))

    by_code = {str(f["properties"]["adcode"]): f for f in gj["features"]}
    paths, centres = [], {}
    for row in dd.itertuples(index=False):
        code = str(row.adcode)
        f = by_code[code]
        parts = []
        for poly in _polygons(f["geometry"]):
            for ring in poly:
                pts = [project(*p) for p in ring]
                kept = [pts[0]]
                for p in pts[1:]:
                    if abs(p[0] - kept[-1][0]) + abs(p[1] - kept[-1][1]) >= 1.5:
                        kept.append(p)
                if len(kept) >= 3:
                    parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in kept) + "Z")
        lx, ly = project(f["properties"]["rep_lon"], f["properties"]["rep_lat"])
        paths.append(dict(code=code, d="".join(parts), x=lx, y=ly + 4, label=row.short_zh))
        centres[code] = project(row.lon, row.lat)
    width = round((max(lons) - min(lons)) * math.cos(lat0) * k + 10)
    height = round((lat_max - min(lats)) * k + 10)
    return paths, centres, f"0 0 {width} {height}"


def _polygons(geom):
    return geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]


def colour_of(value: float, reference: float, indicator: str) -> str:
    if indicator == "tier":
        return TIER_COLOURS.get(int(value), "#cccccc")
    # A square-root scale: district counts span three orders of magnitude.
    x = math.sqrt(min(max(value, 0.0) / reference, 1.0))
    return PALETTE[min(int(x * len(PALETTE)), len(PALETTE) - 1)]


def map_layers(model, indicator: str):
    """Fills, tooltips and link segments of the map for the model's current state."""
    paths, centres, _ = map_geometry()
    ref = model.map_reference[indicator]
    fills, tips = [], []
    for d in model.district_list:
        value = float(getattr(d, indicator))
        fills.append(colour_of(value, ref, indicator))
        tips.append("\n".join([
            f"{d.name_zh} {d.name_pinyin} ({d.adcode})", GROUPS.get(d.group, d.group),
            f"科技型企业 Tech-based SMEs: {d.tech_enterprises:,.0f} ({d.tech_per_10k:.1f} 每万人 per 10k)",
            f"高新技术企业 High-tech enterprises: {d.high_tech_enterprises:,.0f}",
            f"研发 R&D: {d.rd:.2f} 亿元 ({d.rd_intensity:.2f} % of GDP)",
            f"评价档次 Tier: {d.tier}   指数 Index: {d.index_score:.1f}",
            f"特色平台 Platform: {'有 yes' if d.has_platform else '无 no'}",
            "点击查看详情 Click for details"]))
    M, paired = model.per_step("links", _district_links)
    codes = [str(d.adcode) for d in model.district_list]
    iu = np.triu_indices(len(codes), 1)
    strength = M[iu]
    order = np.argsort(-strength)
    keep = set(order[:TOP_LINKS][strength[order[:TOP_LINKS]] > 0]) | set(np.flatnonzero(paired[iu]))
    links = []
    for e in sorted(keep, key=lambda e: strength[e]):
        (x1, y1), (x2, y2) = centres[codes[iu[0][e]]], centres[codes[iu[1][e]]]
        width = 0.6 + 7.0 * math.sqrt(min(strength[e] / model.link_reference, 2.0))
        links.append([x1, y1, x2, y2, round(width, 2), bool(paired[iu][e])])
    return fills, tips, links


# ------------------------------------------------------------------------------------------
# SVG charts
# ------------------------------------------------------------------------------------------
def _nice_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    span = max(hi - lo, 1e-9)
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def chart_svg(target: Target, values: np.ndarray, start_year: int, horizon: int, status: str) -> str:
    """One target's indicator per quarter, the target line and the on-track path."""
    W, H, L, R, T, B = 340, 214, 52, 12, 46, 24
    span_x = max(horizon - start_year, (len(values) - 1) / 4, 1)
    v0, thr = float(values[0]), target.threshold
    lo = min(float(np.nanmin(values)), thr, v0)
    hi = max(float(np.nanmax(values)), thr)
    pad = (hi - lo) * 0.12 or max(abs(hi), 1) * 0.1
    lo = 0.0 if lo >= 0 and lo - pad < 0 else lo - pad
    hi += pad
    sx = lambda x: L + (W - L - R) * x / span_x  # noqa: E731
    sy = lambda y: T + (H - T - B) * (1 - (y - lo) / (hi - lo))  # noqa: E731
    out = [f'<svg class="target-chart" data-indicator="{target.indicator}" viewBox="0 0 {W} {H}" '
           f'width="100%" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="10">',
           f'<rect width="{W}" height="{H}" fill="#fff"/>']   # readable under the dark theme too
    zh, _, en = INDICATOR_LABELS.get(target.indicator, target.indicator).partition(" ")
    label, colour = STATUS[status]
    out.append(f'<text x="4" y="12" font-size="12" font-weight="bold">{html.escape(target.id)} {html.escape(zh)}</text>'
               f'<text x="4" y="25" fill="#444">{html.escape(en)}</text>'
               f'<text x="4" y="38" fill="{colour}">{label} · 目标 target ≥ {_fmt(thr)} {html.escape(target.unit)} '
               f'({target.year})</text>')
    for t in _nice_ticks(lo, hi):
        y = sy(t)
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
                   f'<text x="{L - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{_fmt(t)}</text>')
    for yr in range(int(span_x) + 1):
        x = sx(yr)
        out.append(f'<text x="{x:.1f}" y="{H - 8}" text-anchor="middle" fill="#555">{start_year + yr}</text>')
    xt = target.year - start_year
    if target.indicator not in RATE_INDICATORS:
        out.append(f'<line x1="{sx(0):.1f}" y1="{sy(v0):.1f}" x2="{sx(xt):.1f}" y2="{sy(thr):.1f}" '
                   f'stroke="#868e96" stroke-dasharray="2 3"><title>on-track path 进度线</title></line>')
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{sy(thr):.1f}" y2="{sy(thr):.1f}" stroke="#c92a2a" '
               f'stroke-dasharray="6 3"><title>target 目标 {_fmt(thr)}</title></line>'
               f'<line x1="{sx(xt):.1f}" x2="{sx(xt):.1f}" y1="{T}" y2="{H - B}" stroke="#c92a2a" stroke-opacity="0.3"/>')
    pts = " ".join(f"{sx(i / 4):.1f},{sy(y):.1f}" for i, y in enumerate(values))
    last_x, last_y = sx((len(values) - 1) / 4), sy(float(values[-1]))
    out.append(f'<polyline points="{pts}" fill="none" stroke="#1c3f6e" stroke-width="2"/>'
               f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="#1c3f6e"/>'
               f'<text x="{min(last_x + 4, W - 40):.1f}" y="{last_y - 5:.1f}" fill="#1c3f6e">'
               f'{_fmt(float(values[-1]))}</text>')
    out.append("</svg>")
    return "".join(out)


def legend_svg(indicator: str, reference: float) -> str:
    if indicator == "tier":
        items = "".join(f'<rect x="{x}" y="4" width="12" height="12" fill="{TIER_COLOURS[t]}"/>'
                        f'<text x="{x + 16}" y="14">{TIER_NAMES[t]}</text>' for x, t in zip((4, 220, 480), (1, 2, 3)))
        return (f'<svg viewBox="0 0 660 20" width="100%" font-size="11" font-family="sans-serif">'
                f'<rect width="660" height="20" fill="#fff"/>{items}</svg>')
    stops = "".join(f'<stop offset="{i / (len(PALETTE) - 1):.3f}" stop-color="{c}"/>' for i, c in enumerate(PALETTE[::8]))
    ticks = "".join(f'<text x="{10 + 300 * math.sqrt(f)}" y="30" text-anchor="middle">{_fmt(reference * f)}</text>'
                    for f in (0, 0.1, 0.25, 0.5, 1.0))
    return (f'<svg viewBox="0 0 360 34" width="360" font-size="10" font-family="sans-serif">'
            f'<rect width="360" height="34" fill="#fff"/><defs><linearGradient id="g-{indicator}">{stops}</linearGradient></defs>'
            f'<rect x="10" y="2" width="300" height="14" fill="url(#g-{indicator})"/>{ticks}</svg>')


# ------------------------------------------------------------------------------------------
# Components
# ------------------------------------------------------------------------------------------
class DistrictMapWidget(v.VuetifyTemplate):
    """The 38 district shapes coloured by an indicator, the collaboration links drawn between
    district seats (fixed, geographic positions), and a click that selects a district."""

    template = traitlets.Unicode("""
<template>
  <svg class="district-map" :viewBox="viewbox" style="width:100%;max-height:560px"
       xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">
    <path v-for="(p, i) in paths" :key="p.code" :d="p.d" :fill="fills[i]" fill-rule="evenodd"
          :stroke="p.code === selected ? '#000' : '#fff'" :stroke-width="p.code === selected ? 3 : 0.8"
          :data-code="p.code" style="cursor:pointer" @click="selected = p.code"><title>{{ tips[i] }}</title></path>
    <g v-if="show_links" style="pointer-events:none" stroke-linecap="round">
      <line v-for="(l, j) in links" :key="'l' + j" :x1="l[0]" :y1="l[1]" :x2="l[2]" :y2="l[3]"
            :stroke-width="l[4]" :stroke="l[5] ? '#ae3ec9' : '#1c3f6e'" :stroke-dasharray="l[5] ? '7 4' : ''"
            :stroke-opacity="l[5] ? 0.85 : 0.45"/>
    </g>
    <text v-for="p in paths" :key="'t' + p.code" :x="p.x" :y="p.y" font-size="19" text-anchor="middle"
          fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke"
          style="pointer-events:none">{{ p.label }}</text>
  </svg>
</template>
""").tag(sync=True)
    paths = traitlets.List().tag(sync=True)
    viewbox = traitlets.Unicode("0 0 1000 1000").tag(sync=True)
    fills = traitlets.List().tag(sync=True)
    tips = traitlets.List().tag(sync=True)
    links = traitlets.List().tag(sync=True)
    show_links = traitlets.Bool(True).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)


@solara.component
def DistrictMap(model: AppModel, selected: solara.Reactive[str], tick: int = 0):
    indicator, set_indicator = solara.use_state("tech_per_10k")
    show_links, set_show_links = solara.use_state(True)
    paths, _, viewbox = map_geometry()
    fills, tips, links = map_layers(model, indicator)
    with solara.Card("区县地图与协作网络 Map of the 38 districts and the collaboration network"):
        with solara.Row():
            key_of = {label: key for key, label in MAP_INDICATORS.items()}
            solara.Select("着色指标 Colour by", value=MAP_INDICATORS[indicator], values=list(key_of),
                          on_value=lambda label: set_indicator(key_of[label]), dense=True, style="max-width: 460px")
            solara.Checkbox(label="协作网络 Network links", value=show_links, on_value=set_show_links)
        DistrictMapWidget.element(paths=paths, viewbox=viewbox, fills=fills, tips=tips, links=links,
                                  show_links=show_links, selected=selected.value, on_selected=selected.set)
        solara.HTML(unsafe_innerHTML=legend_svg(indicator, model.map_reference[indicator]))
        solara.Text(f"线宽 = 协作强度 link width = collaboration strength (firm and university links "
                    f"between districts; the {TOP_LINKS} strongest pairs); 紫色虚线 dashed purple = "
                    f"对口协同 paired-assistance pairs (while that lever is on). Hover a district for its figures, "
                    f"click it for details.",
                    style="font-size: 12px; color: #555")


@solara.component
def Scoreboard(model: AppModel, tick: int = 0):
    rows = []
    start = model.params.start_year
    for t in model.config.targets:
        values = indicator_series(model, t.indicator)
        status = target_status(values, t, start)
        label, colour = STATUS[status]
        shown = values[int(round((t.year - start) * 4))] if (len(values) - 1) / 4 >= t.year - start else values[-1]
        rows.append(f'<tr data-target="{t.id}" data-status="{status}"><td><b>{t.id}</b></td>'
                    f'<td>{html.escape(t.description)}</td><td style="text-align:right">{_fmt(float(shown))}</td>'
                    f'<td style="text-align:right">≥ {_fmt(t.threshold)} {html.escape(t.unit)} ({t.year})</td>'
                    f'<td><span title="{html.escape(ON_TRACK_RULE)}" style="background:{colour};color:#fff;'
                    f'padding:2px 8px;border-radius:10px;white-space:nowrap">{label}</span></td></tr>')
    with solara.Card(f"目标 Targets · {model.date_label}"):
        solara.HTML(unsafe_innerHTML=(
            '<table class="scoreboard" style="width:100%;border-collapse:collapse;font-size:13px">'
            '<tr style="text-align:left;color:#555"><th>#</th><th>目标 Target</th><th>现值 Now</th>'
            '<th>目标值 Goal</th><th>状态 Status</th></tr>' + "".join(rows) + "</table>"))
        solara.Text(ON_TRACK_RULE, style="font-size: 12px; color: #555")


@solara.component
def TargetCharts(model: AppModel, tick: int = 0):
    start = model.params.start_year
    horizon = max(model.config.until, *(t.year for t in model.config.targets))
    with solara.Card("目标指标走势 Target indicators by quarter (dashed red: target; dotted grey: on-track path)"):
        with solara.GridFixed(columns=3):
            for t in model.config.targets:
                values = indicator_series(model, t.indicator)
                solara.HTML(unsafe_innerHTML=chart_svg(t, values, start, horizon, target_status(values, t, start)),
                            classes=["chart-cell"])


@solara.component
def DistrictDetail(model: AppModel, selected: solara.Reactive[str], tick: int = 0):
    codes = {str(d.adcode): d for d in model.district_list}
    d = codes.get(selected.value) or model.district_list[0]
    names = {f"{x.name_zh} {x.name_pinyin}": str(x.adcode) for x in model.district_list}
    current = f"{d.name_zh} {d.name_pinyin}"
    counts = district_status_counts(model, d.index)
    M, paired = model.per_step("links", _district_links)
    order = [j for j in np.argsort(-M[d.index]) if M[d.index, j] > 0][:6]
    partners = sorted(set(d.partners)) if model.params.paired.enabled else []
    start = model.params.start_year
    rd0 = model.rd_track[0][d.index]
    years = model.steps / 4
    growth = (d.rd / rd0) ** (1 / years) - 1 if years > 0 and rd0 > 0 else float("nan")
    status_zh = {"exited": "已退出", "candidate": "培育对象", "tech-based SME": "科技型企业",
                 "high-tech (certified)": "高新技术企业", "专精特新": "专精特新", "listed": "上市"}
    led = d.ledger

    def table(rows):
        return ('<table style="width:100%;font-size:13px">'
                + "".join(f"<tr><td>{a}</td><td style='text-align:right'>{b}</td></tr>" for a, b in rows) + "</table>")

    firm_rows = [(f"{status_zh.get(k, '')} {k}", f"{n:,.0f}") for k, n in counts.items()]
    rd_rows = [("研发 R&D now (亿元/yr)", f"{d.rd:.2f}"), (f"研发 R&D {start} (亿元/yr)", f"{rd0:.2f}"),
               ("年均增长 growth since 2022 (/yr; T3 needs ≥ 10 %)",
                "–" if not np.isfinite(growth) else f"{100 * growth:.1f} %"),
               ("研发强度 R&D intensity (% GDP)", f"{d.rd_intensity:.2f}"),
               ("评价指数 / 档次 Index / tier", f"{d.index_score:.1f} / {d.tier}"),
               ("特色平台 Platform", "有 yes" if d.has_platform else f"建设中 building ({d.platform_progress:.2f} 亿元)"),
               ("高新区 High-tech zone", d.hightech_zone), ("国家创新型县 Innovative county", d.innovative_county)]
    link_rows = [(f"{model.district_list[j].name_zh} {model.district_list[j].name_pinyin}"
                  + (" · 对口 paired" if paired[d.index, j] else ""), f"{M[d.index, j]:,.1f}") for j in order]
    link_rows += [(f"对口协同 paired with {model.district_list[j].name_zh}", "") for j in partners if j not in order]
    money_rows = [(label, f"{led[k]:.3f}") for label, k in (
        ("市级引导资金 Guiding fund in", "guiding_fund"), ("对口帮扶 Paired support in", "paired_in"),
        ("对口帮扶 Paired support out", "paired_out"), ("自有资金 Own programme money", "own"),
        ("研发补助 R&D subsidies paid", "rd_subsidy"), ("平台 Platforms", "platforms"),
        ("孵化器 Incubators", "incubators"), ("人才 Talent", "talent"))]
    with solara.Card(f"区县详情 District: {d.name_zh} {d.name_pinyin}"):
        solara.Select("区县 District", value=current, values=list(names), on_value=lambda n: selected.set(names[n]),
                      dense=True)
        solara.Text(f"{GROUPS.get(d.group, d.group)} · {d.adcode}")
        solara.HTML(unsafe_innerHTML=(
            f'<div class="district-detail" data-code="{d.adcode}">'
            "<h4>企业 Firms by status (real-firm equivalents)</h4>" + table(firm_rows)
            + "<h4>研发与评价 R&amp;D and evaluation</h4>" + table(rd_rows)
            + "<h4>协作 Strongest links (firm-link equivalents)</h4>" + table(link_rows)
            + "<h4>资金 Money since 2022 Q4 (亿元, cumulative)</h4>" + table(money_rows) + "</div>"))


@solara.component
def RunHeader(model: AppModel, config: AppConfig, tick: int = 0):
    cfg = model.config
    pending = config != cfg
    changed = cfg.changed_levers()
    with solara.Row(style="align-items: baseline; flex-wrap: wrap"):
        solara.HTML(tag="span", unsafe_innerHTML=html.escape(model.date_label), classes=["run-date"],
                    style="font-size: 28px; font-weight: bold")
        solara.HTML(tag="span", unsafe_innerHTML=f"情景 Scenario: <b>{html.escape(cfg.scenario)}</b> — "
                    f"{html.escape(cfg.description)}", classes=["run-scenario"])
        solara.Text(f"规模 scale {model.params.scale:g} · 种子 seed {cfg.seed} · 至 until {cfg.until} Q4"
                    + ("" if model.running else " · 已到期末 reached the horizon"))
    solara.HTML(unsafe_innerHTML=html.escape("本次运行改动的杠杆 Levers changed from the scenario file: "
                                             + (", ".join(f"{k} = {_show(v)}" for k, v in changed) or "none")),
                classes=["run-levers"], style="font-size: 13px")
    if pending:
        solara.Warning("杠杆已改动，按 Reset 重新运行 Levers changed: press Reset to run with them", dense=True,
                       classes=["pending-levers"])


def _show(value) -> str:
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


@solara.component
def Dashboard(model: AppModel, config: AppConfig):
    """The main area, redrawn after every step. The model object is the same before and after
    a step, so the parts get SolaraViz's step counter as ``tick``: a part whose arguments did not
    change would not redraw, and one render pass for all parts is cheaper than one each."""
    tick = update_counter.get()
    selected = solara.use_reactive(str(model.district_list[0].adcode))
    RunHeader(model, config, tick)
    Scoreboard(model, tick)
    with solara.Columns([7, 5]):
        DistrictMap(model, selected, tick)
        DistrictDetail(model, selected, tick)
    TargetCharts(model, tick)


@solara.component
def ScenarioPanel(config: solara.Reactive[AppConfig], model: solara.Reactive[AppModel]):
    error, set_error = solara.use_state("")
    names = [p.stem for p in scenarios.list_scenarios()]

    def load(name):
        try:
            new = AppConfig.from_scenario(name, scale=config.value.scale)
        except scenarios.ScenarioError as e:
            set_error(str(e))
            return
        set_error("")
        config.set(new)
        model.set(AppModel(new))   # loading a scenario is an action: run it at once

    with solara.Card("情景 Scenario"):
        stem = Path(config.value.file).stem
        current = stem if stem in names else None
        solara.Select("情景文件 Scenario file (scenarios/)", value=current, values=names, on_value=load)
        solara.Text(config.value.description, style="font-size: 12px")
        solara.Select("规模 Scale", value=SCALES[config.value.scale] if config.value.scale in SCALES else None,
                      values=list(SCALES.values()),
                      on_value=lambda label: config.set(dataclasses.replace(
                          config.value, scale=next(s for s, lab in SCALES.items() if lab == label))))
        solara.InputInt("随机种子 Seed", value=config.value.seed,
                        on_value=lambda s: config.set(dataclasses.replace(config.value, seed=max(int(s), 0))))
        solara.Text("规模和种子在 Reset 后生效 Scale and seed apply at Reset.", style="font-size: 12px")
        if error:
            solara.Error(error)


@solara.component
def LeverPanel(config: solara.Reactive[AppConfig]):
    error, set_error = solara.use_state("")
    open_section, set_open_section = solara.use_state(0)
    cfg = config.value
    district_names = {f"{d.adcode} {d.short_zh} {d.name_pinyin}": str(d.adcode)
                      for d in datasets.load_districts().itertuples(index=False)}

    def setter(key):
        def on_value(value):
            try:
                config.set(config.value.with_lever(key, value))
                set_error("")
            except ParamError as e:
                set_error(str(e))
        return on_value

    def control(key):
        value = get_value(cfg.params, key)
        label = lever_label(key)
        if isinstance(value, bool):
            solara.Checkbox(label=label, value=value, on_value=setter(key))
        elif key == "guiding_fund.allocation":
            rule_of = {f"{RULE_NAMES.get(r, '')} {r}".strip(): r for r in ALLOCATION_RULES}
            solara.Select(label, value=next(k for k, r in rule_of.items() if r == value), values=list(rule_of),
                          on_value=lambda shown: setter(key)(rule_of[shown]))
        elif key == "platforms.zone_upgrades":
            by_code = {c: n for n, c in district_names.items()}
            solara.SelectMultiple(label, values=[by_code[c] for c in value if c in by_code], all_values=list(district_names),
                                  on_value=lambda names: setter(key)(tuple(district_names[n] for n in names)), dense=True)
        elif isinstance(value, int):
            lo, hi, step = LEVERS.get(key, (None, None, value - 5, value + 5, 1))[2:]
            solara.Text(f"{label}: {value}", style="font-size: 13px")
            solara.SliderInt("", value=value, min=min(lo, value), max=max(hi, value), step=step, on_value=setter(key))
        else:
            lo, hi, step = LEVERS.get(key, (None, None, 0.0, max(4 * value, 1.0), max(value, 1.0) / 20))[2:]
            solara.Text(f"{label}: {value:g}", style="font-size: 13px")
            solara.SliderFloat("", value=value, min=min(lo, value), max=max(hi, value), step=step, on_value=setter(key))

    keys = lever_keys(cfg.params)
    if cfg.params.guiding_fund.allocation != "mix":
        keys = [k for k in keys if ".mix." not in k]
    sections = list(dict.fromkeys(k.split(".")[0] for k in keys))
    with solara.Card("政策杠杆 Policy levers"):
        solara.Text("改动在 Reset 后生效 Changes apply at Reset.", style="font-size: 12px")
        if error:
            solara.Error(error)
        # Only the open group's controls exist: every element on the page is revisited after each
        # step, and the closed groups would be three quarters of them.
        with solara.v.ExpansionPanels(v_model=open_section, on_v_model=set_open_section, accordion=True,
                                      class_="lever-groups"):
            for i, section in enumerate(sections):
                with solara.v.ExpansionPanel():
                    solara.v.ExpansionPanelHeader(children=[SECTIONS.get(section, section)])
                    with solara.v.ExpansionPanelContent():
                        if i == open_section:
                            for key in (k for k in keys if k.split(".")[0] == section):
                                control(key)
