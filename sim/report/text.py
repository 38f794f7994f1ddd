"""The report's first paragraph, in plain words, in Chinese and English, written from the
numbers: which targets are likely and which unlikely and how sure that is, which districts
lag on T3, and, given a comparison, what changes the odds most.

How sure: a probability of meeting a target is the share of replicates that met it, so it is
known only to within a binomial interval that narrows with the number of replicates (Wilson's
95 % interval here: 20 of 20 replicates still only says "at least 84 %"); the words for each
probability say only what its interval rules out. What the spread between runs holds (chance
alone, or the calibrated parameters' uncertainty too) and how far the number of runs pins the
odds down are said as the run was made (``sim/report/uncertainty.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import datasets
from ..experiments.laggards import MOSTLY, Laggards, t3_laggards
from ..experiments.targets import INDICATOR_NAMES, RD_GROWTH_TARGET, UNIT_ZH
from .events import ZONE_SHARE, zone_steps
from .numbers import band, threshold, value
from .uncertainty import RunKind, beyond, run_kind, uncertainty_sentence, wilson

__all__ = ["LIKELIHOOD", "likelihood", "plain_summary", "result_summary"]

# Words for the chance of meeting a target, chosen by what its 95 % interval rules out, so that
# they never say more than the runs show: best first.
LIKELIHOOD = (("几乎肯定达成", "almost certain", lambda lo, hi: lo >= 0.9),
              ("很可能达成", "likely", lambda lo, hi: lo >= 0.5),
              ("说不准（区间跨过50%）", "could go either way (the interval includes 50 %)", lambda lo, hi: hi >= 0.5),
              ("不太可能达成", "unlikely", lambda lo, hi: hi >= 0.1),
              ("几乎不可能达成", "very unlikely", lambda lo, hi: True))
MAX_NAMED = 10         # lagging districts named before "and N more"


def likelihood(lo: float, hi: float) -> int:
    """The index in LIKELIHOOD of the words for a probability whose 95 % interval is lo–hi."""
    return next(i for i, (_, _, test) in enumerate(LIKELIHOOD) if test(lo, hi))


def plain_summary(summary: pd.DataFrame, replicates: int, targets, name: str, lagging: Laggards | None = None,
                  diffs: pd.DataFrame | None = None, kind: RunKind | None = None,
                  notes: dict[str, list[str]] | None = None) -> dict[str, str]:
    """The paragraph, as ``{"zh": ..., "en": ...}``.

    ``summary``: one row per target (``sim.experiments.results.summarise``); ``lagging``: T3's laggards,
    counted run by run as the scoreboard counts T3 (``sim.experiments.laggards``); ``diffs``: paired differences of
    other scenarios (or candidate lever settings) against this one (``sim.experiments.ensemble.compare``);
    ``kind``: how the runs were made (default: read from the summary's ``parameters`` and
    ``parameter_draws`` columns, as in summary.csv); ``notes``: sentences ({"zh": [...], "en":
    [...]}) said after how sure the odds are, e.g. a target that rests on a step of the model."""
    kind = kind if kind is not None else run_kind(summary, replicates)
    by_id = {t.id: t for t in targets}
    groups: dict[int, list] = {}
    for row in summary.itertuples():
        if not np.isfinite(row.prob_met):
            continue
        k = int(round(row.prob_met * replicates))
        lo, hi = wilson(k, replicates)
        level = likelihood(lo, hi)
        groups.setdefault(level, []).append((by_id.get(row.target), row, k, lo, hi))
    zh, en = [f"「{name}」{replicates} 次重复运行中："], [f"Across {replicates} runs of «{name}»:"]
    zh_parts, en_parts = [], []
    for level in sorted(groups):
        word_zh, word_en, _ = LIKELIHOOD[level]
        zh_parts.append(word_zh + "：" + "；".join(_target_zh(t, r, k, replicates, lo, hi) for t, r, k, lo, hi in groups[level]))
        en_parts.append(f"{word_en}: " + "; ".join(_target_en(t, r, k, replicates, lo, hi) for t, r, k, lo, hi in groups[level]))
    zh.append("。".join(zh_parts) + "。")
    en.append(" ".join(p[0].upper() + p[1:] + "." for p in en_parts))
    zh.append("括号内为达标概率的95%区间，措辞只说区间能确定的。" + uncertainty_sentence(kind, "zh"))
    en.append("In brackets, the 95 % interval of each probability; the words say only what it rules out. "
              + uncertainty_sentence(kind, "en"))
    for lang, out in (("zh", zh), ("en", en)):
        out.extend((notes or {}).get(lang, []))
    if lagging is not None and lagging.replicates:
        zh.append(_lagging_zh(lagging))
        en.append(_lagging_en(lagging))
    if diffs is not None and len(diffs):
        z, e = _odds(diffs)
        zh.append(z)
        en.append(e)
    return {"zh": "".join(zh), "en": " ".join(en)}


def result_summary(result, diffs: pd.DataFrame | None = None) -> dict[str, str]:
    """:func:`plain_summary` of an :class:`~sim.experiments.results.EnsembleResult`."""
    lagging = t3_laggards(result)
    kind = run_kind(result)
    # A target the model's own step decides: the zones upgraded at the end of its year (events.py).
    notes = {"zh": [], "en": []}
    for step in zone_steps(result):
        for t in result.scenario.targets:
            if t.indicator == ZONE_SHARE and t.year == step.year and step.quarter == 4:
                k0 = sum(v >= t.threshold for v in step.before_runs)
                k1 = sum(v >= t.threshold for v in step.after_runs)
                if k0 != k1:
                    notes["zh"].append(step.brief(t, "zh"))
                    notes["en"].append(step.brief(t, "en"))
    return plain_summary(result.summary, kind.replicates, result.scenario.targets, result.scenario.name, lagging, diffs,
                         kind, notes)


# ------------------------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:.0f}"


def _num(x: float) -> str:
    """A number without a unit: whole from 100 (or when whole), else one decimal."""
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.1f}"


def _target_zh(t, r, k, n, lo, hi) -> str:
    what = INDICATOR_NAMES.get(t.indicator, (t.indicator, ""))[0] if t else ""
    unit = UNIT_ZH.get(t.unit, t.unit) if t else ""
    return (f"{r.target} {what}≥{threshold(r.threshold)}{unit}（{r.year}年；{n} 次中 {k} 次达成，"
            f"概率 {_pct(lo)}–{_pct(hi)}%）")


def _target_en(t, r, k, n, lo, hi) -> str:
    what = INDICATOR_NAMES.get(t.indicator, ("", t.indicator))[1] if t else ""
    unit = " %" if t is not None and t.unit == "%" else ""
    return f"{r.target} {what} ≥ {threshold(r.threshold)}{unit} by {r.year} (met in {k} of {n} runs; {_pct(lo)}–{_pct(hi)} %)"



def _names(rows: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(short Chinese name, pinyin, share of the runs in which it lags) of each district, in order."""
    d = datasets.load_districts().set_index("adcode")
    return [(d["short_zh"].get(r.adcode, r.name_zh), d["name_pinyin"].get(r.adcode, ""), float(r.lag_share))
            for r in rows.itertuples()]


