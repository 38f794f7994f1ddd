"""How sure the report's numbers are, said as the run was made.

Two things decide it. How the parameters ran: by default replicate k runs draw k of the
calibration's posterior ("posterior"), so the spread between runs holds the calibrated
parameters' uncertainty as well as chance; with ``--fixed-parameters`` every replicate runs the
fitted point ("fixed"), so it holds chance only. And how many replicates ran: a probability of
meeting a target is a share of runs, known only to within a binomial interval (Wilson's 95 %
interval here: 20 of 20 runs still only say "at least 84 %") that narrows as runs are added, so a
probability from 8 runs is worded more cautiously than one from 200.

:func:`uncertainty_sentence` is what the report's first paragraph says (the app can reuse it);
the scoreboard's note, the footer, the comparison's note and the figures' titles say the same
thing through the other functions here, all from one :class:`RunKind`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..experiments import posterior
from ..experiments.posterior import FIXED, POSTERIOR

__all__ = ["FIXED", "POSTERIOR", "UNKNOWN", "RunKind", "beyond", "coarsening_note", "coarsening_sentence", "footnote",
           "margin", "pairing_sentence", "precision_sentence", "reading_note", "run_kind", "spread_phrase",
           "spread_sentence", "uncertainty_sentence", "wilson"]

UNKNOWN = "unknown"
Z95 = 1.959963984540054
ROUGH_MARGIN = 15.0      # points: a probability known no better than this is "rough odds" (fewer than ~40 runs)
FIRM_MARGIN = 10.0       # points: at or below this, the number of runs adds little doubt (~95 runs or more)
COARSE_DRAWS = 20        # fewer posterior draws than this sample the parameters' uncertainty only coarsely


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n`` (good at 0 and 1 and for small n); (nan, nan)
    when ``n`` is 0."""
    if n <= 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # The exact ends at 0 and n: rounding would leave them a hair inside.
    return (0.0 if k <= 0 else max(0.0, centre - half)), (1.0 if k >= n else min(1.0, centre + half))


