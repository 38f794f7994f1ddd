"""The yearly district innovation evaluation (after the 重庆科技创新指数报告) and its feedback into
the guiding fund's competitive share (seed §(二十五)).

Levers: ``evaluation.competitive_feedback``; ``evaluation.weights``, ``exponents`` and
``city_dimension_scores`` set the method.

The real report scores 38 区县 on five dimensions as a percentage of a benchmark and sorts them
into tiers: at or above the city score (tier 1), 30 % to the city score (tier 2), below 30 %
(tier 3). It publishes the city's score on each dimension (2022: 68.16, 62.21, 76.27, 74.95,
72.63; composite 70.70) and the tier lists, but not its 34 indicators' values, benchmarks or
weights. Each dimension here averages the model's closest state variables (INDICATORS). An
indicator scores ``min(c_k · (x / x_city)^γ, 100 %)``: ``x_city`` is the city's value at the
start (the benchmark, fixed so later scores are comparable over time), ``c_k`` the published
city score of its dimension, so the city scores exactly the published dimension values. The
elasticities γ and the dimension weights are what the report does not publish; they are fitted
(``tools/data/fit_evaluation.py``, result in ``sim/data/evaluation_fit.toml``) so that the
start reproduces the published 2022 tiers and the city index 70.70.
"""

from __future__ import annotations

import numpy as np

from ._base import Programme

DIMENSIONS = ("environment", "input", "output", "industrialisation", "economy")
# (dimension, indicator): what each indicator measures, closest to the report's named ones
# (万人R&D人员数, 研发平台数, 万人累计孵化企业数; R&D投入强度, 财政科技支出; 万人发明专利拥有量;
# 高新技术企业; 科技促进经济发展).
INDICATORS = (
    ("environment", "universities and institutes per million people"),
    ("environment", "tech-based SMEs (科技型企业) per 10,000 people"),
    ("input", "R&D spending / GDP"),
    ("input", "fiscal S&T spending / GDP"),
    ("output", "patents held by firms per 10,000 people"),
    ("industrialisation", "certified high-tech enterprises per 10,000 people"),
    ("industrialisation", "high-tech enterprises / tech-based SMEs"),
    ("economy", "value added of innovative firms / GDP"),
    ("economy", "GDP per person"),
)
DIMENSION_OF = np.array([DIMENSIONS.index(d) for d, _ in INDICATORS])


def indicators(model) -> np.ndarray:
    """(39, 9) raw indicator values, one column per INDICATORS entry; a last row for the city."""
    ds = model.district_list
    pop = np.array([d.population for d in ds])
    gdp = np.array([d.gdp for d in ds])
    research = np.array([d.n_universities + d.n_institutes for d in ds], float)
    tech = np.array([d.tech_enterprises for d in ds])
    hte = np.array([d.high_tech_enterprises for d in ds])
    rd = np.array([d.rd for d in ds])
    fiscal = np.array([d.fiscal_st for d in ds])
    patents, revenue = model.district_firm_sums((None, "patents"), (None, "revenue"))
    va = revenue * model.params.behaviour.value_added_ratio / 100.0

    def ratio(a, b):
        return np.append(a / np.maximum(b, 1e-12), a.sum() / max(b.sum(), 1e-12))

    return np.column_stack([ratio(research, pop) * 1e6, ratio(tech, pop) * 1e4, ratio(rd, gdp), ratio(fiscal, gdp),
                            ratio(patents, pop) * 1e4, ratio(hte, pop) * 1e4, ratio(hte, tech), ratio(va, gdp),
                            ratio(gdp, pop) * 1e4])


def dimension_scores(X: np.ndarray, benchmark: np.ndarray, exponents, city_scores) -> np.ndarray:
    """(rows, 5) dimension scores in % from raw indicators ``X`` (rows, 9)."""
    c = np.asarray(city_scores, float)[DIMENSION_OF] / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(benchmark > 0, X / benchmark, 0.0)
    s = 100.0 * np.minimum(c * np.power(np.maximum(q, 0.0), np.asarray(exponents, float)), 1.0)
    out = np.zeros((len(X), len(DIMENSIONS)))
    for k in range(len(DIMENSIONS)):
        out[:, k] = s[:, DIMENSION_OF == k].mean(axis=1)
    return out


def evaluate(model, benchmark: np.ndarray | None):
    """Score every district and the city; returns (scores (39,), dimension scores (39, 5), benchmark)."""
    X = indicators(model)
    if benchmark is None:
        benchmark = X[-1].copy()
    ev = model.params.evaluation
    dims = dimension_scores(X, benchmark, ev.exponents, ev.city_dimension_scores)
    weights = np.asarray(ev.weights, float)
    scores = dims @ (weights / weights.sum())
    return scores, dims, benchmark


# What each tier means (its colour in the pictures: sim/report/palette.py).
TIER_NAMES = {1: "1 高于全市平均 above city average", 2: "2 平均至30% average to 30 %",
              3: "3 低于30% below 30 %"}


def tiers(scores: np.ndarray) -> np.ndarray:
    """Tier per district (scores of the districts followed by the city's, last): 1 at or above
    the city score, 3 below 30 %, 2 between, as in the report."""
    district, city = scores[:-1], scores[-1]
    return np.where(district >= city, 1, np.where(district < 30.0, 3, 2))


class EvaluationFeedback(Programme):
    """Scores and tiers every year end; the scores of the start fix the benchmarks and are the
    split of the competitive share while the feedback is off."""

    name = "evaluation"
    sections = ("evaluation",)

    def __init__(self, model):
        super().__init__(model)
        self.benchmark = None
        self.index_start = None

    def evaluate(self):
        m = self.model
        scores, dims, self.benchmark = evaluate(m, self.benchmark)
        m.city_index = float(scores[-1])
        for d, s, dim, t in zip(m.district_list, scores[:-1], dims[:-1], tiers(scores)):
            d.index_score, d.dimension_scores, d.tier = float(s), tuple(float(x) for x in dim), int(t)
        if self.index_start is None:
            self.index_start = np.array([d.index_score for d in m.district_list])

    def allocation_scores(self) -> np.ndarray:
        m = self.model
        return (np.array([d.index_score for d in m.district_list]) if m.params.evaluation.competitive_feedback
                else self.index_start)

    def year_review(self):
        self.evaluate()
