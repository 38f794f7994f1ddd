"""The update on the published years (``python run.py calibrate --update``): a synthetic year
appended to the data narrows the posterior and moves the conditioned start toward it; a bad row
stops it before any work; a killed update leaves the previous one in force and resumes."""

from __future__ import annotations

import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest

from sim.calibration import update as upd
from sim.data.identity import DATA_DIR
from sim.data.tables import DataError

SMALL = dict(per_draw=1, keep=60, scale=0.03, seed=5)


@pytest.fixture
def world(tmp_path):
    """A copy of the shipped data and calibration file, with the posterior cut to 30 draws."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    lines, table = [], None
    for line in (data / "calibration.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            table = line.split("]")[0] + "]"
        elif table == "[posterior.behaviour]" and " = [" in line:
            key, values = line.split(" = ", 1)
            line = f"{key} = [{', '.join(values.strip().strip('[]').split(', ')[:30])}]"
        lines.append(line)
    (data / "calibration.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def run_update(data, cache, **kw):
    return upd.update(data / "calibration.toml", data_dir=data, cache_dir=cache, workers=1, **{**SMALL, **kw})


def test_an_appended_year_narrows_the_posterior_and_moves_the_start_toward_it(world, tmp_path):
    cache = tmp_path / "cache"
    first = run_update(world, cache)
    assert first["through"] == 2024 and len(first["draw"]) == SMALL["keep"]
    # The 2025 the model would have forecast, then a synthetic published figure at its 15th
    # percentile: a sharp final count the update has to move toward.
    rows = [r for r in upd.paths(tomllib.loads((world / "calibration.toml").read_text()), 2024, SMALL["scale"],
                                 SMALL["seed"], SMALL["per_draw"], cache_dir=cache, data_dir=world)]
    assert rows
    env = pd.read_csv(world / "policy_environment.csv")
    with open(world / "policy_environment.csv", "a", encoding="utf-8") as f:
        for key in ("fiscal_st_city", "gdp_city"):
            v = float(env[(env.key == key) & (env.year == 2024)].value.iloc[0]) * 1.05
            f.write(f"2025,{key},{v:.2f},100m_yuan,estimated,synthetic test year: 2024 grown by 5 %\n")
    prior = _forecast_2025(world, cache)
    target = float(np.quantile(prior, 0.15))
    with open(world / "city_recent.csv", "a", encoding="utf-8") as f:
        f.write(f"high_tech_enterprises,2025,{round(target)},firms,verified,level,synthetic test figure,test\n")
    second = run_update(world, cache)
    assert second["through"] == 2025
    obs = second["observations"]
    k = [i for i, (n, y) in enumerate(zip(obs["indicator"], obs["year"])) if (n, y) == ("high_tech_enterprises", 2025)][0]
    assert abs(obs["p50"][k] - target) < abs(obs["prior_p50"][k] - target)        # the start moved toward it
    assert obs["p95"][k] - obs["p05"][k] < obs["prior_p95"][k] - obs["prior_p05"][k]   # and narrowed
    assert second["unique_draws"] <= first["unique_draws"]                        # fewer draws carry it


def _forecast_2025(data, cache) -> np.ndarray:
    """High-tech enterprises at end-2025 of every path of the (now 2025) update, unweighted."""
    cal = tomllib.loads((data / "calibration.toml").read_text())
    rows = upd.paths(cal, 2025, SMALL["scale"], SMALL["seed"], SMALL["per_draw"], cache_dir=cache, data_dir=data)
    return np.array([pd.DataFrame(r["frame"]).query("year == 2025 and quarter == 4").high_tech_enterprises.iloc[0]
                     for r in rows])


def test_a_malformed_appended_row_is_named_before_any_run(world, tmp_path):
    with open(world / "city_recent.csv", "a", encoding="utf-8") as f:
        f.write("high_tech_enterprises,2025,many,firms,verified,level,bad,test\n")
    before = (world / "calibration.toml").read_bytes()
    with pytest.raises(DataError) as e:
        run_update(world, tmp_path / "cache")
    assert "city_recent.csv" in str(e.value) and "value" in str(e.value)
    assert (world / "calibration.toml").read_bytes() == before and not (tmp_path / "cache").exists()


def test_a_killed_update_leaves_the_previous_one_and_resumes(world, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    before = (world / "calibration.toml").read_bytes()
    real, calls = upd.run_paths, []

    def dying(point, items, *args, **kw):
        calls.append(len(items))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(point, items, *args, **kw)

    monkeypatch.setattr(upd, "run_paths", dying)
    with pytest.raises(KeyboardInterrupt):
        run_update(world, cache)
    assert (world / "calibration.toml").read_bytes() == before          # the previous file is in force
    done = sum(1 for _ in next(cache.glob("paths-*.jsonl")).open())
    assert done == upd.CHUNK
    calls.clear()
    monkeypatch.setattr(upd, "run_paths", real)
    counted = []
    monkeypatch.setattr(upd, "run_paths", lambda point, items, *a, **k: counted.append(len(items)) or real(point, items, *a, **k))
    table = run_update(world, cache)
    assert sum(counted) == 30 * SMALL["per_draw"] - upd.CHUNK          # only what was missing ran
    assert tomllib.loads((world / "calibration.toml").read_text())["conditioned"]["draw"] == table["draw"]


def test_every_scenario_replays_the_same_conditioned_years_and_a_retrospective_as_written_is_that_path():
    """Replicate k of the baseline (start 2024), of a lever variant and of the retrospective as
    written (start 2022) run the same 2023–2024; only the retrospective's levers could move them,
    and as written they do not. After 2024 the lever variant differs (its levers act)."""
    from sim.core import metrics
    from sim.experiments import scenarios
    from sim.experiments.ensemble import simulate

    def city(name, k=3):
        s = scenarios.load(name).with_run(scale=0.03)
        assert s.conditioned
        model = simulate(s.replicate_params(k), *s.replicate_seeds(k)[:1], 2025, s.replicate_seeds(k)[1])
        frame = metrics.city_frame(model).reset_index()
        model.release()
        return frame.drop(columns=["step"]).set_index(["year", "quarter"])

    base, retro, need = city("baseline"), city("retro_as_written"), city("fund_need")
    published = [y for y in base.index.get_level_values("year") if y <= 2024]
    pd.testing.assert_frame_equal(base.loc[published], retro.loc[published])
    pd.testing.assert_frame_equal(base.loc[published], need.loc[published])
    assert not base.loc[2025].equals(need.loc[2025])
