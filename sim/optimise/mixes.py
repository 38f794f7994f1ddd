"""Policy mixes a search found: each a scenario file extending the input scenario (so ``run`` and
``compare`` take it as it is), its check on fresh replicates, and the mixes an output folder holds.

The check answers the winner's curse: a search keeps the trials whose estimated probability
happened to come out high, so their own estimates are biased upwards. A chosen mix is therefore
run again with replicates the search never saw — another root seed (:func:`check_seed`), so
other random streams — and its probability of meeting the targets is reported from those alone,
with a 95 % Wilson interval.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.datasets import data_origin
from ..experiments import scenarios
from ..experiments.outfolder import atomic_write
from ..experiments.scenario_files import REPO_SCENARIOS
from ..experiments.targets import meets_rd_growth
from ..report.uncertainty import wilson

MIXES = "mixes"           # the mix scenario files, in the output folder
CHECKS = "checks"         # one ensemble folder per checked mix
MIX_NAME = re.compile(r"^.+_mix\d{4,}$")      # what mix_name gives, of any scenario


def check_seed(seed: int) -> int:
    """The root seed of the checks: a stream of its own, independent of the search's."""
    ss = np.random.SeedSequence([seed, 0xC4EC])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def mix_name(scenario: str, trial: int) -> str:
    return f"{scenario[:48]}_mix{int(trial):04d}"


def _extends(input_file: str, folder: Path) -> str:
    """How the mix file names its input: by name if it is one of the project's scenarios (found
    from any checkout), else by its path relative to the mix file."""
    path = Path(input_file).resolve()
    if path.parent == REPO_SCENARIOS.resolve():
        return path.stem
    return os.path.relpath(path, folder.resolve())


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(round(float(v), 10)) if isinstance(v, float) else str(v)
    return json.dumps(str(v), ensure_ascii=False)


def mix_text(setup, row: pd.Series, label: str, command: str, folder: Path, check: dict | None = None) -> str:
    """The scenario file, to be written into ``folder``, of one trial's mix (its comments say how
    it was found and checked)."""
    s = setup.scenario
    name = mix_name(s.name, row["trial"])
    targets = ", ".join(t.id for t in setup.targets)
    what = {"cheapest": f"Cheapest mix found meeting {targets} with P ≥ {setup.prob:g}",
            "most_likely": f"Most likely mix found for {targets} (none reached P ≥ {setup.prob:g})",
            "front": f"A cost–probability front mix for {targets}"}[label]
    checked = (f"; checked P = {check['p_all']:.2f} [{check['lo']:.2f}, {check['hi']:.2f}] on {check['n']} fresh replicates"
               if check else "")
    desc = f"{what} (trial {int(row['trial'])}): {row['cost']:.2f} 亿元/yr{checked}"
    lines = [f"# {what}: trial {int(row['trial'])} of the search `{command}`.",
             f"# Search: P(every target met) = {row['p_all']:.2f} on {setup.replicates} replicates (root seed {s.seed}, "
             f"scale {s.params.scale:g}, the same replicates for every trial).",
             f"# Public money of the levers: {row['cost']:.2f} 亿元/yr on average over {s.params.start_year + 1}–{s.until}."]
    if check:
        lines.append(f"# Check: P = {check['p_all']:.2f} (95 % Wilson interval {check['lo']:.2f}–{check['hi']:.2f}) on "
                     f"{check['n']} fresh replicates (root seed {check['seed']}, scale {s.params.scale:g}).")
    lines += [f"name = {_toml_value(name)}", f"description = {_toml_value(desc)}",
              f"extends = {_toml_value(_extends(s.file, folder))}"]
    if s.fixed_parameters:              # found at the fitted point: run and checked there too
        lines.append("fixed_parameters = true")
    lines.append("")
    sections: dict[str, list[str]] = {}
    for key in setup.space:
        *table, leaf = key.split(".")
        sections.setdefault(".".join(table), []).append(f"{leaf} = {_toml_value(row[key])}")
    for table, items in sections.items():
        lines += [f"[{table}]", *items, ""]
    return "\n".join(lines)


def write_mix(setup, row, label: str, out: Path, run_id: str, command: str, check: dict | None = None) -> Path:
    folder = Path(out) / MIXES
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{mix_name(setup.scenario.name, row['trial'])}.toml"
    atomic_write(path, mix_text(setup, row, label, command, folder, check).encode("utf-8"), run_id)
    return path


# ------------------------------------------------------------------------------------------------
def check_mix(path: Path, setup, replicates: int, out: Path, pool=None, backend: str = "serial",
              workers: int | None = None):
    """Run the mix file with fresh replicates into ``out/checks/<mix>`` (resumable like any
    ensemble) and return its EnsembleResult."""
    from ..experiments.ensemble import run_ensemble
    mix = scenarios.load(path).with_run(fixed_parameters=setup.scenario.fixed_parameters)
    return run_ensemble(mix, replicates=replicates, seed=check_seed(setup.seed), scale=setup.scenario.params.scale,
                        out=Path(out) / CHECKS / mix.name, pool=pool, backend=backend, workers=workers)


