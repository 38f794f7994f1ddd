"""Parts of the browser app (``sim/app/page.py``): the scoreboard, the target charts, the district
panel, the run header, the dashboard that lays them out, and the lever and scenario controls.

The parts they draw from have modules of their own: the levers and the configuration they edit
(``sim/app/levers.py``), the app's model and the numbers behind the views (``sim/app/model.py``),
the district map with the collaboration network (``sim/app/map.py``) and the SVG target charts
(``sim/app/charts.py``). Their names are importable from here too.

Everything drawn per step is plain SVG or HTML built in a few milliseconds, so that a step and
its redraw stay within half a second.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import os
import time
from pathlib import Path

import numpy as np
import solara
from mesa.visualization.utils import force_update, update_counter

from . import ensemble as app_ensemble
from ..data import datasets
from ..experiments import scenarios
from .cli import SCENARIOS_ENV  # `run.py ui --scenarios DIR` sets the picker's folder
from .charts import INDICATOR_LABELS, chart_svg, fan_svg
from .levers import DEFAULT_SCALE, LEVERS, RULE_NAMES, SCALES, SECTIONS, AppConfig, default_config, get_value, lever_keys, lever_label
from .map import GROUPS, PALETTE, TIER_COLOURS, TIER_NAMES, TOP_LINKS, DistrictMap, DistrictMapWidget, colour_of, legend_svg, map_geometry, map_layers
from .model import MAP_INDICATORS, ON_TRACK_RULE, RATE_INDICATORS, STATUS, AppModel, _fmt, district_status_counts, indicator_series, target_status
from ..params.parameters import ALLOCATION_RULES

__all__ = [
    "DEFAULT_SCALE", "GROUPS", "INDICATOR_LABELS", "LEVERS", "MAP_INDICATORS", "ON_TRACK_RULE", "PALETTE",
    "RATE_INDICATORS", "RULE_NAMES", "SCALES", "SECTIONS", "STATUS", "TIER_COLOURS", "TIER_NAMES", "TOP_LINKS",
    "AppConfig", "AppModel", "Controls", "Dashboard", "DistrictDetail", "DistrictMap", "DistrictMapWidget",
    "EnsemblePanel", "Guarded", "LeverPanel", "RunHeader", "ScenarioPanel", "Scoreboard", "TargetCharts", "chart_svg", "colour_of", "default_config",
    "district_status_counts", "get_value", "indicator_series", "legend_svg", "lever_keys", "lever_label",
    "map_geometry", "map_layers", "target_status",
]

logger = logging.getLogger(__name__)
PLAY_INTERVAL = 150        # ms between steps while playing
SCOREBOARD_READING = ("怎么看 How to read this: this is one run, one random path from the seed in the sidebar; "
                      "another seed gives another path, so what a lever does to one path is partly chance. On "
                      "track: at or above the straight line from the 2022 value to the target (hover a status for "
                      "the rule). For the odds of meeting each target, run the ensemble (集合运行) below.")
ENSEMBLE_READING = ("怎么看 How to read this: every run repeats the same settings with other chance events (firm "
                    "births, certifications, links). P(met) is the share of the runs that meet the target in its "
                    "year, with its 95 % interval; median and 5–95 % are the middle run's value and the band "
                    "holding 90 % of the runs. Paired: run k of both ensembles draws the same random numbers, so "
                    "ΔP is what the changed levers do, not chance; where its interval excludes 0 (bold), the "
                    "change is real.")
ENSEMBLE_COLOURS = ("#1c3f6e", "#e8590c")


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
        with solara.Columns([8, 4]):
            solara.HTML(unsafe_innerHTML=(
                '<table class="scoreboard" style="width:100%;border-collapse:collapse;font-size:13px">'
                '<style>.scoreboard td,.scoreboard th{padding:2px 6px}</style>'
                '<tr style="text-align:left;color:#555"><th>#</th><th>目标 Target</th><th>现值 Now</th>'
                '<th>目标值 Goal</th><th>状态 Status</th></tr>' + "".join(rows) + "</table>"))
            _reading_note(SCOREBOARD_READING)


def _reading_note(text: str):
    solara.HTML(unsafe_innerHTML=html.escape(text), classes=["reading-note"],
                style="font-size: 12px; color: #444; background: #f6f8fa; border-left: 3px solid #1c3f6e; "
                      "padding: 6px 10px; line-height: 1.45")


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
    a step, so the parts get Mesa's step counter (``update_counter``) as ``tick``: a part whose arguments did not
    change would not redraw, and one render pass for all parts is cheaper than one each."""
    tick = update_counter.get()
    selected = solara.use_reactive(str(model.district_list[0].adcode))
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


