"""The core model: public API, determinism, invariants, lever directions, Bass diffusion."""

import math

import mesa
import numpy as np
import pandas as pd
import pytest

from sim import InnovationModel, ParamError, Params, replicate_seed
from sim.core import firm_processes
from sim.core.firms import cert_threshold
from sim.core.metrics import district_frame, money_check
from sim.experiments.targets import POLICY_2025, scoreboard
from sim.params.parameters import KEEP, POLICY_OFF, describe, levers, undot

SMALL = 0.03  # firms per real firm in the fast tests


def run(params=None, seed=1, steps=8, scale=SMALL, **overrides):
    # From the end-2022 state with the scenario's levers acting at once (a retrospective start):
    # with the default start the published years replay the policy as written first.
    overrides.setdefault("start_year", 2022)
    model = InnovationModel(params, seed=seed, scale=scale, **overrides)
    for _ in range(steps):
        model.step()
    return model


def test_full_scale_start_matches_the_published_2022_stocks():
    model = InnovationModel(seed=42)
    df = model.datacollector.get_model_vars_dataframe()
    assert df["tech_enterprises"].iloc[0] == 42989
    assert df["high_tech_enterprises"].iloc[0] == 6348
    assert df["rd_expenditure"].iloc[0] == pytest.approx(686.6)
    assert df["rd_intensity"].iloc[0] == pytest.approx(686.6 / 29129 * 100, rel=0.01)
    assert (model.year, model.quarter) == (2022, 4)


def test_public_api():
    model = InnovationModel(seed=42, scale=SMALL)
    assert len(model.districts) == 38
    assert all(hasattr(d, "adcode") and hasattr(d, "name_zh") for d in model.districts)
    assert {d.name_zh for d in model.districts} >= {"万州区", "渝中区", "彭水苗族土家族自治县"}
    for _ in range(5):
        model.step()
    assert (model.year, model.quarter) == (2024, 1)
    df = model.datacollector.get_model_vars_dataframe()
    for col in ("tech_enterprises", "high_tech_enterprises", "rd_expenditure", "rd_intensity",
                "hightech_zone_output_share", "national_innovative_counties", "districts_with_platform",
                "rd_intensity_gini"):
        assert col in df.columns and len(df) == 6
    table = district_frame(model)
    assert len(table) == 38 * 6 and {"adcode", "tech_enterprises", "rd_expenditure", "tier"} <= set(table.columns)
    G = model.graph
    assert sum(1 for _, k in G.nodes(data="kind") if k == "district") == 38
    assert any(paired for _, _, paired in G.edges(data="paired"))
    from sim.core.firms import STATUS_NAMES
    status = model.firms.status()
    assert all(model.enterprise(i).status_name == STATUS_NAMES[status[i]] for i in range(0, model.firms.n, 7))
    assert set(status) >= {1, 2, 3}


def test_same_seed_same_frame_and_different_seed_differs():
    a = run(seed=7).datacollector.get_model_vars_dataframe()
    b = run(seed=7).datacollector.get_model_vars_dataframe()
    c = run(seed=8).datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(a, b)
    assert not a["tech_enterprises"].equals(c["tech_enterprises"])


def test_replicate_seeds_come_from_one_seed_sequence():
    assert replicate_seed(42, 0) == replicate_seed(42, 0)
    seeds = {replicate_seed(42, k) for k in range(50)}
    assert len(seeds) == 50
    assert replicate_seed(42, 3) != replicate_seed(43, 3)


def test_a_stream_drawn_twice_in_one_step_continues_rather_than_repeats():
    model = run(steps=3)
    first, second = model.stream("entry").random(4), model.stream("entry").random(4)
    assert not np.array_equal(first, second)
    # the same (step, process) is the same stream in a fresh model with the same seed
    again = run(steps=3)
    assert np.array_equal(again.stream("entry").random(4), first)
    # spin-offs draw from their own stream, not a replay of the regular entrants' numbers
    assert not np.array_equal(model.stream("spinoffs").random(4), first)


def test_invariants_hold_every_step():
    model = InnovationModel(seed=3, scale=SMALL)
    for _ in range(12):
        model.step()
        pop = model.firms
        alive, reg, cert = pop.col("alive"), pop.col("registered"), pop.col("certified")
        assert not np.any(alive & cert & ~reg), "certified firms must be registered"
        for col in ("revenue", "rd", "knowledge", "patents", "loan", "equity"):
            assert np.all(pop.col(col)[alive] >= 0), col
        assert np.all(pop.col("loan")[~alive] == 0) and np.all(pop.col("equity")[~alive] == 0)
        df = model.datacollector.get_model_vars_dataframe().iloc[-1]
        assert df["high_tech_enterprises"] <= df["tech_enterprises"]
        assert min(df["tech_enterprises"], df["candidate_firms"], df["risk_pool_balance"]) >= 0
        assert money_check(model) < 1e-9, "every yuan must be unspent, granted, invested, lent or lost"
        for d in model.district_list:
            assert min(d.pot.values()) >= 0.0
    # the run moved real money through every channel
    last = model.datacollector.get_model_vars_dataframe().iloc[-1]
    assert last["guiding_fund_transferred"] > 0 and last["loans_lent"] > 0 and last["equity_invested"] > 0