def _lag_count(lagging: Laggards, sep: str = "–") -> tuple[str, str]:
    """The runs' median count of laggards and its 5–95 % band, as the scoreboard prints T3's."""
    return value(lagging.median, count=True), band(lagging.p05, lagging.p95, count=True, sep=sep)


def _lagging_zh(lagging: Laggards) -> str:
    n, y0, y1 = lagging.n_districts, lagging.start_year, lagging.year
    if not lagging.per_replicate.any():
        return f"T3：每次运行中{n}个区县{y0}—{y1}年研发年均增速都达到{RD_GROWTH_TARGET:.0%}。"
    median, spread = _lag_count(lagging)
    head = (f"T3 落后的区县：中位运行中有 {median} 个区县{y0}—{y1}年研发年均增速低于{RD_GROWTH_TARGET:.0%}"
            f"（5–95%的运行为 {spread} 个{'；记分表的 T3 逐次运行计其余区县' if lagging.scored else ''}）")
    mostly = lagging.mostly()
    rows = mostly if len(mostly) else lagging.ever()
    names = _names(rows)
    shown = "、".join(f"{zh}（{share:.0%}）" for zh, _, share in names[:MAX_NAMED])
    more = f"等 {len(names)} 个" if len(names) > MAX_NAMED else ""
    if len(mostly):
        return (f"{head}；在至少{_share_zh(MOSTLY)}的运行中落后的区县，按落后运行的占比由高到低为{shown}{more}"
                "（括号内为落后的运行占比）。")
    return (f"{head}；没有区县在至少{_share_zh(MOSTLY)}的运行中落后，落后最常见的是{shown}{more}"
            "（括号内为落后的运行占比）。")