def margin(n: int) -> float:
    """Half-width in points of the widest (p = 0.5) interval with ``n`` runs."""
    lo, hi = wilson(n // 2, n) if n else (math.nan, math.nan)
    return 100 * (hi - lo) / 2


@dataclass(frozen=True)
class RunKind:
    """How an ensemble was made, as far as its uncertainty goes."""
    parameters: str          # POSTERIOR, FIXED or UNKNOWN
    draws: int = 0           # distinct posterior draws the replicates ran
    available: int = 0       # draws the calibration's posterior holds (0: none, or not known)
    replicates: int = 0

    @property
    def margin(self) -> float:
        return margin(self.replicates)


def run_kind(source, replicates: int | None = None) -> RunKind:
    """The :class:`RunKind` of a scenario, an ensemble's result or its summary table (columns
    ``parameters`` and ``parameter_draws``, as in summary.csv; pass ``replicates``).
    ``replicates`` overrides the count of runs (a result's default: the replicates that ran)."""
    if isinstance(source, RunKind):
        return source
    if hasattr(source, "scenario") and hasattr(source, "targets"):          # an EnsembleResult
        t = source.targets
        ran = int(t["replicate"].nunique()) if len(t) else 0
        return run_kind(source.scenario, replicates if replicates is not None else ran)
    if hasattr(source, "parameters") and hasattr(source, "draws"):         # a Scenario
        n = source.replicates if replicates is None else replicates
        mode = source.parameters
        # distinct draws: a conditioned start's particles repeat the draws that agree best
        available = posterior.distinct(source.draws)
        return RunKind(mode, posterior.distinct(source.draws, n) if mode == POSTERIOR else 0, available, n)
    if isinstance(source, pd.DataFrame):
        n = int(replicates or 0)
        if "parameters" not in source.columns or not len(source):
            return RunKind(UNKNOWN, replicates=n)
        mode = str(source["parameters"].iloc[0])
        draws = int(source["parameter_draws"].iloc[0]) if "parameter_draws" in source.columns else 0
        return RunKind(mode if mode in (POSTERIOR, FIXED) else UNKNOWN, draws, 0, n)
    return RunKind(UNKNOWN, replicates=int(replicates or 0))


# ------------------------------------------------------------------------------------------------
def precision_sentence(kind: RunKind, lang: str = "en") -> str:
    """How well the number of runs pins a probability down."""
    n, m = kind.replicates, kind.margin
    zh = lang == "zh"
    if n <= 0:
        return "没有完成的运行，无法说明达标几率。" if zh else "No runs finished: there is nothing to say about the odds."
    if m > ROUGH_MARGIN:
        return (f"仅 {n} 次运行：每个概率只能确定到约 ±{m:.0f} 个百分点，只能当作粗略的几率（增加重复次数可以收窄）。" if zh
                else f"Only {n} runs: each probability is known to within about ±{m:.0f} points, so read these as "
                     "rough odds (more replicates narrow them).")
    if m > FIRM_MARGIN:
        return (f"{n} 次运行可把概率确定到约 ±{m:.0f} 个百分点。" if zh
                else f"{n} runs pin a probability down to about ±{m:.0f} points.")
    return (f"{n} 次运行可把概率确定到约 ±{m:.0f} 个百分点，运行次数本身带来的不确定已很小。" if zh
            else f"{n} runs pin a probability down to about ±{m:.0f} points, so the number of runs adds little doubt.")


def spread_sentence(kind: RunKind, lang: str = "en") -> str:
    """What the spread between the runs (every band and probability) holds."""
    zh = lang == "zh"
    d, a = kind.draws, kind.available
    if kind.parameters == POSTERIOR:
        of = (f"后验 {a} 个抽样中的 {d} 个" if a else f"{d} 个抽样") if zh else (f"{d} of its {a} draws" if a else f"{d} draws")
        if zh:
            coarse = f"（但只有 {d} 个抽样，只能粗略体现这部分不确定性）" if d < COARSE_DRAWS else ""
            return (f"每次运行还各自采用一组校准后的行为参数（第 k 次运行用后验分布的第 k 个抽样，本次用了{of}），"
                    f"所以运行之间的差异（所有区间和概率）既包含随机因素，也包含校准参数的不确定性{coarse}；"
                    "不含未经校准、只是估计的参数的不确定性，也不含模型本身假设的不确定性。")
        coarse = f", though {d} draws sample it only coarsely" if d < COARSE_DRAWS else ""
        return (f"Each run also drew its own calibrated behaviour parameters (run k: draw k of the calibration's "
                f"posterior, {of} here), so the spread between runs, and with it every band and probability, holds "
                f"both chance and the calibrated parameters' uncertainty{coarse}; not the uncertainty of the "
                "parameters that are estimated rather than calibrated, nor of the model's own assumptions.")
    if kind.parameters == FIXED:
        which = (("校准的最优估计" if a else "该情景的参数：校准文件没有后验样本") if zh
                 else ("the calibration's fitted point" if a else "the scenario's own: its calibration holds no "
                       "posterior sample"))
        return (f"所有运行都采用同一组参数（{which}），所以运行之间的差异（所有区间和概率）只反映随机因素，"
                "不含模型参数的不确定性：真实的把握比这些区间显示的要小。" if zh
                else f"Every run used the same parameters ({which}), so the spread between runs, and with it every "
                     "band and probability, is chance alone, not uncertainty in the model's parameters: the real "
                     "odds are less certain than these intervals say.")
    return ("运行之间的差异（所有区间和概率）反映随机因素；若各次运行抽取了后验参数，也包含校准参数的不确定性（见报告抬头）。"
            if zh else "The spread between runs, and with it every band and probability, is chance, and also the "
                       "calibrated parameters' uncertainty if the runs drew posterior parameters (the header says which).")


def uncertainty_sentence(source, lang: str = "en", replicates: int | None = None) -> str:
    """How sure the probabilities and bands of ``source`` (a scenario, an ensemble's result, its
    summary table or a :class:`RunKind`) are, in ``lang`` ("en" or "zh"): how well its number of
    runs pins a probability down, and whether the spread between runs holds the calibrated
    parameters' uncertainty (posterior draws) or chance alone (the fitted point)."""
    kind = run_kind(source, replicates)
    return precision_sentence(kind, lang) + ("" if lang == "zh" else " ") + spread_sentence(kind, lang)


def spread_phrase(kinds, lang: str = "en") -> str:
    """A figure title's few words: what the spread of its bands holds, for one kind or several."""
    modes = {k.parameters for k in ([kinds] if isinstance(kinds, RunKind) else kinds)}
    zh = lang == "zh"
    if modes == {POSTERIOR}:
        return "随机因素与校准参数的不确定性" if zh else "chance and the calibrated parameters' uncertainty"
    if modes == {FIXED}:
        return "仅随机因素（固定参数）" if zh else "chance only (parameters fixed at the fitted point)"
    if modes == {UNKNOWN}:
        return "运行间的差异" if zh else "the spread between runs"
    return ("随机因素；抽取后验参数的情景还含参数不确定性" if zh
            else "chance, and parameter uncertainty in the scenarios that drew posterior parameters")


def reading_note(source) -> str:
    """The scoreboard's "how to read this" note (English)."""
    kind = run_kind(source)
    return ("How to read this: each run (replicate) simulates the same policy with other chance events; median, 5 % and 95 % are the middle run's value and the band holding 90 % of the runs at the "
            "target year (a count's band rounded outward to whole numbers); P(met) is the share of runs that meet "
            f"the target, known to about ±{kind.margin:.0f} points with {kind.replicates} runs (the first paragraph "
            f"gives each one's 95 % interval). {spread_sentence(kind)} Green: met in ≥ 90 % of runs; yellow: "
            "50–90 %; red: below 50 %.")


def coarsening_sentence(targets: pd.DataFrame, lang: str = "en") -> str:
    """How many runs simulated their firms more coarsely than their scale to keep the firm table
    under its bound (the ``coarsening`` column of an ensemble's targets table), or "" when none
    did (or the table predates the column)."""
    if "coarsening" not in targets.columns or not len(targets):
        return ""
    per_run = targets.groupby("replicate")["coarsening"].max()
    k, n, most = int((per_run > 1).sum()), len(per_run), int(per_run.max())
    if not k:
        return ""
    if lang == "zh":
        return (f"{n} 次运行中有 {k} 次的企业数量过多，为控制企业表的规模而抽稀（到期末一行最多代表按规模应有的 {most} 行），"
                "其计数为加权估计，小区县的数值更粗（见 docs/MODEL.md §3.3）。")
    return (f"{k} of {n} runs held so many firms that they thinned them to keep the firm table under its bound "
            f"(by the end one row stood for up to {most} of the rows their scale asks for): their counts "
            "are weighted estimates, coarser in the small districts (docs/MODEL.md §3.3).")


def coarsening_note(results, lang: str = "en") -> str:
    """``coarsening_sentence`` of each ensemble of ``results`` that thinned, each named when there
    are several (a comparison); "" when none thinned."""
    zh = lang == "zh"
    said = [(r.scenario.name, coarsening_sentence(r.targets, lang)) for r in results]
    return ("" if zh else " ").join(c if len(results) == 1 else (f"「{n}」：" if zh else f"«{n}»: ") + c
                                    for n, c in said if c)


def footnote(results) -> str:
    """The report's closing words on its bands, for one ensemble or a comparison's several."""
    kinds = [(r.scenario.name, run_kind(r)) for r in results]
    sentences = {spread_sentence(k) for _, k in kinds}
    if len(sentences) == 1:
        said = "Bands are across replicates. " + sentences.pop()
    else:
        said = "Bands are across replicates. " + " ".join(f"«{name}»: {spread_sentence(k)}" for name, k in kinds)
    return " ".join(filter(None, (said, coarsening_note(results))))


# ------------------------------------------------------------------------------------------------
def _diff_modes(diffs: pd.DataFrame) -> tuple[str, dict[str, str]]:
    """The reference's parameters and each scenario's, from a comparison's table."""
    if "parameters" not in diffs.columns or "reference_parameters" not in diffs.columns or not len(diffs):
        return UNKNOWN, {}
    modes = diffs.drop_duplicates("scenario").set_index("scenario")["parameters"].astype(str).to_dict()
    return str(diffs["reference_parameters"].iloc[0]), modes


def beyond(diffs: pd.DataFrame, lang: str = "en") -> str:
    """What a difference must exceed to be real, as the comparison's runs were made."""
    ref, modes = _diff_modes(diffs)
    every = {ref, *modes.values()}
    zh = lang == "zh"
    if every == {POSTERIOR}:
        return "超出随机因素和校准参数不确定性所能解释的范围" if zh else "beyond what chance and the parameters' uncertainty explain"
    if every == {FIXED}:
        return "超出随机范围" if zh else "beyond chance"
    if UNKNOWN in every:
        return "超出运行间的差异范围" if zh else "beyond the spread between runs"
    return ("超出运行间的差异范围（随机因素，以及各情景参数设置不同而未能抵消的参数不确定性）" if zh
            else "beyond the spread between runs (chance, and parameter uncertainty that does not cancel: the "
                 "scenarios ran their parameters differently)")


def pairing_sentence(diffs: pd.DataFrame, lang: str = "en") -> str:
    """How a comparison's differences are paired, and so what their intervals hold."""
    ref, modes = _diff_modes(diffs)
    every = {ref, *modes.values()}
    zh = lang == "zh"
    if every == {POSTERIOR}:
        return ("差异是配对的：各情景的第 k 次运行使用相同的随机种子和相同的后验参数抽样，共同的随机因素和参数不确定性相互抵消；"
                "区间是差异本身随随机因素和校准参数变化的幅度。" if zh
                else "Differences are paired: run k of every scenario started from the same seed and the same "
                     "posterior draw, so the chance and the parameter uncertainty they share cancel; each interval is "
                     "how much the difference itself varies with chance and the calibrated parameters.")
    if every == {FIXED}:
        return ("差异是配对的：各情景的第 k 次运行使用相同的随机种子，且都采用校准的最优估计参数，共同的随机因素相互抵消；"
                "区间只反映随机因素，不说明参数取其他值时差异会如何变化。" if zh
                else "Differences are paired: run k of every scenario started from the same seed, all at the "
                     "calibration's fitted point, so the chance they share cancels; the intervals hold chance only "
                     "and say nothing of how the difference would change with other parameter values.")
    if UNKNOWN in every:
        return ("差异是配对的：各情景的第 k 次运行使用相同的随机种子。" if zh
                else "Differences are paired: run k of every scenario started from the same seed.")
    runs = [(str(diffs["reference"].iloc[0]), ref), *modes.items()]
    quote = "「{}」" if zh else "«{}»"
    drew = list(dict.fromkeys(quote.format(n) for n, m in runs if m == POSTERIOR))
    fixed = list(dict.fromkeys(quote.format(n) for n, m in runs if m == FIXED))
    if zh:
        return (f"各情景的第 k 次运行使用相同的随机种子，但{'、'.join(drew)}抽取了后验参数，而{'、'.join(fixed)}采用固定参数："
                "参数不确定性无法抵消，使区间变宽；以相同方式运行（都加或都不加 --fixed-parameters）才能完全配对。")
    return (f"Run k of every scenario started from the same seed, but {', '.join(drew)} drew posterior parameters "
            f"while {', '.join(fixed)} ran the fitted point: parameter uncertainty does not cancel and widens these "
            "intervals; run them the same way (all with or all without --fixed-parameters) to pair them fully.")