def test_the_rows_of_exited_firms_go_at_the_year_end_and_whoever_held_rows_follows():
    from sim.app.model import district_status_counts
    model = InnovationModel(seed=3, scale=SMALL)
    start = float(model.firms.col("weight").sum())
    exits = births = 0.0
    for _ in range(8):
        rows_before = model.firms.n
        model.step()
        exits, births = exits + model.events["exits"], births + model.events["births"]
        pop, net = model.firms, model.network
        if model.quarter == 4:
            assert pop.n < rows_before + births * SMALL and np.all(pop.col("alive")), "no exited row is left"
        else:
            assert not np.all(pop.col("alive")), "exited rows wait for the year's end"
        assert np.all(pop.col("leader")[model.leaders["row"].to_numpy()])
        for ends in (net.src, net.dst, net.u_firm):
            assert np.all(ends < pop.n)
        assert np.all(pop.col("alive")[net.src] & pop.col("alive")[net.dst]) or model.quarter != 4
        # Exited firms are still counted, whether their rows went or not.
        counted = [district_status_counts(model, d) for d in range(model.n_districts)]
        assert sum(c["exited"] for c in counted) == pytest.approx(exits)
        assert sum(sum(c.values()) for c in counted) == pytest.approx(start + births)


def test_newly_certified_firms_meet_the_certification_rules(monkeypatch):
    from sim.core import firm_processes
    model = InnovationModel(seed=5, scale=SMALL)
    seen = []
    certify = firm_processes.certify

    def checked(m):
        # Checked as the window closes: rows are renumbered when exited firms go at the year's end.
        flags = certify(m)
        pop, rows = m.firms, np.flatnonzero(flags)
        assert m.quarter in m.params.cultivation.certification_windows
        assert np.all(pop.rd_rate[rows] >= cert_threshold(pop.revenue[rows]))
        assert np.all(pop.patents[rows] >= 1) and np.all(pop.registered[rows])
        assert np.all(pop.cert_expiry[rows] == m.steps + 12)
        seen.append(len(rows))
        return flags

    monkeypatch.setattr(firm_processes, "certify", checked)
    for _ in range(8):
        certified = int(model.firms.col("certified").sum())
        model.step()
        if model.quarter not in model.params.cultivation.certification_windows:
            assert model.firms.col("certified").sum() <= certified, "no certification outside the windows"
    assert sum(seen) > 0


def test_bad_parameters_are_named():
    with pytest.raises(ParamError, match="guiding_fund.allocation.*equal, gdp, need, competitive, mix"):
        InnovationModel({"guiding_fund": {"allocation": "lottery"}})
    with pytest.raises(ParamError, match="finance.ticket.*out of range"):
        Params.from_dict({"finance": {"ticket": -1}})
    with pytest.raises(ParamError, match="unknown key"):
        Params.from_dict({"behaviour": {"bass_r": 1}})
    with pytest.raises(ParamError, match="expected a number"):
        Params.from_dict({"behaviour": {"bass_p": "fast"}})


# --- levers move their outcomes in the documented direction ---------------------------------
REPLICATES = 5
# Every lever that declares a documented direction (sim/params/parameters.py: Lever.check).
LEVERS = [(f"{key} raises {lv.check.reporter}", undot(lv.check.low or {key: lv.off}, sep="."), undot(lv.check.high, sep="."),
           lv.check.reporter, lv.check.steps, lv.check.scale or SMALL)
          for key, lv in levers().items() if lv.check is not None]


@pytest.mark.parametrize("name,low,high,reporter,steps,scale", LEVERS,
                         ids=[lv[0] for lv in LEVERS])
def test_lever_direction(name, low, high, reporter, steps, scale):
    diffs = []
    for k in range(REPLICATES):
        seed = replicate_seed(2022, k)
        # a quarterly flow (…_q) is compared over the whole run, a stock at its end
        lo, hi = (run(x, seed=seed, steps=steps, scale=scale).datacollector.get_model_vars_dataframe()[reporter] for x in (low, high))
        diffs.append(hi.sum() - lo.sum() if reporter.endswith("_q") else hi.iloc[-1] - lo.iloc[-1])
    diffs = np.array(diffs)
    se = diffs.std(ddof=1) / math.sqrt(len(diffs))
    assert diffs.mean() > 0 and diffs.mean() > 2 * se, f"{name}: paired differences {diffs}"