@solara.component
def Controls(model: solara.Reactive[AppModel], config: solara.Reactive[AppConfig], playing: solara.Reactive[bool]):
    """Reset, play / pause, step and the play interval. Mesa's SolaraViz controller is not used:
    its play task stays registered with Solara after the page closes, so every closed session's
    model stayed in memory, and its play state outlived a scenario load (Step stayed disabled
    after playing to the horizon); its parameter card was empty here."""
    update_counter.get()        # redrawn after each step: Step and play are disabled at the horizon
    interval = solara.use_reactive(PLAY_INTERVAL)
    error, set_error = solara.use_state("")
    current = model.value

    def step():
        try:
            current.step()
        except Exception as e:  # noqa: BLE001 — shown in the page; the session goes on
            logger.exception("step failed")
            playing.set(False)
            set_error(f"步进出错 The step failed: {type(e).__name__}: {e}")
        force_update()

    def reset():
        playing.set(False)
        try:
            new = AppModel(config.value)
        except Exception as e:  # noqa: BLE001
            logger.exception("reset failed")
            set_error(f"重置出错 Reset failed, the current run is kept: {type(e).__name__}: {e}")
            return
        set_error("")
        model.set(new)

    def play(cancel):
        while playing.value and current.running and not cancel.is_set():
            time.sleep(interval.value / 1000)
            if cancel.is_set() or not playing.value or model.value is not current:
                return
            step()
        if not current.running:
            playing.set(False)

    solara.use_thread(play, dependencies=[playing.value, current], intrusive_cancel=False)
    with solara.Card("控制 Controls"):
        with solara.Row(justify="space-between"):
            solara.Button(label="Reset", color="primary", on_click=reset)
            solara.Button(label="❚❚" if playing.value else "▶", color="primary",
                          on_click=lambda: playing.set(not playing.value), disabled=not current.running)
            solara.Button(label="Step", color="primary", on_click=step, disabled=playing.value or not current.running)
        solara.SliderInt("播放间隔 Play interval (ms)", value=interval, min=0, max=1000, step=50)
        solara.Text(f"第 {current.steps} 步 step {current.steps} · {current.date_label}", style="font-size: 12px")
        if error:
            solara.Error(error, classes=["controls-error"])


def scenario_files() -> dict[str, Path]:
    """The files the picker offers, by name."""
    return {p.stem: p for p in scenarios.list_scenarios(os.environ.get(SCENARIOS_ENV) or None)}


@solara.component
def ScenarioPanel(config: solara.Reactive[AppConfig], model: solara.Reactive[AppModel],
                  playing: solara.Reactive[bool] | None = None):
    error, set_error = solara.use_state("")
    failures, set_failures = solara.use_state(0)
    files = scenario_files()
    names = list(files)

    def load(name):
        # Whatever goes wrong with a file (unreadable, invalid, a model that cannot be built from
        # it) is shown here; the run on screen stays.
        try:
            new = AppConfig.from_scenario(files.get(name, name), scale=config.value.scale)
            built = AppModel(new)
        except Exception as e:  # noqa: BLE001
            if not isinstance(e, scenarios.ScenarioError):
                logger.exception("loading %s failed", name)
            set_error(f"无法载入 Cannot load {name}: {e}")
            set_failures(failures + 1)    # redraws the picker on the file still running
            return
        set_error("")
        if playing is not None:
            playing.set(False)     # a new run starts paused at its first quarter
        config.set(new)
        model.set(built)   # loading a scenario is an action: run it at once

    with solara.Card("情景 Scenario"):
        stem = Path(config.value.file).stem
        current = stem if stem in names else None
        solara.Select("情景文件 Scenario file (scenarios/)", value=current, values=names, on_value=load).key(
            f"scenario-picker-{failures}")
        solara.Text(config.value.description, style="font-size: 12px")
        solara.Select("规模 Scale", value=SCALES[config.value.scale] if config.value.scale in SCALES else None,
                      values=list(SCALES.values()),
                      on_value=lambda label: config.set(dataclasses.replace(
                          config.value, scale=next(s for s, lab in SCALES.items() if lab == label))))
        solara.InputInt("随机种子 Seed", value=config.value.seed,
                        on_value=lambda s: config.set(dataclasses.replace(config.value, seed=max(int(s), 0))))
        solara.Text("规模和种子在 Reset 后生效 Scale and seed apply at Reset.", style="font-size: 12px")
        if error:
            solara.Error(error, classes=["scenario-error"])


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
            except Exception as e:  # noqa: BLE001 — a ParamError names the key; anything else is shown too
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


