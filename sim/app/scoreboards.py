"""The targets' scoreboards in the browser app: one run's (each target's value now, and whether it
is met or on track) and the ensemble's (the odds of meeting each target over many runs, paired
against the scenario file, with fan charts, and why we might miss), each with a note on how to
read it. Every number is printed as what it is (``sim.report.numbers``: counts whole, with their
unit; changes of a probability in percentage points), and what the ensemble's spread holds is
said as the ensemble was made (``sim.report.uncertainty``), as in the report. The ensemble runs
in ``sim/app/ensemble.py``; nothing there draws.
"""

from __future__ import annotations

import html
import logging

import numpy as np
import solara

from ..params.constants import STEPS_PER_YEAR
from ..report import numbers
from ..report.uncertainty import FIXED, POSTERIOR, beyond, pairing_sentence, uncertainty_sentence
from . import ensemble as app_ensemble
from .charts import INDICATOR_LABELS, fan_svg
from .levers import AppConfig
from .model import ON_TRACK_RULE, STATUS, AppModel, indicator_series, target_status

logger = logging.getLogger(__name__)
SCOREBOARD_READING = ("怎么看 How to read this: this is one run, one random path from the seed in the sidebar; "
                      "another seed gives another path, so what a lever does to one path is partly chance. On "
                      "track: at or above the straight line from the 2022 value to the target (hover a status for "
                      "the rule). For the odds of meeting each target, run the ensemble (集合运行) below.")
# The fixed part of the ensemble's note; what its spread holds and how its runs pair follow, said as
# the ensemble was made (ensemble_reading).
ENSEMBLE_READING = ("怎么看 How to read this: every run repeats the same settings with other chance events (firm "
                    "births, certifications, links). P(met) is the share of the runs that meet the target in its "
                    "year, with its 95 % interval; median and 5–95 % are the middle run's value and the band "
                    "holding 90 % of the runs (a count's band rounded outward to whole numbers).")
MISSES_HEADING = "为什么可能达不到 Why might we miss?"
MISSES_READING = ("For each target that some runs meet and others miss: the conditions, among the parameters each "
                  "run drew, under which it is mostly missed (scenario discovery, as in the report).")
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
                    f'<td>{html.escape(t.description)}</td><td style="text-align:right;white-space:nowrap">'
                    f'{html.escape(now(t, shown))}</td><td style="text-align:right"><span style="white-space:nowrap">'
                    f'≥ {html.escape(goal(t))}</span> ({t.year})</td>'
                    f'<td><span title="{html.escape(ON_TRACK_RULE)}" style="background:{colour};color:#fff;'
                    f'padding:2px 8px;border-radius:10px;white-space:nowrap">{label}</span></td></tr>')
    with solara.Card(f"目标 Targets · {model.date_label}"):
        # the table takes the card's width (the targets' descriptions are long), its note goes under it
        solara.HTML(unsafe_innerHTML=(
            '<table class="scoreboard" style="width:100%;border-collapse:collapse;font-size:13px">'
            '<style>.scoreboard td,.scoreboard th{padding:2px 6px}</style>'
            '<tr style="text-align:left;color:#555"><th>#</th><th>目标 Target</th><th>现值 Now</th>'
            '<th>目标值 Goal</th><th>状态 Status</th></tr>' + "".join(rows) + "</table>"))
        _reading_note(SCOREBOARD_READING)


def now(t, x: float) -> str:
    """One run's value of a target's indicator with its unit: a count whole (one run's count is
    a count of things; a scaled-down run's weights can leave a fraction)."""
    count = numbers.is_count(t)
    shown = numbers.value(round(float(x)) if count and np.isfinite(x) else x, count)
    return numbers.with_unit(shown, numbers.unit_of(t))


def goal(t) -> str:
    return numbers.with_unit(numbers.threshold(t.threshold), numbers.unit_of(t))