def _share_zh(x: float) -> str:
    return "半数" if x == 0.5 else f"{100 * x:.0f}%"


def _lagging_en(lagging: Laggards) -> str:
    n, y0, y1 = lagging.n_districts, lagging.start_year, lagging.year
    if not lagging.per_replicate.any():
        return f"On T3, all {n} districts grow their R&D by at least {RD_GROWTH_TARGET:.0%}/yr from {y0} to {y1} in every run."
    median, spread = _lag_count(lagging)
    head = (f"On T3, {median} of the {n} districts grow their R&D by less than {RD_GROWTH_TARGET:.0%}/yr on average from "
            f"{y0} to {y1} in the median run ({spread} in 5–95 % of the runs"
            + ("; the scoreboard's T3 counts the others, run by run)" if lagging.scored else ")"))
    mostly = lagging.mostly()
    rows = mostly if len(mostly) else lagging.ever()
    names = _names(rows)
    shown = ", ".join(f"{en} {zh} ({'in ' if i == 0 else ''}{100 * share:.0f} %{' of the runs' if i == 0 else ''})"
                      for i, (zh, en, share) in enumerate(names[:MAX_NAMED]))
    more = f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else ""
    if len(mostly):
        return f"{head}; lagging in at least {_share_en(MOSTLY)} of the runs, most often first: {shown}{more}."
    return f"{head}; none lags in {_share_en(MOSTLY)} of the runs or more, the most often: {shown}{more}."


def _share_en(x: float) -> str:
    return "half" if x == 0.5 else f"{100 * x:.0f} %"


def _odds(diffs: pd.DataFrame) -> tuple[str, str]:
    """What changes the odds most: the largest change in a probability whose interval excludes
    zero, else the largest change in a value beyond the spread between runs (chance, and the
    parameters' uncertainty when the runs drew posterior parameters), else that nothing does."""
    ref = diffs["reference"].iloc[0]
    b_zh, b_en = beyond(diffs, "zh"), beyond(diffs, "en")
    d = diffs.assign(size=diffs["prob_met_diff"].abs())
    sure = d[(d["prob_met_diff_lo"] > 0) | (d["prob_met_diff_hi"] < 0)]
    if len(sure):
        r = sure.sort_values("size", ascending=False).iloc[0]
        pts = 100 * r["prob_met_diff"]
        lo, hi = 100 * r["prob_met_diff_lo"], 100 * r["prob_met_diff_hi"]
        return (f"与「{ref}」相比，改变达标概率最多的是「{r['scenario']}」对 {r['target']}："
                f"{pts:+.0f} 个百分点（95%区间 {lo:+.0f} 至 {hi:+.0f}）。",
                f"Against «{ref}», what changes the odds most is «{r['scenario']}» on {r['target']}: "
                f"{pts:+.0f} points ({lo:+.0f} to {hi:+.0f}, 95 % interval).")
    rel = d.assign(rel=(d["value_diff"] / d["value_reference"].abs().replace(0, np.nan)).abs())
    real = rel[((rel["value_diff_lo"] > 0) | (rel["value_diff_hi"] < 0)) & rel["rel"].notna()]
    if len(real):
        r = real.sort_values("rel", ascending=False).iloc[0]
        share = 100 * r["value_diff"] / abs(r["value_reference"])
        return (f"与「{ref}」相比，没有哪个情景使达标概率的变化{b_zh}；指标变化最大的是「{r['scenario']}」"
                f"对 {r['target']}：{share:+.1f}%（平均差值 {_num(r['value_diff'])}，95%区间 {_num(r['value_diff_lo'])} 至 "
                f"{_num(r['value_diff_hi'])}）。",
                f"Against «{ref}», no scenario moves a probability {b_en} with these runs; the largest real "
                f"change in a target's value is «{r['scenario']}» on {r['target']}: {share:+.1f} % "
                f"(mean difference {_num(r['value_diff'])}, 95 % interval {_num(r['value_diff_lo'])} to "
                f"{_num(r['value_diff_hi'])}).")
    return (f"与「{ref}」相比，在这些运行次数下，没有哪个情景对任何目标的影响{b_zh}。",
            f"Against «{ref}», no scenario changes any target {b_en} with these runs.")