# ---- the ensemble ------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:.0f}"


def _prob_colour(p: float) -> str:
    # the report's scoreboard colours: met in ≥ 90 % of runs, 50–90 %, below 50 %
    return "#d8f0d8" if p >= 0.9 else "#fff2cc" if p >= 0.5 else "#f8d7d7"


def ensemble_table(view: app_ensemble.EnsembleView) -> str:
    """Each target's P(met) with its 95 % interval and its median and 5–95 % band in every
    ensemble, and the paired difference in P(met)."""
    head = ["<th>#</th><th>目标 Target</th>"]
    for i, name in enumerate(view.names):
        colour = ENSEMBLE_COLOURS[i % len(ENSEMBLE_COLOURS)]
        head.append(f'<th style="color:{colour};text-align:right">{html.escape(name)}<br>'
                    '<small>P(met) (95 %) · 中位数 median (5–95 %)</small></th>')
    if view.diffs is not None:
        head.append("<th>ΔP(met) 配对 paired (95 %)</th>")
    rows = []
    diffs = view.diffs.set_index("target") if view.diffs is not None else None
    for t in view.targets:
        zh, _, en = INDICATOR_LABELS.get(t.indicator, t.indicator).partition(" ")
        cells = [f"<td><b>{t.id}</b></td>",
                 f'<td title="{html.escape(en)}">{html.escape(zh)} ≥ {_fmt(t.threshold)} {html.escape(t.unit)} '
                 f"({t.year})</td>"]
        for i, s in enumerate(view.summaries):
            p, lo, hi = view.prob(i, t.id)
            row = s.set_index("target").loc[t.id]
            cells.append(f'<td class="p-met" data-run="{i}" data-prob="{p:.4f}" style="background:{_prob_colour(p)};'
                         f'text-align:right;white-space:nowrap"><b>{_pct(p)} %</b> <small>({_pct(lo)}–{_pct(hi)})'
                         f'</small><br><small>{_fmt(float(row["median"]))} ({_fmt(float(row["p05"]))}–'
                         f'{_fmt(float(row["p95"]))})</small></td>')
        if diffs is not None:
            d = diffs.loc[t.id]
            real = d["prob_met_diff_lo"] > 0 or d["prob_met_diff_hi"] < 0
            lo, hi = d["prob_met_diff_lo"], d["prob_met_diff_hi"]
            interval = f"{100 * lo:+.0f} … {100 * hi:+.0f}" if np.isfinite(lo) else "–"
            text = f"{100 * d['prob_met_diff']:+.0f} pts <small>({interval})</small>"
            cells.append(f'<td class="p-diff" data-diff="{d["prob_met_diff"]:.4f}" style="text-align:right;'
                         f'white-space:nowrap">{"<b>" + text + "</b>" if real else text}</td>')
        rows.append(f'<tr data-target="{t.id}">{"".join(cells)}</tr>')
    return ('<table class="ensemble-scoreboard" style="width:100%;border-collapse:collapse;font-size:13px">'
            '<style>.ensemble-scoreboard td,.ensemble-scoreboard th{padding:3px 6px}</style>'
            f'<tr style="text-align:left;color:#555">{"".join(head)}</tr>{"".join(rows)}</table>')


