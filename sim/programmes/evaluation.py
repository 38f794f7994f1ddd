"""The yearly district innovation evaluation (after the 重庆科技创新指数报告) and its feedback into
the guiding fund's competitive share (seed §(二十五)).

Levers: ``evaluation.competitive_feedback``; ``evaluation.weights`` and ``city_score_start`` set
the method.

The real report scores 38 区县 on five dimensions as a percentage of a benchmark and sorts them
into tiers: above the city score (tier 1), 30 % to the city score (tier 2), below 30 % (tier 3).
Its 34 indicators and weights are not all published, so each dimension here uses the model's
closest state variables (listed in DIMENSIONS). The benchmark of each indicator is fixed at the
model's start so that the city scores the published 2022 value (70.70 %) on every dimension;
later scores are then comparable over time.
"""

from __future__ import annotations

import numpy as np

from ._base import Programme

DIMENSIONS = {
    "environment": "universities, institutes and characteristic platforms (counted 3 each) per million people",
    "input": "R&D spending / GDP",
    "output": "patents held by firms per 10,000 people",
    "industrialisation": "certified high-tech enterprises per 10,000 people",
    "economy": "value added of innovative firms / GDP",
}


def indicators(model) -> np.ndarray:
    """(38, 5) raw indicator values, one column per dimension; a last row for the whole city."""
    ds = model.district_list
    pop = np.array([d.population for d in ds])
    gdp = np.array([d.gdp for d in ds])
    env = np.array([d.n_universities + d.n_institutes + 3 * d.has_platform for d in ds]) / pop * 1e6
    rd = np.array([d.rd for d in ds])
    patents, revenue = model.district_firm_sums((None, "patents"), (None, "revenue"))
    hte = np.array([d.high_tech_enterprises for d in ds])
    va = revenue * model.params.behaviour.value_added_ratio / 100.0
    X = np.column_stack([env, rd / gdp, patents / pop * 1e4, hte / pop * 1e4, va / gdp])
    city = np.array([env @ pop / pop.sum(), rd.sum() / gdp.sum(), patents.sum() / pop.sum() * 1e4,
                     hte.sum() / pop.sum() * 1e4, va.sum() / gdp.sum()])
    return np.vstack([X, city])


def evaluate(model, benchmark: np.ndarray | None):
    """Score every district and the city; returns (scores (39,), dimension scores (39, 5), benchmark)."""
    X = indicators(model)
    if benchmark is None:
        benchmark = np.maximum(X[-1] / (model.params.evaluation.city_score_start / 100.0), 1e-12)
    dims = 100.0 * X / benchmark
    weights = np.asarray(model.params.evaluation.weights, float)
    scores = dims @ (weights / weights.sum())
    return scores, dims, benchmark


# What each tier means and the colour the app's map and the report's maps give it: a category,
# so it is shown with a legend, never on a continuous colour scale.
TIER_NAMES = {1: "1 高于全市平均 above city average", 2: "2 平均至后30% average to bottom 30 %",
              3: "3 后30% bottom 30 %"}
TIER_COLOURS = {1: "#2b8a3e", 2: "#f2c14e", 3: "#e8590c"}


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
