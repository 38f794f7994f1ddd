"""Scenario discovery in plain words: the names of the inputs and targets, numbers a planner
can read, and the sentences of :mod:`sim.experiments.discovery`, in English and Chinese.

A sentence is true of the runs it describes: the discovery rounds a box's bounds before it
counts the runs inside, so "below 0.31" is the condition the percentages are of.
"""

from __future__ import annotations

import math

import numpy as np

from ..params.levers import SECTION_LABELS
from ..params.parameters import levers
from .targets import INDICATOR_NAMES, UNIT_ZH

# The calibrated behaviour parameters (sim/calibration/problem.py FREE and DERIVED) in plain words.
INPUT_NAMES = {
    "behaviour.candidate_ratio": ("2022年末待登记企业池", "the end-2022 pool of firms yet to register"),
    "behaviour.candidate_ratio_2017": ("2017年末待登记企业池", "the 2017 pool of firms yet to register"),
    "behaviour.registered_rd_2022": ("2022年末已登记未认定企业的研发强度", "the end-2022 R&D intensity of registered, uncertified firms"),
    "behaviour.bass_p": ("外部登记率", "the external registration rate"),
    "behaviour.bass_q": ("模仿系数", "the imitation rate"),
    "behaviour.entry_rate": ("研发活跃新企业进入率", "the entry rate of new R&D-active firms"),
    "behaviour.apply_rate": ("高企认定申报率", "the certification application rate"),
    "behaviour.cert_bunching": ("向高企认定门槛凑研发强度的幅度", "how far below the R&D threshold firms still top up and apply"),
    "behaviour.growth_base": ("企业营收基础增速", "firms' revenue drift"),
    "behaviour.growth_finance": ("融资带来的额外增速", "the extra growth of financed firms"),
    "behaviour.district_rd_elasticity": ("企业研发强度随所在区县变化的弹性",
                                         "how far firms' R&D intensity follows their district's"),
}
VERBS = {"missed": ("未达成", "missed", "all misses"), "met": ("达成", "met", "all runs that meet it")}
FEW_RUNS = 50           # fewer runs than this: the sentences say they are a hint


def input_names(key: str) -> tuple[str, str]:
    """(Chinese, English) plain-words name of an input (a dotted parameter key)."""
    if key in INPUT_NAMES:
        return INPUT_NAMES[key]
    lever = levers().get(key)
    if lever is None:
        return key, key
    zh, _, en = SECTION_LABELS.get(key.split(".", 1)[0], " ").partition(" ")
    # the section's name first, unless the lever's own label starts with it
    return (lever.zh if lever.zh.startswith(zh) else f"{zh}：{lever.zh}",
            lever.en if lever.en.lower().startswith(en.lower()) else f"{en.lower()}: {lever.en}")


def short_key(key: str) -> str:
    """The key shown beside an input's name: behaviour parameters by their own name."""
    return key.removeprefix("behaviour.")


def number(x: float) -> str:
    """A figure for a sentence: thousands separated, at most one decimal above 100."""
    if not np.isfinite(x):
        return "—"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.1f}"


def bound(value: float) -> str:
    """A box's bound as printed (already rounded by the discovery: every digit shown counts)."""
    return _tidy(f"{value:.15g}")


def _tidy(text: str) -> str:
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa} × 10^{int(exp)}"
    return text.replace("-", "−")


def _values(values) -> tuple[str, str]:
    shown = [("是" if v else "否", "true" if v else "false") if isinstance(v, (bool, np.bool_)) else (str(v), str(v))
             for v in sorted(values, key=str)]
    return " 或 ".join(z for z, _ in shown), " or ".join(e for _, e in shown)


def condition_words(cond) -> tuple[str, str]:
    """(Chinese, English) words of one condition of a box."""
    zh, en = input_names(cond.input)
    short = short_key(cond.input)
    if cond.values is not None:
        vz, ve = _values(cond.values)
        return f"{zh}（{short}）为 {vz}", f"{en} ({short}) is {ve}"
    lo = bound(cond.lo) if cond.lo is not None else None
    hi = bound(cond.hi) if cond.hi is not None else None
    if lo is not None and hi is not None:
        return f"{zh}（{short}）介于 {lo} 与 {hi} 之间", f"{en} ({short}) is between {lo} and {hi}"
    if hi is not None:
        return f"{zh}（{short}）低于 {hi}", f"{en} ({short}) is below {hi}"
    return f"{zh}（{short}）高于 {lo}", f"{en} ({short}) is above {lo}"