def check_summary(result, targets) -> dict:
    """P(met) of every chosen target together and of each, with Wilson intervals."""
    t = result.targets[result.targets["target"].isin([x.id for x in targets])]
    met = t.pivot_table(index="replicate", columns="target", values="met", aggfunc="first").astype(bool)
    n = len(met)
    k = int(met.all(axis=1).sum())
    lo, hi = wilson(k, n)
    out = dict(n=n, p_all=k / n if n else math.nan, lo=lo, hi=hi, seed=result.scenario.seed)
    for x in targets:
        kx = int(met[x.id].sum())
        out[f"p_{x.id}"] = kx / n if n else math.nan
        out[f"lo_{x.id}"], out[f"hi_{x.id}"] = wilson(kx, n)
    return out


def lagging_districts(result, threshold: float = 0.5) -> pd.DataFrame:
    """Districts that miss the policy's district-level goals at the horizon in more than
    ``threshold`` of the replicates: R&D growth of at least 10 %/yr since the start (T3) and a
    characteristic platform (T6). Columns: adcode, name_zh, rd_growth_missed, no_platform (shares
    of replicates)."""
    d = result.districts
    # T3's growth is measured from the state the runs are built from (the end of 2022)
    start_year, until = data_origin(result.scenario.params.start_year), result.scenario.until
    q4 = d[d["quarter"] == 4]
    rd = q4[q4["indicator"] == "rd_expenditure"].pivot_table(index=["replicate", "adcode"], columns="year", values="value")
    start = d[(d["step"] == d["step"].min()) & (d["indicator"] == "rd_expenditure")].set_index(["replicate", "adcode"])["value"]
    grows = pd.Series(meets_rd_growth(rd[until], start.reindex(rd.index), until - start_year), index=rd.index)
    plat = q4[(q4["indicator"] == "has_platform") & (q4["year"] == until)].set_index(["replicate", "adcode"])["value"] > 0
    names = d.drop_duplicates("adcode").set_index("adcode")["name_zh"]
    table = pd.DataFrame({"rd_growth_missed": 1 - grows.groupby(level="adcode").mean(),
                          "no_platform": 1 - plat.groupby(level="adcode").mean()})
    table.insert(0, "name_zh", table.index.map(names))
    lag = table[(table["rd_growth_missed"] > threshold) | (table["no_platform"] > threshold)]
    return lag.sort_values(["rd_growth_missed", "no_platform"], ascending=False).reset_index()


def is_mix_file(path: Path) -> bool:
    """Whether ``path`` is a mix file a search wrote: its name is a mix's and its first line says
    which search found it (:func:`mix_text`)."""
    if not (path.is_file() and path.suffix == ".toml" and MIX_NAME.match(path.stem)):
        return False
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError):
        return False
    return first.startswith("# ") and " of the search `" in first


def remove_check(folder: Path) -> bool:
    """Remove a mix's check ensemble (``checks/<mix>``) — only what the ensemble run wrote there
    (:meth:`OutputFolder.clear`, then its own record and lock); a folder that is not one of this
    simulator's ensembles is left alone. True when the folder is gone."""
    from ..experiments.outfolder import LOCK_FILE, OWNER_FILE, OutputFolder, OutputFolderError
    if not (folder.is_dir() and MIX_NAME.match(folder.name)):
        return False
    ensemble = OutputFolder(folder, kind="ensemble")
    try:
        with ensemble:
            ensemble.clear()
    except OutputFolderError:           # not this simulator's ensemble, or in use: not ours to empty now
        return False
    if {e.name for e in os.scandir(folder)} <= {OWNER_FILE, LOCK_FILE}:
        for name in (OWNER_FILE, LOCK_FILE):
            (folder / name).unlink(missing_ok=True)
        try:
            folder.rmdir()
        except OSError:
            return False
        return True
    return False


# ------------------------------------------------------------------------------------------------
def list_mixes(folder) -> list[dict]:
    """The mix scenario files of an optimiser's output folder (``folder/mixes/*.toml``; the folder
    of mixes itself also works): name, file and description, cheapest first as the search wrote them."""
    folder = Path(folder)
    where = folder / MIXES if (folder / MIXES).is_dir() else folder
    rows = []
    for path in sorted(where.glob("*.toml")):
        try:
            s = scenarios.load(path)
        except scenarios.ScenarioError as e:
            rows.append(dict(name=path.stem, file=str(path), description=f"cannot be loaded: {e}", ok=False))
            continue
        rows.append(dict(name=s.name, file=str(path), description=s.description, ok=True))
    return rows
