"""Steps the model puts in an indicator on purpose, found in a run's own results so that a chart
and the text can say what happened and where.

High-tech zones upgraded: the platforms programme raises the zones of the districts in
``platforms.zone_upgrades`` to national status at the end of ``platforms.zone_upgrade_year`` (a
scenario's assumption; in a hindcast, the years history approved them), and a national zone draws
more of its district's firms in, so their output joins the zones' share of industrial output (T4)
in that one quarter. The quarter is read from the ``zone_upgrades_q`` events, the districts from
the jump of their own zone share in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import datasets

ZONE_SHARE = "hightech_zone_output_share"


@dataclass(frozen=True)
class ZoneStep:
    scenario: str
    year: int
    quarter: int
    upgrades: int                  # zones upgraded in the quarter (median over runs)
    adcodes: tuple                 # where: the districts whose zone share jumped most in it
    names_zh: tuple
    names_en: tuple
    national: bool                 # the scenario's own upgrade to national status (platforms.zone_upgrades)
    before_runs: tuple             # each run's city zone share the quarter before, %
    after_runs: tuple              # each run's at the end of the quarter, %
    jump: float                    # the change in the quarter, points (median over runs)
    usual: float                   # the median quarterly change in the other quarters, points

    @property
    def before(self) -> float:
        return float(np.median(self.before_runs))

    @property
    def after(self) -> float:
        return float(np.median(self.after_runs))

    def where(self, lang: str = "en") -> str:
        if lang == "zh":
            return "、".join(self.names_zh)
        names = list(self.names_en)
        return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)

    def label(self) -> str:
        """A chart's few words (both languages)."""
        what = "升为国家级 made national" if self.national else "升级 upgraded"
        when = f"{self.year}年末 end of {self.year}" if self.quarter == 4 else f"{self.year} Q{self.quarter}"
        return (f"{when}: {self.upgrades} 个高新区{what}\n{' '.join(self.names_zh)}\n"
                f"{self.jump:+.1f} pts in that quarter (usual {self.usual:+.1f})")

    def sentence(self, target=None, lang: str = "en") -> str:
        """What happened, where, and how much it moved the share; given T4's target, how many runs
        met it before the step and after."""
        zh = lang == "zh"
        when = (f"{self.year}年末" if self.quarter == 4 else f"{self.year}年第{self.quarter}季度") if zh else (
            f"at the end of {self.year}" if self.quarter == 4 else f"in {self.year} Q{self.quarter}")
        if zh:
            why = ("（政策支持这些区县创建国家高新区，见文件第(七)条；升级年份是情景的假设："
                   f"platforms.zone_upgrade_year = {self.year}）" if self.national else "")
            what = "升为国家级" if self.national else "升级"
            text = (f"高新区工业产值占比的跳升：{when}，{self.where('zh')} {self.upgrades} 个区县的高新区{what}{why}，"
                    f"更多企业进入园区，其产值计入高新区，占比在该季度由 {self.before:.1f}% 升至 {self.after:.1f}%"
                    f"（{self.jump:+.1f} 个百分点；其他季度通常 {self.usual:+.1f}）。")
        else:
            why = (" (the policy supports these districts in applying for national status, seed §(七); the year is "
                   f"the scenario's assumption, platforms.zone_upgrade_year = {self.year})" if self.national else "")
            what = "become national" if self.national else "are upgraded"
            text = (f"The step in the high-tech zones' share of industrial output: {when}, the high-tech zones of "
                    f"{self.where()} {what}{why}, so more of these districts' firms join the zones and their output "
                    f"counts as the zones'. The share goes from {self.before:.1f} % to {self.after:.1f} % in that "
                    f"quarter ({self.jump:+.1f} points, where a usual quarter adds {self.usual:+.1f}).")
        if target is not None and target.year == self.year and self.quarter == 4:
            n = len(self.after_runs)
            k0 = int(sum(v >= target.threshold for v in self.before_runs))
            k1 = int(sum(v >= target.threshold for v in self.after_runs))
            text += (f"升级前（第3季度末）{n} 次运行中有 {k0} 次达到 {target.id} 的 {target.threshold:g}% 目标，升级后 {k1} 次。"
                     if zh else f" Just before it (end of Q3), {k0} of {n} runs were at or above {target.id}'s "
                                f"{target.threshold:g} % target; after it, {k1}.")
        return text

    def brief(self, target, lang: str = "en") -> str:
        """One sentence for the first paragraph when the step falls at the end of ``target``'s year."""
        n = len(self.after_runs)
        k0 = int(sum(v >= target.threshold for v in self.before_runs))
        k1 = int(sum(v >= target.threshold for v in self.after_runs))
        if lang == "zh":
            what = "升为国家级" if self.national else "升级"
            return (f"{target.id} 的结果取决于{self.year}年末{self.where('zh')}高新区{what}（情景假设的年份）："
                    f"升级前 {n} 次运行中 {k0} 次达标，升级后 {k1} 次。")
        what = "become national" if self.national else "are upgraded"
        return (f"{target.id} rests on the high-tech zones of {self.where()}, which {what} at the end of {self.year} "
                f"(the scenario's assumed year): just before it, {k0} of {n} runs met the target; after it, {k1}.")