def test_need_based_allocation_favours_the_clusters():
    def cluster_share(rule):
        model = run({"guiding_fund": {"allocation": rule}}, seed=11, steps=4)
        received = np.array([d.ledger["guiding_fund"] for d in model.district_list])
        return received[model.is_cluster].sum() / received.sum()
    assert cluster_share("need") > cluster_share("equal") > cluster_share("gdp")


def test_bass_diffusion_under_complete_mixing_and_no_policy():
    """Policy off, complete mixing, no entry or exit: the registered share F(t) follows
    F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}) (shifted to the starting share)
    within 2.5 percentage points over ten years of quarterly steps; the gap is the first-order
    error of evaluating the imitation pressure once a quarter."""
    p_, q_ = 0.03, 0.38
    # No bound on rows: a pool of 19 candidates per firm would otherwise start at a fifth of the
    # rows, and this compares the dynamics with the formula, not a coarser run's noise with it.
    params = Params(max_firm_rows=0).policy_off().with_overrides(behaviour=dict(
        mixing="complete", entry_rate=0.0, exit_rate_candidate=0.0, exit_rate_registered=0.0,
        deregistration_rate=0.0, candidate_ratio=19.0, bass_p=p_, bass_q=q_))
    runs = []
    for seed in range(3):
        model = InnovationModel(params.with_overrides(start_year=2022), seed=seed, scale=0.02)
        shares = []
        for k in range(41):
            pop = model.firms
            alive, w = pop.col("alive"), pop.col("weight")
            shares.append((w * (alive & pop.col("registered"))).sum() / (w * alive).sum())
            if k < 40:
                model.step()
        runs.append(shares)
    F = np.mean(runs, axis=0)
    t0 = math.log((1 + (q_ / p_) * F[0]) / (1 - F[0])) / (p_ + q_)
    t = np.arange(41) * 0.25 + t0
    bass = (1 - np.exp(-(p_ + q_) * t)) / (1 + (q_ / p_) * np.exp(-(p_ + q_) * t))
    assert F[-1] > 0.8  # most of the market adopted: the whole S-curve was compared
    assert np.max(np.abs(F - bass)) < 0.025


def test_released_models_are_freed():
    import gc
    import weakref

    model = InnovationModel(seed=1, scale=0.02)
    model.step()
    ref = weakref.ref(model)
    model.release()
    del model
    gc.collect()
    assert ref() is None


def test_batch_run_drives_the_model():
    results = mesa.batch_run(InnovationModel, parameters={"seed": [1, 2], "scale": [0.02]},
                             iterations=1, max_steps=3, number_processes=1, display_progress=False)
    df = pd.DataFrame(results)
    assert set(df["seed"]) == {1, 2} and df["Step"].max() == 3
    assert (df["tech_enterprises"] > 40000).all()


def test_scoreboard_reports_every_target():
    model = run(seed=1, steps=12)
    rows = scoreboard(model, POLICY_2025)
    assert [r["target"] for r in rows] == ["T1", "T2", "T3", "T4", "T5", "T6"]
    assert all(r["year"] == 2025 for r in rows)
    t1 = rows[0]
    assert t1["met"] == (t1["value"] >= 45000)


def test_every_lever_is_declared_whole():
    rows = [r for r in describe() if r["lever"]]
    assert len(rows) >= 30
    for r in rows:
        assert r["off"] is not None and r["label_zh"] and r["label_en"] and r["cost"], r["key"]
        lo, hi, choices = r["lo"], r["hi"], r["choices"]
        if r["control"] is not None:
            c_lo, c_hi, step = r["control"]
            assert c_lo < c_hi and step > 0, r["key"]
            assert (lo is None or c_lo >= lo) and (hi is None or c_hi <= hi), r["key"]
        if r["study"] is not None and choices is None:
            s_lo, s_hi = r["study"]
            assert (lo is None or s_lo >= lo) and (hi is None or s_hi <= hi) and s_lo < s_hi, r["key"]
        if r["off"] is not KEEP:
            Params.from_dict(undot({r["key"]: r["off"]}, sep="."))   # the off value is allowed


def test_the_no_policy_counterfactual_is_the_levers_off_values():
    off = Params().policy_off()
    for key, lv in levers().items():
        value = off
        for part in key.split("."):
            value = getattr(value, part)
        if lv.off is not KEEP:
            assert value == lv.off, key
    assert POLICY_OFF["guiding_fund"]["annual_budget"] == 0.0 and POLICY_OFF["paired"]["enabled"] is False


