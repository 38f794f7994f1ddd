"""The uncertain district start: which end-2022 values are the districts' own, how the proxies
score where they can be checked, and the drawn splits every replicate starts from."""

import math

import numpy as np
import pytest

from sim.data import district_start as ds
from sim.data.datasets import load_districts
from sim.model import InnovationModel
from sim.params.parameters import Params


@pytest.fixture(scope="module")
def view():
    return load_districts()


def test_nine_own_figures_are_marked_and_the_rest_estimated():
    status = ds.start_status()
    assert status.shape == (38, 3)
    own = {(c, s) for s in ds.STOCKS for c in status.index[status[s] == "own"]}
    assert own == {(500105, "tech_enterprises"), (500112, "tech_enterprises"), (500113, "tech_enterprises"),
                   (500107, "high_tech_enterprises"), (500112, "high_tech_enterprises"),
                   (500120, "high_tech_enterprises"), (500236, "high_tech_enterprises"),
                   (500106, "rd_expenditure"), (500112, "rd_expenditure")}


def test_a_left_out_anchor_is_predicted_from_what_the_others_leave_of_its_block(view):
    # 巴南's tech-based SMEs with GDP × √tier: the 主城都市区 block less 江北's and 渝北's own figures,
    # shared by GDP × √tier among the block's other districts and 巴南.
    miss = next(m for m in ds.leave_one_out() if m.stock == "tech_enterprises" and m.proxy == "GDP × √tier"
                and m.adcode == 500113)
    metro = view["group"].isin(["central_urban", "new_metropolitan"])
    w = view["gdp"] * np.sqrt(view["innovation_tier"].map(ds.TIER_FACTOR))
    fixed = view["adcode"].isin([500105, 500112])
    rest = view.loc[metro, "tech_enterprises"].sum() - view.loc[fixed, "tech_enterprises"].sum()
    expected = rest * w[view.adcode == 500113].iat[0] / w[metro & ~fixed].sum()
    assert miss.predicted == pytest.approx(expected)
    assert miss.own == 4323 and miss.log_error == pytest.approx(math.log(4323 / expected))


def test_proxy_scores_rank_every_candidate_for_every_stock():
    scores = ds.proxy_scores()
    for stock in (*ds.STOCKS, "pooled"):
        sub = scores[scores.stock == stock]
        assert list(sub.rms) == sorted(sub.rms) and len(sub) >= 10
    assert scores.loc[scores.stock == "high_tech_enterprises", "proxy"].iat[0] == "R&D"
    assert set(scores.loc[scores.stock == "rd_expenditure", "proxy"]).isdisjoint({"R&D"})


def test_the_error_model_pools_the_methods_misses():
    sigma = ds.error_model()
    assert set(sigma) == set(ds.STOCKS)
    # tech-based SMEs miss most (巴南 +0.76), so its error is the widest; all are 15-60 % in log
    assert sigma["tech_enterprises"] == max(sigma.values())
    assert all(0.15 < s < 0.6 for s in sigma.values())


def test_the_error_model_covers_the_own_figures_it_was_not_told():
    cov = ds.start_coverage()
    assert len(cov) == 9
    assert cov.in_90.mean() >= 0.8 and 0.35 <= cov.in_50.mean() <= 0.8


def test_a_drawn_split_keeps_totals_blocks_own_figures_and_whole_counts(view):
    status = ds.start_status().loc[view.adcode]
    rng = np.random.default_rng(5)
    moved = False
    for _ in range(200):
        d = ds.draw_split(view, rng, spread=2.0)
        for stock in ds.STOCKS:
            own = (status[stock] == "own").to_numpy()
            assert np.array_equal(d[stock].to_numpy()[own], view[stock].to_numpy()[own])
            blocks = view["group"].map(ds.BLOCKS[stock])
            assert np.allclose(d[stock].groupby(blocks).sum(), view[stock].groupby(blocks).sum(), rtol=0, atol=1e-9)
            moved |= not np.array_equal(d[stock].to_numpy(), view[stock].to_numpy())
        assert d["tech_enterprises"].dtype.kind == "i" and d["high_tech_enterprises"].dtype.kind == "i"
        assert (d["high_tech_enterprises"] <= d["tech_enterprises"]).all()
        assert (d["rd_expenditure"] > 0).all() and (d[["tech_enterprises", "high_tech_enterprises"]] >= 0).all().all()
    assert moved
    assert ds.draw_split(view, rng, spread=0).equals(view)


def test_replicate_k_starts_from_the_same_split_in_every_scenario_and_seeds_differ():
    a = InnovationModel(seed=11, scale=0.02)
    b = InnovationModel(Params().with_overrides({"guiding_fund": {"share_talent": 0.3}}), seed=11, scale=0.02)
    c = InnovationModel(seed=12, scale=0.02)
    point = InnovationModel(Params().with_overrides({"behaviour": {"district_start_spread": 0.0}}), seed=11, scale=0.02)
    cols = list(ds.STOCKS)
    assert a.district_data[cols].equals(b.district_data[cols])
    assert not a.district_data[cols].equals(c.district_data[cols])
    assert point.district_data[cols].equals(load_districts()[cols])
    # the hindcast's 2017 start is the data's (the calibration was fitted on it)
    assert InnovationModel(seed=11, scale=0.02, start_year=2017).district_data[cols].equals(
        load_districts(year=2017)[cols])
