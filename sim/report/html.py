"""The report of an ensemble: a self-contained ``report.html`` (figures embedded, readable
offline) and the same figures as PNG files for slides.

Contents: the target scoreboard; fan charts (median and 5–95 % band across replicates) of the
target indicators with their target lines; how good the forecast is (the calibration's
rolling-origin backtest: coverage of its bands and its error on held-out years); choropleth maps of the 38 区县 in the final year;
district rankings (the start stocks with their bands and whether each start value is published or estimated); regional inequality over time; the district-level collaboration network on
the map with paired-assistance links highlighted; and, for a comparison, the paired
differences with their intervals. The figures and the summaries behind them are in
``sim/report/figures.py``, the maps in ``sim/report/maps.py``; this module assembles the page and
writes the files. Every note on how sure the numbers are comes from ``sim/report/uncertainty.py``
(so the paragraph, the scoreboard's note, the comparison's note and the footer say the same
thing, as the run was made), every figure is printed by ``sim/report/numbers.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from pathlib import Path

import pandas as pd

from ..data import identity
from ..data.datasets import data_origin
from ..experiments.results import EnsembleResult
from ..experiments.targets import REGION_NAMES, regional
from . import numbers as num
from .events import ZONE_SHARE, zone_steps
from .district_table import ranking_html
from .figures import difference_chart, fan_charts, inequality_chart, png
from .maps import choropleths, network_map
from .misses import why_we_might_miss_html
from .text import result_summary
from .uncertainty import FIXED, POSTERIOR, footnote, pairing_sentence, reading_note, run_kind

CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans",Arial,sans-serif;max-width:1150px;margin:2em auto;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.met{background:#d8f0d8}.risk{background:#fff2cc}.miss{background:#f8d7d7}
img{max-width:100%}.note{color:#555;font-size:.85em}
.summary{background:#f6f8fa;border-left:4px solid #1c3f6e;padding:.6em 1em;margin:1em 0;line-height:1.55}
.summary p{margin:.4em 0}
"""


def span_phrase(s) -> str:
    """The years of a scenario: replayed (published, conditioned) and forecast."""
    origin = data_origin(s.params.start_year)
    if s.params.start_year > origin:
        return (f"{origin + 1}–{s.params.start_year} replayed (published years, the policy as written"
                f"{', conditioned on the published figures' if s.conditioned else ''}), "
                f"{s.params.start_year + 1}–{s.until} forecast")
    if origin == 2017:
        return f"{origin + 1}–{s.until} (a hindcast)"
    return f"{origin + 1}–{s.until} with the scenario's levers (a retrospective over the published years)"

def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def region_label(target) -> str:
    """Where a target is measured: a region's name (a regional indicator's), else the city."""
    where = regional(target.indicator) if target is not None else None
    return "全市 city" if where is None else f"{REGION_NAMES[where[1]][0]} {REGION_NAMES[where[1]][2]}"


