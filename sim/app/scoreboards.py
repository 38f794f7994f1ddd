"""The targets' scoreboards in the browser app: one run's (each target's value now, and whether it
is met or on track) and the ensemble's (the odds of meeting each target over many runs, paired
against the scenario file, with fan charts), each beside a note on how to read it. The ensemble
runs in ``sim/app/ensemble.py``; nothing there draws.
"""

from __future__ import annotations

import html
import logging

import numpy as np
import solara

from ..params.constants import STEPS_PER_YEAR
from . import ensemble as app_ensemble
from .charts import INDICATOR_LABELS, fan_svg
from .levers import AppConfig
from .model import ON_TRACK_RULE, STATUS, AppModel, fmt, indicator_series, target_status

logger = logging.getLogger(__name__)
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
        shown = values[int(round((t.year - start) * STEPS_PER_YEAR))] if (len(values) - 1) / STEPS_PER_YEAR >= t.year - start else values[-1]
        rows.append(f'<tr data-target="{t.id}" data-status="{status}"><td><b>{t.id}</b></td>'
                    f'<td>{html.escape(t.description)}</td><td style="text-align:right">{fmt(float(shown))}</td>'
                    f'<td style="text-align:right">≥ {fmt(t.threshold)} {html.escape(t.unit)} ({t.year})</td>'
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
                 f'<td title="{html.escape(en)}">{html.escape(zh)} ≥ {fmt(t.threshold)} {html.escape(t.unit)} '
                 f"({t.year})</td>"]
        for i, s in enumerate(view.summaries):
            p, lo, hi = view.prob(i, t.id)
            row = s.set_index("target").loc[t.id]
            cells.append(f'<td class="p-met" data-run="{i}" data-prob="{p:.4f}" style="background:{_prob_colour(p)};'
                         f'text-align:right;white-space:nowrap"><b>{_pct(p)} %</b> <small>({_pct(lo)}–{_pct(hi)})'
                         f'</small><br><small>{fmt(float(row["median"]))} ({fmt(float(row["p05"]))}–'
                         f'{fmt(float(row["p95"]))})</small></td>')
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