@solara.component
def EnsemblePanel(config: AppConfig):
    """N replicates of the sidebar's settings and of the loaded scenario file, paired, run in the
    background with a progress bar and a cancel; then the odds of each target and fan charts."""
    replicates, set_replicates = solara.use_state(app_ensemble.DEFAULT_REPLICATES)
    job, set_job = solara.use_state(None)          # (request, run number): what the thread runs
    progress, set_progress = solara.use_state((0, 0))
    view, set_view = solara.use_state(None)
    note, set_note = solara.use_state("")
    asked_to_stop = solara.use_ref(False)      # Cancel pressed, rather than the page closing
    try:
        req, problem = app_ensemble.request(config, replicates), ""
    except Exception as e:  # noqa: BLE001 — e.g. a scenario file changed on disk since it was loaded
        req, problem = None, f"{type(e).__name__}: {e}"

    def work(cancel):
        if job is None:
            return
        try:
            result = app_ensemble.run(job[0], cancel, progress=lambda done, total: set_progress((done, total)))
        except app_ensemble.Cancelled:
            if asked_to_stop.current:       # (a closed page has nothing left to tell)
                set_note("已取消 Cancelled. The runs that finished are kept: running again continues from them.")
            return
        except Exception as e:  # noqa: BLE001 — shown in the panel; the session goes on
            logger.exception("ensemble failed")
            set_note(f"集合运行出错 The ensemble failed: {type(e).__name__}: {e}")
            return
        set_note("")
        set_view(result)

    task = solara.use_thread(work, dependencies=[job], intrusive_cancel=False)
    running = job is not None and task.state in (solara.ResultState.STARTING, solara.ResultState.WAITING,
                                                 solara.ResultState.RUNNING)

    def stop():
        asked_to_stop.current = True
        task.cancel()

    def start():
        asked_to_stop.current = False
        hit = app_ensemble.cached(req)
        set_note("")
        if hit is not None:        # the same settings again: straight from the cache
            set_view(hit)
            return
        set_progress((0, req.replicates * len(req.runs)))
        set_job((req, (job[1] + 1) if job else 1))

    with solara.Card("集合运行 Ensemble: the odds of meeting each target", classes=["ensemble-panel"]):
        if req is not None:
            against = (f"the sidebar's levers ({', '.join(k for k, _ in config.changed_levers())}) and the scenario "
                       f"file «{req.scenario.name}», paired" if req.levers else
                       f"the scenario file «{req.scenario.name}» (no lever changed from it)")
            solara.Text(f"Runs {req.replicates} replicates of {against}, at scale {req.scenario.params.scale:g} to the "
                        f"end of {req.scenario.until}, in the background. The sidebar's settings count as they are now, "
                        "applied by Reset or not.",
                        style="font-size: 13px")
        with solara.Row(style="align-items: center"):
            solara.InputInt("重复次数 Replicates", value=replicates, continuous_update=False,
                            on_value=lambda n: set_replicates(max(1, min(int(n), app_ensemble.MAX_REPLICATES))),
                            style="max-width: 160px")
            solara.Button(label="运行集合 Run ensemble", color="primary", on_click=start,
                          disabled=running or req is None, classes=["run-ensemble"])
            solara.Button(label="取消 Cancel", on_click=stop, disabled=not running, classes=["cancel-ensemble"])
        if running:
            done, total = progress
            solara.v.ProgressLinear(value=100 * done / max(total, 1), height=8, class_="ensemble-progress")
            solara.Text(f"{done} / {total} runs", classes=["ensemble-count"], style="font-size: 12px")
        if problem:
            solara.Error(f"无法准备集合运行 Cannot set up the ensemble: {problem}")
        if note:
            solara.Info(note, classes=["ensemble-note"])
        if view is not None:
            _ensemble_results(view, stale=req is not None and view.key != req.key)


def _ensemble_results(view: app_ensemble.EnsembleView, stale: bool):
    where = ("来自缓存 from the cache (same settings as a finished run)" if view.from_cache
             else f"用时 took {view.seconds:.1f} s")
    solara.HTML(unsafe_innerHTML=html.escape(
        f"{view.replicates} runs each · scale {view.scale:g} · seed {view.seed} · to {view.until} · {where}"),
        classes=["ensemble-source"] + (["from-cache"] if view.from_cache else []), style="font-size: 12px; color: #555")
    if stale:
        solara.Warning("设置已改动 The settings changed since this ensemble: run it again to see theirs.", dense=True,
                       classes=["ensemble-stale"])
    with solara.Columns([8, 4]):
        solara.HTML(unsafe_innerHTML=ensemble_table(view))
        _reading_note(ENSEMBLE_READING)
    solara.HTML(unsafe_innerHTML=(f'<p lang="zh-Hans" style="font-size:13px">{html.escape(view.text["zh"])}</p>'
                                  f'<p lang="en" style="font-size:13px">{html.escape(view.text["en"])}</p>'),
                classes=["ensemble-summary"])
    horizon = max(view.until, *(t.year for t in view.targets))
    with solara.GridFixed(columns=3):
        for t in view.targets:
            series = [(name, ENSEMBLE_COLOURS[i % len(ENSEMBLE_COLOURS)], bands[t.indicator])
                      for i, (name, bands) in enumerate(zip(view.names, view.bands)) if t.indicator in bands]
            solara.HTML(unsafe_innerHTML=fan_svg(t, series, view.start_year, horizon), classes=["fan-cell"])