def test_each_lever_belongs_to_one_programme_whose_module_reads_it():
    import inspect

    from sim import programmes
    from sim.core import funds
    owners = {}
    for cls in programmes.PROGRAMMES:
        for section in cls.sections:
            assert section not in owners, f"section {section} claimed by {owners.get(section)} and {cls.name}"
            owners[section] = cls
    for key in levers():
        section, name = key.split(".")[0], key.split(".")[-1]
        assert section in owners, f"{key}: no programme declares section {section}"
        # a programme's money is held by its fund agents (sim/core/funds.py)
        source = inspect.getsource(inspect.getmodule(owners[section])) + inspect.getsource(funds)
        assert name in source, f"{key}: not read by {owners[section].__module__}"


def test_the_district_network_flags_paired_links_only_while_pairing_is_on():
    from sim.experiments.ensemble import replicate_tables

    on, off = run(steps=2), run({"paired": {"enabled": False}}, steps=2)
    M, paired = on.district_network()
    assert paired.any() and (M > 0).any() and not off.district_network()[1].any()
    assert any(d["paired"] for *_, d in on.graph.edges(data=True))
    assert not any(d["paired"] for *_, d in off.graph.edges(data=True))
    assert replicate_tables(on, "on", 0, POLICY_2025)["links"]["paired"].any()
    assert not replicate_tables(off, "off", 0, POLICY_2025)["links"]["paired"].any()


def test_run_until_stops_at_the_year_end_and_calls_back_each_year():
    seen = []
    model = InnovationModel(seed=3, scale=SMALL).run_until(2024, on_year_end=lambda m: seen.append(m.year))
    assert model.reached(2024) and model.date_label == "2024 Q4" and seen == [2023, 2024]


def test_pots_never_go_below_zero_when_partners_pay_out_everything():
    # Pots whose pro-rata shares of a full payout round past what each holds.
    d = InnovationModel(seed=1, scale=SMALL).district_list[0]
    d.pot.update(rd_subsidy=0.32962387535293464, platforms=0.008002788238195228, incubators=0.03111365412461967,
                 talent=0.9308287667201323)
    assert d.pay_out("paired_out", 5.0) == pytest.approx(1.2995690844358818)
    assert min(d.pot.values()) == 0.0
    # Paired support far above what partners hold drains their pots every year.
    model = run({"paired": {"intensity": 10.0, "support_per_pair": 100.0}}, steps=5)
    assert all(v >= 0.0 for d in model.district_list for v in d.pot.values())
    assert any(sum(d.pot.values()) == 0.0 for d in model.district_list)
    assert money_check(model) < 1e-9


def test_the_guiding_fund_ledger_is_checked_against_what_the_districts_booked():
    model = run(steps=5)
    assert model.guiding_fund.conservation_error(model.district_list) < 1e-9
    model.district_list[0].ledger["guiding_fund"] += 0.5      # a transfer booked twice is caught
    assert model.guiding_fund.conservation_error(model.district_list) == pytest.approx(0.5)


def test_a_hindcast_year_that_overrides_a_finance_term_takes_effect_from_that_year():
    model = InnovationModel({"start_year": 2017}, seed=2, scale=SMALL)
    model.environment.overrides[2019]["finance.loan_size"] = 9.0   # nothing copied, nothing to re-sync
    while model.year < 2019:
        model.step()
    assert model.credit_pool.loan_size == 9.0
    new = model.firms.col("loan")[model.firms.col("loan_due") == model.steps + model.params.finance.loan_term_quarters]
    assert len(new) and set(new.tolist()) == {9.0}


def test_firms_follow_their_districts_r_and_d_intensity_when_the_elasticity_is_on():
    def median_rd(k):
        # from the point start: a drawn split can make the least R&D-intensive district a county of a few firms
        m = InnovationModel(Params().with_overrides({"behaviour": {"district_rd_elasticity": k, "district_start_spread": 0.0}}),
                            scale=0.05, seed=3)
        pop = m.firms
        intensity = np.array([d.rd / d.gdp for d in m.district_list])
        hi, lo = int(np.argmax(intensity)), int(np.argmin(intensity))
        candidate = pop.col("alive") & ~pop.col("registered")
        out = [float(np.median(pop.col("rd_base")[candidate & (pop.col("district") == i)])) for i in (hi, lo)]
        rows = firm_processes.add_entrants(m, np.bincount([hi] * 40 + [lo] * 40, minlength=m.n_districts), registered=False)
        born = pop.col("district")[rows]
        out += [float(np.median(pop.col("rd_base")[rows][born == i])) for i in (hi, lo)]
        m.release()
        return out
    flat, steep = median_rd(0.0), median_rd(1.0)
    assert flat[0] == pytest.approx(flat[1], rel=0.3) and flat[2] == pytest.approx(flat[3], rel=0.3)
    assert steep[0] > 3 * steep[1] and steep[2] > 3 * steep[3]      # candidates and entrants alike