def _reading_note(text: str, zh: str = ""):
    body = html.escape(text) + (f'<br><span lang="zh-Hans">{html.escape(zh)}</span>' if zh else "")
    solara.HTML(unsafe_innerHTML=body, classes=["reading-note"],
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
        head.append('<th style="text-align:right" title="change in the probability of meeting the target, in '
                    'percentage points">ΔP(met) 配对 paired<br><small>pp (95 %)</small></th>')
    rows = []
    diffs = view.diffs.set_index("target") if view.diffs is not None else None
    for t in view.targets:
        zh, _, en = INDICATOR_LABELS.get(t.indicator, t.indicator).partition(" ")
        cells = [f"<td><b>{t.id}</b></td>",
                 f'<td title="{html.escape(en)}">{html.escape(zh)} ≥ {html.escape(goal(t))} ({t.year})</td>']
        for i, s in enumerate(view.summaries):
            p, lo, hi = view.prob(i, t.id)
            row = s.set_index("target").loc[t.id]
            cells.append(f'<td class="p-met" data-run="{i}" data-prob="{p:.4f}" style="background:{_prob_colour(p)};'
                         f'text-align:right;white-space:nowrap"><b>{_pct(p)} %</b> <small>({_pct(lo)}–{_pct(hi)})'
                         f'</small><br><small class="spread">{html.escape(spread(t, row))}</small></td>')
        if diffs is not None:
            d = diffs.loc[t.id]
            real = d["prob_met_diff_lo"] > 0 or d["prob_met_diff_hi"] < 0
            lo, hi = d["prob_met_diff_lo"], d["prob_met_diff_hi"]
            interval = f"{100 * lo:+.0f} to {100 * hi:+.0f}" if np.isfinite(lo) else "–"
            text = f"{100 * d['prob_met_diff']:+.0f} pp <small>({interval})</small>"
            cells.append(f'<td class="p-diff" data-diff="{d["prob_met_diff"]:.4f}" style="text-align:right;'
                         f'white-space:nowrap">{"<b>" + text + "</b>" if real else text}</td>')
        rows.append(f'<tr data-target="{t.id}">{"".join(cells)}</tr>')
    caption = ""
    if view.diffs is not None:
        changed = "; ".join(view.changes) or "no lever"
        caption = (f'<caption class="diff-caption" style="caption-side:bottom;text-align:left;font-size:12px;'
                   f'color:#555;padding-top:4px">ΔP(met): «{html.escape(view.names[-1])}» minus '
                   f'«{html.escape(view.names[0])}», the change in the probability of meeting each target, in '
                   f'percentage points (pp), from changing {html.escape(changed)}; bold where its 95 % interval '
                   "excludes 0.</caption>")
    return ('<table class="ensemble-scoreboard" style="width:100%;border-collapse:collapse;font-size:13px">'
            f'<style>.ensemble-scoreboard td,.ensemble-scoreboard th{{padding:3px 6px}}</style>{caption}'
            f'<tr style="text-align:left;color:#555">{"".join(head)}</tr>{"".join(rows)}</table>')


def spread(t, row) -> str:
    """A target's median and 5–95 % band over the runs, with its unit, as the report prints them:
    "22 (13–30) districts" for a band of 13.9–30 (a count's band rounded outward)."""
    count = numbers.is_count(t)
    shown = (f"{numbers.value(row['median'], count)} "
             f"({numbers.band(row['p05'], row['p95'], count, sep='–')})")
    return numbers.with_unit(shown, numbers.unit_of(t))


def ensemble_reading(view: app_ensemble.EnsembleView, lang: str = "en") -> str:
    """What the ensemble's numbers are and how sure they are, said as it was made: its spread
    holds the calibrated parameters' uncertainty when the runs drew posterior parameters, chance
    alone when they ran the fitted point; its ΔP pairs accordingly (sim.report.uncertainty)."""
    zh = lang == "zh"
    said = [uncertainty_sentence(k, lang) for k in view.kinds]
    if len(set(said)) > 1:
        said = [(f"「{n}」：" if zh else f"«{n}»: ") + s for n, s in zip(view.names, said)]
    parts = ([] if zh else [ENSEMBLE_READING]) + list(dict.fromkeys(said))
    if view.coarser.get(lang):
        parts.append(view.coarser[lang])
    if view.diffs is not None:
        parts.append(pairing_sentence(view.diffs, lang))
        parts.append(f"ΔP 以百分点（pp）计；区间不含 0（粗体）时，变化{beyond(view.diffs, 'zh')}。" if zh else
                     f"ΔP is in percentage points (pp); where its interval excludes 0 (bold), the change is "
                     f"{beyond(view.diffs)}.")
    return ("" if zh else " ").join(parts)


def parameters_phrase(view: app_ensemble.EnsembleView) -> str:
    """How the runs' parameters ran, for the line under the buttons."""
    kind = view.kinds[-1] if view.kinds else None
    if kind is None:
        return ""
    if kind.parameters == POSTERIOR:
        return f"参数 parameters: {kind.draws} posterior draws" + (f" of {kind.available}" if kind.available else "")
    if kind.parameters == FIXED:
        return "参数 parameters: fixed (the fitted point)"
    return ""


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
            against = (f"the scenario file «{req.scenario.name}» and, paired with them, of it with the sidebar's "
                       f"levers ({'; '.join(req.changes)})" if req.levers else
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
    solara.HTML(unsafe_innerHTML=html.escape(" · ".join(filter(None, (
        f"{view.replicates} runs each", f"scale {view.scale:g}", f"seed {view.seed}", f"to {view.until}",
        parameters_phrase(view), where)))),
        classes=["ensemble-source"] + (["from-cache"] if view.from_cache else []), style="font-size: 12px; color: #555")
    if stale:
        solara.Warning("设置已改动 The settings changed since this ensemble: run it again to see theirs.", dense=True,
                       classes=["ensemble-stale"])
    # the table takes the card's width (two ensembles and their difference), its note goes under it
    solara.HTML(unsafe_innerHTML=ensemble_table(view), style="overflow-x: auto")
    _reading_note(ensemble_reading(view), ensemble_reading(view, "zh"))
    solara.HTML(unsafe_innerHTML=(f'<p lang="zh-Hans" style="font-size:13px">{html.escape(view.text["zh"])}</p>'
                                  f'<p lang="en" style="font-size:13px">{html.escape(view.text["en"])}</p>'),
                classes=["ensemble-summary"])
    horizon = max(view.until, *(t.year for t in view.targets))
    with solara.GridFixed(columns=3):
        for t in view.targets:
            series = [(name, ENSEMBLE_COLOURS[i % len(ENSEMBLE_COLOURS)], bands[t.indicator])
                      for i, (name, bands) in enumerate(zip(view.names, view.bands)) if t.indicator in bands]
            solara.HTML(unsafe_innerHTML=fan_svg(t, series, view.start_year, horizon), classes=["fan-cell"])
    if view.misses:
        solara.HTML(unsafe_innerHTML=(
            '<style>.why-miss ul{padding-left:18px;margin:4px 0}.why-miss li{margin-bottom:6px}'
            '.why-miss .zh{color:#444}.why-miss .note{font-size:12px;color:#555;margin:4px 0}</style>'
            f'<h4>{MISSES_HEADING} <small style="font-weight:normal;color:#555">({view.replicates} runs of '
            f'«{html.escape(view.names[-1])}»)</small></h4><p class="note">{html.escape(MISSES_READING)}</p>'
            + view.misses), classes=["why-miss"], style="font-size: 13px")