def target_words(target) -> tuple[str, str]:
    """(Chinese, English) name of a target: its year, id and threshold."""
    zh_what, en_what = INDICATOR_NAMES.get(target.indicator, (target.description, target.description))
    unit_zh = UNIT_ZH.get(target.unit, target.unit)
    unit_en = " %" if target.unit == "%" else ""
    return (f"{target.year}年目标 {target.id}（{zh_what}≥{number(target.threshold)}{unit_zh}）",
            f"the {target.year} goal {target.id} ({en_what} ≥ {number(target.threshold)}{unit_en})")


def pct(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{100 * x:.0f} %"


def pct_zh(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{100 * x:.0f}%"


def box_sentences(d, box) -> tuple[str, str]:
    """(Chinese, English) sentence of one box of a discovery ``d``."""
    tz, te = target_words(d.target)
    vz, ve, noun = VERBS[d.case]
    words = [condition_words(c) for c in box.conditions]
    cz, ce = "、且".join(z for z, _ in words), " and ".join(e for _, e in words)
    k, m, total = box.cases, box.runs, d.cases
    if box.meets:
        zh = (f"在{cz} 的模拟中，{tz}有 {pct_zh(box.density)} {vz}（{m} 次中 {k} 次）；"
              f"这些模拟占全部{vz}情形的 {pct_zh(box.coverage)}（{total} 次中 {k} 次）。")
        en = (f"{te[0].upper() + te[1:]} is {ve} in {pct(box.density)} of the runs where {ce} ({k} of {m}); "
              f"these runs hold {pct(box.coverage)} of {noun} ({k} of {total}).")
    else:
        zh = (f"没有哪组不超过 {d.max_dims} 个输入的条件能使{tz}多半{vz}（至少 {pct_zh(d.required_density)} 的模拟）："
              f"最明显的是{cz}，其中 {pct_zh(box.density)} {vz}（{m} 次中 {k} 次），占全部{vz}情形的 {pct_zh(box.coverage)}。")
        en = (f"No condition on at most {d.max_dims} inputs makes {te} mostly {ve} (in at least "
              f"{pct(d.required_density)} of the runs): the clearest, where {ce}, sees it {ve} in {pct(box.density)} "
              f"of them ({k} of {m}), {pct(box.coverage)} of {noun}.")
    return zh, en


def overall_sentences(d) -> tuple[str, str]:
    """(Chinese, English): how often the target is missed (met) over all the runs, why there is
    no box when there is none, what several boxes hold together, and a word on small ensembles."""
    tz, te = target_words(d.target)
    vz, ve, _ = VERBS[d.case]
    zh = [f"全部 {d.runs} 次模拟中，{tz}{vz} {d.cases} 次（{pct_zh(d.base_rate)}）。"]
    en = [f"Over all {d.runs} runs, {te} is {ve} in {d.cases} ({pct(d.base_rate)})."]
    if d.cases == 0:
        zh.append("这些模拟每次都达成，无需解释。" if d.case == "missed" else "这些模拟从未达成，无需解释。")
        en.append(f"It is never {ve} in these runs: there is nothing to explain.")
    elif d.cases == d.runs:
        zh.append(f"每次模拟都{vz}，没有能区分模拟的条件。")
        en.append(f"It is {ve} in every run, so no condition separates the runs.")
    elif not d.boxes:
        zh.append(f"没有哪组不超过 {d.max_dims} 个输入的条件与{vz}有明显关联（每个条件都须明显优于随机）。")
        en.append(f"No condition on at most {d.max_dims} inputs is clearly linked to it being {ve} (each condition "
                  "must do clearly better than chance).")
    if 0 < d.cases < d.runs and d.case == "missed" and d.base_rate > 0.5:
        zh.append("多数模拟未达成：可用 --met 询问达成需要什么条件。")
        en.append("It is missed in most runs: --met asks instead what it takes to meet it.")
    if len(d.boxes) > 1:
        zh.append(f"以上条件合计涵盖全部{vz}情形的 {pct_zh(d.together)}。")
        en.append(f"Together these conditions hold {pct(d.together)} of {VERBS[d.case][2]}.")
    if d.runs < FEW_RUNS:
        zh.append(f"仅 {d.runs} 次模拟：结论仅供参考（可用 --replicates 增加模拟次数）。")
        en.append(f"Only {d.runs} runs: read this as a hint, not a finding (more runs: --replicates).")
    return "".join(zh), " ".join(en)
