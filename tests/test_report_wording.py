"""What a planner reads is true: the words on how sure the numbers are follow how the run was made
(posterior draws or the fitted point, and how many runs), every number is printed as what it is,
and a step in a chart is explained where it shows."""

import re

import pytest

from sim.experiments.ensemble import compare, run_ensemble
from sim.experiments.scenarios import load

POSTERIOR_WORDS = "holds both chance and the calibrated parameters' uncertainty"
FIXED_WORDS = "is chance alone, not uncertainty in the model's parameters"


@pytest.fixture(scope="module")
def drawn():
    """A small ensemble whose replicate k runs posterior draw k (the default)."""
    return run_ensemble("baseline", replicates=3, scale=0.02, backend="serial")


@pytest.fixture(scope="module")
def fixed():
    """The same at the fitted point (--fixed-parameters)."""
    return run_ensemble(load("baseline").with_run(fixed_parameters=True), replicates=3, scale=0.02, backend="serial")


def _text(page: str) -> str:
    """A page's words, without its markup and embedded images."""
    import html
    page = re.sub(r"<img[^>]*>|<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# ---- words on uncertainty -----------------------------------------------------------------------
def test_the_paragraph_says_what_the_spread_holds_as_the_run_was_made(drawn, fixed):
    from sim.report.text import result_summary
    from sim.report.uncertainty import uncertainty_sentence
    assert drawn.scenario.parameters == "posterior" and fixed.scenario.parameters == "fixed"
    from sim.experiments.posterior import distinct
    # distinct draws: the conditioned particles repeat the draws that agree with the published years
    n_draws, used = distinct(drawn.scenario.draws), distinct(drawn.scenario.draws, 3)
    a, b = result_summary(drawn), result_summary(fixed)
    assert POSTERIOR_WORDS in a["en"] and f"{used} of its {n_draws} draws here" in a["en"]
    assert "not uncertainty in the model's parameters" not in a["en"] and FIXED_WORDS not in a["en"]
    assert "校准参数的不确定性" in a["zh"] and f"后验 {n_draws} 个抽样中的 {used} 个" in a["zh"] and "只反映随机因素" not in a["zh"]
    assert FIXED_WORDS in b["en"] and "the calibration's fitted point" in b["en"] and POSTERIOR_WORDS not in b["en"]
    assert "只反映随机因素，不含模型参数的不确定性" in b["zh"] and "后验分布的第 k 个抽样" not in b["zh"]
    # three runs pin nothing down: said as rough odds, in both kinds
    assert "Only 3 runs" in a["en"] and "rough odds" in b["en"] and "仅 3 次运行" in b["zh"]
    # the sentence the app can reuse says the same from the scenario, the result or its summary table
    assert uncertainty_sentence(drawn, "en") in a["en"] and uncertainty_sentence(drawn, "zh") in a["zh"]
    from_csv = uncertainty_sentence(drawn.summary, "en", replicates=3)     # summary.csv's columns
    assert "Only 3 runs" in from_csv and POSTERIOR_WORDS in from_csv
    assert uncertainty_sentence(fixed, "zh") in b["zh"]
    assert POSTERIOR_WORDS in uncertainty_sentence(load("baseline").with_run(replicates=3))


def test_every_note_in_the_report_says_the_same_thing(drawn, fixed, tmp_path):
    from sim.report.html import write_report
    for result, words, never in ((drawn, POSTERIOR_WORDS, FIXED_WORDS), (fixed, FIXED_WORDS, POSTERIOR_WORDS)):
        page = _text(write_report(result, tmp_path / result.scenario.parameters).read_text("utf-8"))
        # the paragraph, the scoreboard's "how to read this" and the footer
        assert page.count(words) == 3, (result.scenario.parameters, page.count(words))
        assert never not in page and "not uncertainty in the model's parameters" not in page.replace(FIXED_WORDS, "")
        assert "How to read this" in page and "±37 points with 3 runs" in page
    fixed_page = _text((tmp_path / "fixed" / "report.html").read_text("utf-8"))
    assert "fixed (calibrated point estimate)" in fixed_page


def test_wording_grows_firmer_with_more_runs_and_stays_bounded_by_each_interval():
    from sim.report.uncertainty import POSTERIOR, RunKind, uncertainty_sentence
    few, many = RunKind(POSTERIOR, 8, 200, 8), RunKind(POSTERIOR, 200, 200, 200)
    assert uncertainty_sentence(few).startswith("Only 8 runs: each probability is known to within about ±28 points")
    assert "though 8 draws sample it only coarsely" in uncertainty_sentence(few)
    assert uncertainty_sentence(many).startswith("200 runs pin a probability down to about ±7 points, so the number "
                                                 "of runs adds little doubt")
    assert "coarsely" not in uncertainty_sentence(many) and "200 of its 200 draws" in uncertainty_sentence(many)
    assert "粗略的几率" in uncertainty_sentence(few, "zh") and "粗略" not in uncertainty_sentence(many, "zh")
    # each probability's words are still bounded by its own 95 % interval
    import pandas as pd

    from sim.experiments.targets import POLICY_2025
    from sim.report.text import plain_summary
    summary = pd.DataFrame([dict(target=t.id, threshold=t.threshold, year=t.year, prob_met=1.0) for t in POLICY_2025])
    assert "Likely:" in plain_summary(summary, 8, POLICY_2025, "b", kind=few)["en"]
    assert "Almost certain:" in plain_summary(summary, 200, POLICY_2025, "b", kind=many)["en"]


def test_a_comparison_says_how_its_runs_are_paired(drawn, fixed, tmp_path):
    from sim.report.html import write_comparison_report
    from sim.report.uncertainty import beyond, pairing_sentence
    same = compare(drawn, drawn)
    assert "the same posterior draw" in pairing_sentence(same) and "相同的后验参数抽样" in pairing_sentence(same, "zh")
    assert beyond(same) == "beyond what chance and the parameters' uncertainty explain"
    both_fixed = compare(fixed, fixed)
    assert "all at the calibration's fitted point" in pairing_sentence(both_fixed)
    assert beyond(both_fixed) == "beyond chance"
    mixed = compare(drawn, fixed)
    assert "parameter uncertainty does not cancel" in pairing_sentence(mixed)
    page = _text(write_comparison_report([drawn, fixed], mixed, tmp_path).read_text("utf-8"))
    assert "parameter uncertainty does not cancel" in page
    assert POSTERIOR_WORDS in page and FIXED_WORDS in page          # each scenario's scoreboard note and footer
    assert "the value columns are means (the scoreboards below give medians)" in page


# ---- numbers as what they are -------------------------------------------------------------------
def test_report_tables_print_counts_whole_tiers_by_name_and_units(drawn, tmp_path):
    from sim.programmes.evaluation import TIER_NAMES
    from sim.report.district_table import ranking_html
    from sim.report.html import scoreboard_html
    ranking = ranking_html(drawn)
    rows = re.findall(r"<tr(?: class=miss)?><td>\d+</td>(.*?)</tr>", ranking)
    assert len(rows) == 38
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        tier = cells[-1]
        for stock in (cells[2], cells[4]):      # median (5–95 % band) and the start's marker, each count whole
            stock = re.sub(r"<[^>]+>", "", stock)
            assert re.fullmatch(r"[\d,]+(\.5)? \([\d,]+–[\d,]+\) [●○]", stock), stock
        assert tier in TIER_NAMES.values()
    assert "tech SMEs (firms)" in ranking and "R&D (100m yuan)" in ranking
    board = scoreboard_html(drawn.summary, drawn.scenario.targets)
    t3 = re.search(r"<td class=l>T3</td>.*?</tr>", board).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", t3)
    assert cells[2] == "districts" and cells[3] == "38" and not re.search(r"\d\.0\b", " ".join(cells[3:6]))
    assert "<td class=l>%</td><td>30</td>" in board


def test_terminal_tables_name_each_target_with_its_unit_and_label_the_mean(drawn, fixed):
    from sim.cli import differences_table, summary_table
    table = summary_table(drawn)
    t3 = next(line for line in table.splitlines() if line.strip().startswith("T3"))
    assert "districts R&D ≥ +10 %/yr" in t3 and "districts" in t3.split("%/yr", 1)[1]
    assert not re.search(r"\b\d+\.0\b", t3), t3
    assert "T1 tech-based SMEs" in table and "firms" in table and "T4 zones' share of output" in table
    assert "parameters: posterior" in table and "spread between runs: chance and the calibrated" in table
    assert "chance only" in summary_table(fixed)
    # the posterior's larger pools pass the bound on firm rows: the table says how many runs thinned
    thinned = int(drawn.targets.groupby("replicate")["coarsening"].max().gt(1).sum())
    assert (f"{thinned} of 3 runs held so many firms" in " ".join(table.split())) == (thinned > 0)
    assert ("thinned" in summary_table(fixed)) == bool(fixed.targets["coarsening"].gt(1).any())
    diffs = compare(drawn, fixed)
    for text in (differences_table(diffs), differences_table(diffs, drawn.scenario.targets)):
        head = text.splitlines()
        assert "mean difference" in head[3] and "ΔP(met)" in head[3]
        assert "the mean over the 3 paired runs" in text and "percentage points (pp)" in text
        t1 = next(line for line in head if line.strip().startswith("T1"))
        assert " firms" in t1 and re.search(r"[+-]\d+ pp", t1), t1


# ---- steps explained, yearly charts -------------------------------------------------------------
def test_the_zone_step_is_found_named_and_marked_on_the_fan_chart(drawn):
    import matplotlib.pyplot as plt

    from sim.report.events import zone_steps
    from sim.report.figures import FAN_INDICATORS, fan_charts
    upgraded = {int(a) for a in drawn.scenario.params.platforms.zone_upgrades}
    (step,) = zone_steps(drawn)
    assert (step.year, step.quarter) == (drawn.scenario.params.platforms.zone_upgrade_year, 4)
    assert step.national and set(step.adcodes) == upgraded and step.upgrades == len(upgraded)
    assert step.jump > 5 * abs(step.usual)
    fig = fan_charts([drawn])
    ax = next(a for a in fig.axes if a.get_title() == FAN_INDICATORS["hightech_zone_output_share"])
    marks = [t.get_text() for t in ax.texts if "made national" in t.get_text()]
    assert len(marks) == 1 and all(name in marks[0] for name in step.names_zh)
    plt.close(fig)
    sentence = step.sentence(drawn.scenario.targets[3])
    assert "become national" in sentence and "platforms.zone_upgrade_year" in sentence and "runs were at or" in sentence


def test_inequality_is_drawn_at_each_year_end(drawn):
    import matplotlib.pyplot as plt

    from sim.report.figures import inequality_chart
    fig = inequality_chart([drawn])
    from sim.data.datasets import data_origin
    # from the state the runs are built from: the replayed published years are drawn too
    years = set(range(data_origin(drawn.scenario.params.start_year), drawn.scenario.until + 1))
    for ax in fig.axes:
        for line in ax.get_lines():
            assert set(line.get_xdata()) == years
    plt.close(fig)
