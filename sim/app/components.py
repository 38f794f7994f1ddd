"""The main area of the browser app (``sim/app/page.py``): the run header, the target charts, the
district panel, and the dashboard that lays them out with the scoreboards (``sim/app/scoreboards.py``)
and the district map (``sim/app/map.py``), kept from taking the session down when a view fails.

Everything drawn per step is plain SVG or HTML built in a few milliseconds, so that a step and
its redraw stay within half a second.
"""

from __future__ import annotations

import html
import logging

import numpy as np
import solara

from ..params.constants import STEPS_PER_YEAR
from .charts import chart_svg
from .levers import AppConfig
from .map import GROUPS, DistrictMap
from .model import AppModel, district_status_counts, indicator_series, target_status
from .quiet import update_counter
from .scoreboards import EnsemblePanel, Scoreboard

logger = logging.getLogger(__name__)
# Card titles wrap between words, never inside one: Vuetify's card titles break at any letter
# (word-break: break-all), which split "Wanz|hou" and "dist|ricts" across two lines at 1280 px.
# keep-all keeps each run of Chinese characters whole too; the titles put a space between their
# Chinese and their English, where they wrap.
PAGE_CSS = """
.v-application .v-card__title { word-break: keep-all; overflow-wrap: normal; hyphens: none; }
"""


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
    M, paired = model.per_step("links", AppModel.district_network)
    order = [j for j in np.argsort(-M[d.index]) if M[d.index, j] > 0][:6]
    partners = sorted(set(d.partners)) if model.params.paired.enabled else []
    start = model.params.start_year
    rd0 = model.rd_track[0][d.index]
    years = model.steps / STEPS_PER_YEAR
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
    origin, takeover = model.params.start_year, model.scenario_from
    if takeover > origin:       # which years are data and which forecast
        solara.HTML(unsafe_innerHTML=html.escape(
            f"{origin + 1}–{takeover} 为已公布年份，按现行政策重演；{takeover + 1} 起为预测，情景的杠杆从此生效。 "
            f"{origin + 1}–{takeover} are published years, replayed under the policy as written; from {takeover + 1} "
            "the run is a forecast and the scenario's levers act."), classes=["run-years"], style="font-size: 13px")
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
    a step, so the parts get Mesa's step counter (``update_counter``) as ``tick``: a part whose arguments did not
    change would not redraw, and one render pass for all parts is cheaper than one each."""
    tick = update_counter.get()
    selected = solara.use_reactive(str(model.district_list[0].adcode))
    solara.Style(PAGE_CSS)     # the sidebar's cards too: the style is the page's
    RunHeader(model, config, tick)
    Scoreboard(model, tick)
    EnsemblePanel(config)      # no tick: it redraws when the settings or its own run change
    with solara.Columns([7, 5]):
        DistrictMap(model, selected, tick)
        DistrictDetail(model, selected, tick)
    TargetCharts(model, tick)


@solara.component
def Guarded(model: AppModel, config: AppConfig):
    """The dashboard, kept from taking the session down: if a view fails to draw (a scenario the
    views do not handle, say), the page says so and the sidebar stays usable; loading another
    scenario or pressing Reset draws again."""
    error, clear = solara.use_exception()
    failed_on = solara.use_ref(None)
    if error is not None and failed_on.current is None:
        failed_on.current = model
        logger.error("a view failed to draw", exc_info=error)

    def redraw_for_a_new_model():
        if error is not None and failed_on.current is not model:
            failed_on.current = None
            clear()

    solara.use_effect(redraw_for_a_new_model, [model])
    if error is not None:
        solara.Error(f"这一视图无法显示 A view could not be drawn: {type(error).__name__}: {error}. "
                     "会话仍在 The session is kept: load another scenario or press Reset.", classes=["view-error"])
        return
    Dashboard(model, config)