def scoreboard_html(summary: pd.DataFrame, targets=()) -> str:
    """The scoreboard: each target's threshold, median and band with its unit (counts whole), and
    P(met); with a region column when the set has a region's targets (the double-doubling plan's)."""
    by_id = {t.id: t for t in targets}
    regions = any(regional(t.indicator) for t in targets)
    head = ("<tr><th class=l>target</th>" + ("<th class=l>region 区域</th>" if regions else "")
            + "<th class=l>description</th><th class=l>unit</th><th>threshold</th><th>year</th>"
            "<th>median</th><th>5–95 %</th><th>P(met)</th><th>first met (median year)</th></tr>")
    rows = []
    for r in summary.itertuples():
        t = by_id.get(r.target)
        count = num.is_count(t) if t is not None else False
        cls = "met" if r.prob_met >= 0.9 else ("risk" if r.prob_met >= 0.5 else "miss")
        first = "not by the median run" if not math.isfinite(r.year_first_met) else f"{r.year_first_met:.0f}"
        where = f"<td class=l>{html.escape(region_label(t))}</td>" if regions else ""
        rows.append(f"<tr class={cls}><td class=l>{html.escape(r.target)}</td>{where}<td class=l>{html.escape(r.description)}</td>"
                    f"<td class=l>{html.escape(num.unit_of(t))}</td><td>{num.threshold(r.threshold)}</td><td>{r.year}</td>"
                    f"<td>{num.value(r.median, count)}</td><td>{num.band(r.p05, r.p95, count)}</td>"
                    f"<td>{r.prob_met:.0%}</td><td>{first}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def diff_html(diffs: pd.DataFrame, targets=()) -> str:
    """A comparison's paired differences: of the target's value, the mean over the paired runs
    with its unit; of P(met), percentage points."""
    by_id = {t.id: t for t in targets}
    head = ("<tr><th class=l>target</th><th class=l>scenario</th><th class=l>unit</th><th>reference mean</th>"
            "<th>scenario mean</th><th>mean difference</th><th>95 % interval</th><th>P(met) reference</th>"
            "<th>P(met) scenario</th><th>ΔP(met)</th><th>95 % interval</th></tr>")
    rows = []
    for r in diffs.itertuples():
        t = by_id.get(r.target)
        sig = r.value_diff_lo > 0 or r.value_diff_hi < 0
        scale = r.value_reference
        diff = [num.difference(v, scale) for v in (r.value_diff, r.value_diff_lo, r.value_diff_hi)]
        rows.append(f"<tr{' class=risk' if sig else ''}><td class=l>{r.target}</td><td class=l>{html.escape(r.scenario)}</td>"
                    f"<td class=l>{html.escape(num.unit_of(t))}</td><td>{num.value(r.value_reference, digits=2)}</td>"
                    f"<td>{num.value(r.value_scenario, digits=2)}</td><td>{diff[0]}</td><td>{diff[1]} … {diff[2]}</td>"
                    f"<td>{r.prob_met_reference:.0%}</td><td>{r.prob_met_scenario:.0%}</td><td>{num.points(r.prob_met_diff)}</td>"
                    f"<td>{num.points(r.prob_met_diff_lo)} … {num.points(r.prob_met_diff_hi)}</td></tr>")
    n = int(diffs["replicates"].iloc[0]) if "replicates" in diffs.columns and len(diffs) else 0
    return (f"<table>{head}{''.join(rows)}</table><p class=note>Each difference is scenario − reference, run by run, "
            f"averaged over the {n} paired runs: the value columns are means (the scoreboards below give medians), in "
            "the target's unit (a share's difference in percentage points of that share); ΔP(met) is the change in "
            f"the share of runs meeting the target, in percentage points (pp). {html.escape(pairing_sentence(diffs))} "
            "Highlighted rows: the 95 % interval of the value difference excludes zero.</p>")


def summary_html(result: EnsembleResult, diffs: pd.DataFrame | None = None) -> str:
    """The first paragraph: what the numbers below say, in plain words (sim/report/text.py)."""
    text = result_summary(result, diffs)
    return (f'<div class=summary><p lang=zh-Hans>{html.escape(text["zh"])}</p>'
            f'<p lang=en>{html.escape(text["en"])}</p></div>')


def _header(results: list[EnsembleResult]) -> str:
    items = []
    for r in results:
        s = r.scenario
        kind = run_kind(r)
        used = (f"; these {kind.replicates} runs used {kind.draws} of them" if kind.parameters == POSTERIOR
                and kind.draws < kind.available else "")
        chain = " ← ".join(Path(f).name for f in s.chain)
        items.append(f"<li><b>{html.escape(s.name)}</b>: {html.escape(s.description)} — {s.replicates} replicates, "
                     f"root seed {s.seed}, {span_phrase(s)}, scale {s.params.scale:g}, targets "
                     f"<code>{s.target_set}</code>; parameters: {html.escape(s.parameters_note)}{used} "
                     f"<span class=note>[{html.escape(chain)}]</span></li>")
    return "<ul>" + "".join(items) + "</ul>"


FOOT = ("<p class=note>Generated {when} by the Chongqing district innovation simulator. District starting stocks are "
        "partly estimated (see sim/data/README.md for each figure's status and source); behaviour parameters are "
        "estimated or calibrated on 2017–2022 only. {bands}</p>")


def zone_steps_html(results: list[EnsembleResult]) -> str:
    """Under the fan charts: the steps the model puts in the zones' share (zones upgraded), what
    and where, so that a jump in the chart is read as the event it is."""
    notes = []
    for r in results:
        target = next((t for t in r.scenario.targets if t.indicator == ZONE_SHARE), None)
        for step in zone_steps(r):
            who = f"«{html.escape(r.scenario.name)}»: " if len(results) > 1 else ""
            notes.append(f"<p class=note>{who}{html.escape(step.sentence(target))}</p>")
    return "".join(dict.fromkeys(notes))


SERIES_NAMES = {"tech_enterprises": "科技型企业 tech-based SMEs", "high_tech_enterprises": "高新技术企业 high-tech enterprises",
                "rd_expenditure": "R&D 经费 (亿元)", "rd_intensity": "R&D 强度 (% GDP)",
                "rd_metropolitan": "主城都市区 R&D", "rd_northeast": "渝东北 R&D", "rd_southeast": "渝东南 R&D",
                "rd_share_central_urban": "中心城区 R&D share (%)",
                "tier_agreement": "districts in their published tier (%)"}


COUNT_SERIES = ("tech_enterprises", "high_tech_enterprises")


def _series_value(series: str, x) -> str:
    """A backtest point: a count of firms whole, anything else with two decimals below 100."""
    return num.value(x, count=series.split("@")[0].removesuffix("_added") in COUNT_SERIES, digits=2)


KIND_NAMES = {"level": "final figure", "preliminary": "preliminary figure", "expected": "expectation",
              "level_lower_bound": "floor (超)", "expected_year_end_lower_bound": "expected to pass (有望突破)",
              "flow": "gross additions", "flow_lower_bound": "floor on gross additions",
              "partial_year": "additions in part of the year", "all": "all"}


def _point_name(series: str, names: dict) -> str:
    if "@" in series:
        indicator, code = series.split("@")
        return f"{SERIES_NAMES.get(indicator, indicator)}, {names.get(int(code), code)}"
    base = series.removesuffix("_added").removesuffix("_filed")
    what = " added in the year" if series.endswith("_added") else " filed for certification" if series.endswith("_filed") else ""
    return SERIES_NAMES.get(base, base) + what


def forecast_quality_html(calibration: str | Path | None, result: EnsembleResult | None = None) -> str:
    """"How good is this forecast": the calibration file's rolling-origin backtest (each origin's
    forecast of the figures published one to three years later, beside a plain trend), its skill
    table and verdict, read from the file alone."""
    import tomllib
    if not calibration:
        return "<p class=note>This scenario runs without a calibration file: there is no backtest of its forecast.</p>"
    try:
        bt = tomllib.loads(Path(calibration).read_text("utf-8")).get("backtest")
    except (OSError, ValueError):
        bt = None
    name = html.escape(Path(calibration).name)
    if not bt:
        return f"<p class=note>The calibration file {name} holds no backtest yet (<code>python run.py calibrate --backtest</code> adds one).</p>"
    if "skill" not in bt:
        return (f"<p class=note>The backtest in {name} predates the comparison with a plain trend: of its {bt['points']} "
                f"held-out points {bt['coverage90']:.0%} fell inside the 90 % bands. <code>python run.py calibrate "
                "--backtest</code> scores it against the trend.</p>")
    origins = [o for o in bt["origins"] if f"origin_{o}" in bt]
    sk, pct = bt["skill"], lambda v, f=".0%": "—" if num.missing(v) else format(v, f)
    rows = []
    for i, kind in enumerate(sk["kind"]):
        if not (sk["n_scored"][i] or sk["n_bounds"][i]):
            continue
        lose = " class=miss" if not num.missing(sk["skill"][i]) and sk["skill"][i] < 0 else ""
        met = (f"{sk['model_bound_met'][i]:.0%} / {pct(sk['trend_bound_met'][i])}" if sk["n_bounds"][i] else "—")
        rows.append(f"<tr{lose}><td>{sk['horizon'][i]}</td><td class=l>{KIND_NAMES.get(kind, kind)}</td><td>{sk['n'][i]}</td>"
                    f"<td>{sk['n_scored'][i]}</td><td>{pct(sk['model_cover50'][i])}</td><td>{pct(sk['model_cover90'][i])}"
                    f" / {pct(sk['trend_cover90'][i])}</td><td>{pct(sk['model_mdape'][i], '.1f')} / "
                    f"{pct(sk['trend_mdape'][i], '.1f')}</td><td>{pct(sk['model_crps'][i], '.1%')} / "
                    f"{pct(sk['trend_crps'][i], '.1%')}</td><td>{pct(sk['skill'][i], '+.2f')}</td><td>{met}</td></tr>")
    head = ("<tr><th>years ahead</th><th class=l>kind of figure</th><th>points</th><th>scored</th><th>in 50 % band</th>"
            "<th>in 90 % band (trend)</th><th>median abs. error % (trend)</th><th>CRPS / value (trend)</th><th>skill</th>"
            "<th>bounds met (trend)</th></tr>")
    words = "".join(f"<li{' class=miss' if 'loses to the trend' in s or 'not met' in s else ''}>{html.escape(s)}</li>"
                    for s in bt["verdict"])
    names = identity.district_identity().set_index("adcode")["name_zh"].to_dict() if any(
        "@" in s for o in origins for s in bt[f"origin_{o}"]["series"]) else {}
    detail = []
    for o in origins:
        t = bt[f"origin_{o}"]
        for i, series in enumerate(t["series"]):
            v = lambda k: _series_value(series, t[k][i])   # noqa: E731 — one point's figure as printed
            cls = "" if t["kind"][i] not in ("level", "preliminary") or t["in90"][i] else " class=miss"
            detail.append(f"<tr{cls}><td class=l>{o}</td><td class=l>{html.escape(_point_name(series, names))}</td>"
                          f"<td>{t['year'][i]}</td><td class=l>{KIND_NAMES.get(t['kind'][i], t['kind'][i])}</td>"
                          f"<td>{v('observed')}</td><td>{v('p50')} ({v('p05')} – {v('p95')})</td>"
                          f"<td>{v('trend_p50')} ({v('trend_p05')} – {v('trend_p95')})</td>"
                          f"<td>{v('crps')} / {v('trend_crps')}</td></tr>")
    detail_head = ("<tr><th class=l>origin</th><th class=l>series</th><th>year</th><th class=l>kind</th><th>published</th>"
                   "<th>model: median (90 % band)</th><th>trend: median (90 % band)</th><th>CRPS model / trend</th></tr>")
    return (f"<p>At the end of each of {', '.join(map(str, sorted(origins)))} the model was given only what had been "
            "published by then and forecast the figures published one to three years later (to 2024): to 2021 by "
            "calibrating again on the shorter history and carrying each run on from its own state, from 2022 with the calibration's posterior (in 2023 weighted "
            "by the 2023 figures). Beside it is a plain trend anyone could draw: a log-linear line through the last "
            f"{bt['trend_window']} published years, with a band from the spread of past growth. An honest forecast "
            "puts about half the published values inside its 50 % band and nine in ten inside its 90 % band. CRPS "
            "(in % of the published value, lower is better) rewards a forecast that is both right and sharp; skill "
            "= 1 − CRPS(model) / CRPS(trend) is above 0 where the model beats the trend (red: where it loses). Only "
            "final and preliminary figures are scored; a published bound is checked by whether the median meets it. "
            f"The aims: ≥ {bt['aim_coverage90']:.0%} inside the 90 % bands, {bt['aim_coverage50'][0]:.0%}–"
            f"{bt['aim_coverage50'][1]:.0%} inside the 50 % bands, skill above 0 at "
            f"{' and '.join(map(str, bt['aim_skill_horizons']))} years ahead: this calibration "
            f"<b>{'meets' if bt['aim_met'] else 'does not meet'}</b> them.</p><table>{head}{''.join(rows)}</table>"
            f"<ul>{words}</ul>{_district_coverage(bt)}<details><summary>Every held-out point (red: a scored figure outside the model's 90 % "
            f"band)</summary><table>{detail_head}{''.join(detail)}</table></details><p class=note>The bands hold parameter "
            "uncertainty, chance and the published figure's stated error around the model's value (its observation "
            "model, as the update weighs it): " + (f"to 2021 single runs per posterior particle at the search scale "
            f"({bt['search_scale']}), " if "search_scale" in bt else "") + "from 2022 the update's paths. No figure "
            f"of a year after 2024 is used. The trend read {html.escape(bt['trend_history'])}.{_fixed_caveat(result)}</p>")


def _district_coverage(bt: dict) -> str:
    """The district bands' coverage (no trend forecasts a district, so it is not in the skill table)."""
    if not bt.get("district_points"):
        return ""
    c90, aim = bt["district_coverage90"], bt["aim_district_coverage90"]
    return (f"<p{' class=miss' if c90 < aim else ''}>District bands: {c90:.0%} of the {bt['district_points']} districts' "
            f"own figures held out lie inside their 90 % bands (aim ≥ {aim:.0%}), {bt['district_coverage50']:.0%} inside "
            "their 50 % bands: the figures districts published for 2020–2022, which the start itself leaned on "
            "(the 2017 split takes the 2022 shares, own figures included), and those of 2023–2024, which nothing in "
            "the model saw before.</p>")


def _fixed_caveat(result: EnsembleResult | None) -> str:
    if result is None or run_kind(result).parameters != FIXED:
        return ""
    return (" This run's own bands hold chance only (every replicate at the fitted point), so they are narrower "
            "than the backtested bands and would cover less of what is later published.")


def write_report(result: EnsembleResult, out: str | Path) -> Path:
    """Write report.html and figures/*.png for one scenario's ensemble."""
    out = Path(out)
    figures = {
        "fan_charts": fan_charts([result]),
        "choropleths": choropleths(result),
        "network_map": network_map(result),
        "inequality": inequality_chart([result]),
    }
    pngs = _save(figures, out / "figures")
    s = result.scenario
    body = [f"<h1>{html.escape(s.name)} — target report</h1>", summary_html(result), _header([result]),
            "<h2>Targets 目标</h2>", scoreboard_html(result.summary, s.targets),
            f"<p class=note>{html.escape(reading_note(result))}</p>",
            "<h2>Target indicators over time</h2>", _img(pngs["fan_charts"], "fan charts"), zone_steps_html([result]),
            "<h2>How good is this forecast 预测可信度</h2>", forecast_quality_html(s.calibration, result),
            "<h2>Why might we miss? 何种情形下未能达成</h2>", why_we_might_miss_html(result),
            "<h2>The 38 区县 in the final year</h2>", _img(pngs["choropleths"], "choropleth maps"),
            "<h2>District ranking (by R&D growth since the start)</h2>", ranking_html(result),
            "<h2>Regional inequality over time</h2>", _img(pngs["inequality"], "inequality"),
            "<h2>Collaboration network 协同网络</h2>", _img(pngs["network_map"], "network map")]
    return _write_html(out / "report.html", f"{s.name} — target report", body, [result])


def write_comparison_report(results: list[EnsembleResult], diffs: pd.DataFrame, out: str | Path) -> Path:
    out = Path(out)
    figures = {"differences": difference_chart(diffs), "fan_charts": fan_charts(results),
               "inequality": inequality_chart(results)}
    for r in results:
        figures[f"choropleths_{r.scenario.name}"] = choropleths(r)
        figures[f"network_map_{r.scenario.name}"] = network_map(r)
    pngs = _save(figures, out / "figures")
    ref = results[0].scenario.name
    body = [f"<h1>Comparison against {html.escape(ref)}</h1>", summary_html(results[0], diffs), _header(results),
            "<h2>Paired differences 差异</h2>", diff_html(diffs, results[0].scenario.targets),
            _img(pngs["differences"], "differences")]
    for r in results:
        body += [f"<h2>Targets: {html.escape(r.scenario.name)}</h2>", scoreboard_html(r.summary, r.scenario.targets)]
    # One note per way of reading them (the scenarios' runs may differ in how they ran their parameters).
    body += list(dict.fromkeys(f"<p class=note>{html.escape(reading_note(r))}</p>" for r in results))
    body += ["<h2>Target indicators over time</h2>", _img(pngs["fan_charts"], "fan charts"), zone_steps_html(results),
             f"<h2>How good is this forecast 预测可信度 ({html.escape(ref)})</h2>",
             forecast_quality_html(results[0].scenario.calibration, results[0]),
             "<h2>Regional inequality over time</h2>", _img(pngs["inequality"], "inequality")]
    for r in results:
        body += [f"<h2>{html.escape(r.scenario.name)}: the 38 区县 and their network</h2>",
                 _img(pngs[f"choropleths_{r.scenario.name}"], "maps"), ranking_html(r),
                 _img(pngs[f"network_map_{r.scenario.name}"], "network")]
    return _write_html(out / "report.html", f"Comparison against {ref}", body, results)


def _save(figures: dict, folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    pngs = {}
    for name, fig in figures.items():
        pngs[name] = png(fig)
        (folder / f"{name}.png").write_bytes(pngs[name])
    return pngs


def _write_html(path: Path, title: str, body: list[str], results: list[EnsembleResult]) -> Path:
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    foot = FOOT.format(when=when, bands=html.escape(footnote(results)))
    text = (f"<!DOCTYPE html><html lang=zh-Hans><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}{foot}</body></html>")
    path.write_text(text, encoding="utf-8")
    return path