def zone_steps(result) -> list[ZoneStep]:
    """The quarters in which most runs of ``result`` upgraded high-tech zones, with where and how
    much the city's zone share moved."""
    city = result.city
    events = city[city["indicator"] == "zone_upgrades_q"]
    share = city[city["indicator"] == ZONE_SHARE]
    if events.empty or share.empty:
        return []
    per_step = events.pivot_table(index="step", columns="replicate", values="value")
    share = share.pivot_table(index="step", columns="replicate", values="value")
    when = city.groupby("step")[["year", "quarter"]].first()
    change = share.diff()
    usual_steps = [s for s in change.index[1:] if not (per_step.loc[s] > 0).mean() >= 0.5] if len(change) > 1 else []
    usual = float(change.loc[usual_steps].median(axis=1).median()) if usual_steps else float("nan")
    names = datasets.load_districts().set_index("adcode")
    steps = []
    for step in per_step.index:
        if not (per_step.loc[step] > 0).mean() >= 0.5 or step - 1 not in share.index:
            continue
        n = int(round(float(per_step.loc[step].median())))
        where = _jumped(result.districts, step, n)
        p = result.scenario.params.platforms
        year, quarter = int(when.at[step, "year"]), int(when.at[step, "quarter"])
        national = (year == p.zone_upgrade_year and quarter == 4
                    and {str(a) for a in where} <= {str(a) for a in p.zone_upgrades})
        steps.append(ZoneStep(
            scenario=result.scenario.name, year=year, quarter=quarter, upgrades=n, adcodes=tuple(where),
            names_zh=tuple(_short(names, a, "short_zh", "name_zh") for a in where),
            names_en=tuple(_short(names, a, "name_pinyin", "name_zh") for a in where), national=national,
            before_runs=tuple(float(v) for v in share.loc[step - 1]), after_runs=tuple(float(v) for v in share.loc[step]),
            jump=float(change.loc[step].median()), usual=usual))
    return steps


def _jumped(districts: pd.DataFrame, step: int, n: int) -> list[int]:
    """The ``n`` districts whose own zone share rose most at ``step`` (median over runs)."""
    d = districts[districts["step"].isin([step - 1, step])
                  & districts["indicator"].isin(["zone_output", "industrial_output"])]
    if d.empty or n <= 0:
        return []
    p = d.pivot_table(index=["replicate", "adcode", "step"], columns="indicator", values="value")
    own = (100 * p["zone_output"] / p["industrial_output"].replace(0, np.nan)).unstack("step")
    rise = (own[step] - own[step - 1]).groupby(level="adcode").median().dropna()
    rise = rise[rise > 0].sort_values(ascending=False)
    return [int(a) for a in rise.index[:n]]


def _short(names: pd.DataFrame, adcode: int, column: str, fallback: str) -> str:
    row = names.loc[adcode] if adcode in names.index else None
    if row is None:
        return str(adcode)
    v = row.get(column)
    return v if isinstance(v, str) and v else str(row.get(fallback, adcode))
