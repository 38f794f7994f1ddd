"""Which lever mix gets there: the search (:mod:`sim.optimise.search`), the check of the best mixes on
fresh replicates (:mod:`sim.optimise.mixes`) and the files of the answer, in one call.

Output folder (``out``)::

    optuna.db        the study: every trial, its set-up record (resumable)
    trials.csv       one row per evaluated trial: lever values, cost, P(met) per target and together
    pareto.csv       the cost–probability front (the same columns)
    mixes/*.toml     each chosen mix as a scenario file extending the input
    checks/<mix>/    each chosen mix's check ensemble (fresh replicates), as ``run`` writes it
    report.html      the front, the mixes' levers beside the input's, their checked P(met), the
                     districts that still lag

Every file and check folder is recorded in the folder's owner record as it is written. A folder
whose ``optuna.db`` holds no search any more (deleted or emptied) gets a new search, and what the
earlier search wrote there (the files above but ``optuna.db``; nothing else) is removed first, so
no file of the old search can be read as the new one's.

From Python::

    from sim.optimise.cheapest_mix import find
    answer = find("baseline", "results/opt", targets=["T2"], trials=20, replicates=5, scale=0.05)
    answer.mixes[0]["check"]["p_all"], answer.mixes[0]["path"]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..experiments import executors
from ..experiments.outfolder import OWNER_FILE, OutputFolder, atomic_write
from ..experiments.scenarios import Scenario, load
from . import mixes, problem, search as optimise
from .study import STORAGE


@dataclass
class Answer:
    setup: problem.Setup
    out: Path
    trials: pd.DataFrame
    pareto: pd.DataFrame
    mixes: list[dict] = field(default_factory=list)     # label, row, path, check, lagging, result
    check_replicates: int = 0
    notes: list[str] = field(default_factory=list)     # what the run did besides searching (said in the summary)


def find(scenario: Scenario | str, out, targets=None, prob: float = problem.DEFAULTS["prob"], levers=None,
         trials: int = problem.DEFAULTS["trials"], replicates: int = problem.DEFAULTS["replicates"],
         scale: float | None = problem.DEFAULTS["scale"], seed: int | None = None, backend: str = "serial",
         workers: int | None = None, scheduler: str | None = None,
         check_replicates: int = problem.DEFAULTS["check_replicates"], n_mixes: int = problem.DEFAULTS["mixes"],
         inequality: bool = False, sampler: str = "tpe", report: bool = True, log=None,
         command: str = "", fixed_parameters: bool | None = None) -> Answer:
    """Search, choose, check and write the answer into ``out`` (continuing a search stored there)."""
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    setup = problem.Setup.build(scenario, targets, prob, levers, replicates, scale, seed, inequality, sampler,
                                fixed_parameters)
    command = command or f"optimise {scenario.name}"
    folder = OutputFolder(out, kind="optimisation")
    if scheduler:
        backend = "dask"
    n_workers = 1 if backend == "serial" else (workers or executors.default_workers())
    notes: list[str] = []

    def fresh():
        removed = forget_earlier_search(folder)
        if removed:
            notes.append(f"{STORAGE} held no search (deleted or emptied): a new search started, and what the "
                         f"earlier one wrote here was removed ({', '.join(removed)})")
            if log:
                log(notes[-1])

    with folder, executors.executor(backend, workers, scheduler) as pool:
        study = optimise.search(setup, folder.path, trials, pool=pool, batch=n_workers, backend=backend,
                                workers=workers, log=log, fresh=fresh)
        table = optimise.trials_table(study, setup)
        front = optimise.pareto_table(table)
        atomic_write(folder.path / "trials.csv", table.to_csv(index=False).encode(), folder.run_id)
        atomic_write(folder.path / "pareto.csv", front.to_csv(index=False).encode(), folder.run_id)
        folder.record(["trials.csv", "pareto.csv"])
        answer = Answer(setup, folder.path, table, front, check_replicates=check_replicates, notes=notes)
        _remove_old_mixes(folder.path, setup.scenario.name)
        for label, row in optimise.choose_mixes(table, setup.prob, n_mixes):
            path = mixes.write_mix(setup, row, label, folder.path, folder.run_id, command)
            folder.record([f"{mixes.MIXES}/{path.name}", f"{mixes.CHECKS}/{path.stem}"])
            result = mixes.check_mix(path, setup, check_replicates, folder.path, pool=pool, backend=backend,
                                     workers=workers)
            check = mixes.check_summary(result, setup.targets)
            mixes.write_mix(setup, row, label, folder.path, folder.run_id, command, check)
            if log:
                log(f"{label} mix (trial {int(row['trial'])}): {row['cost']:.2f} 亿元/yr, search P {row['p_all']:.0%}, "
                    f"check P {check['p_all']:.0%} [{check['lo']:.0%}, {check['hi']:.0%}] on {check['n']} fresh replicates")
            answer.mixes.append(dict(label=label, row=row, path=path, check=check,
                                     lagging=mixes.lagging_districts(result), result=result))
        written = ["trials.csv", "pareto.csv"] + [f"{mixes.MIXES}/{m['path'].name}" for m in answer.mixes]
        if report:
            from .report import write_report
            write_report(answer, folder.path / "report.html", folder.run_id)
            written.append("report.html")
        folder.record(written)
    return answer


OUTPUTS = ("trials.csv", "pareto.csv", "report.html")      # the search's own files at the folder's top


def forget_earlier_search(folder: OutputFolder) -> list[str]:
    """Remove what an earlier search wrote into ``folder`` (open) before a new study starts there:
    its tables and report, its mix files and their check ensembles — the files the folder's record
    names and those of the search's own layout and names (a run stopped before recording them);
    nothing else. Returns what was removed, described."""
    out = folder.path
    recorded = _recorded(out)
    removed = [name for name in OUTPUTS if (out / name).is_file()]
    for name in removed:
        (out / name).unlink()
    n_mixes = n_checks = 0
    for p in sorted((out / mixes.MIXES).glob("*.toml")) if (out / mixes.MIXES).is_dir() else ():
        if f"{mixes.MIXES}/{p.name}" in recorded or mixes.is_mix_file(p):
            p.unlink()
            n_mixes += 1
    for d in sorted((out / mixes.CHECKS).iterdir()) if (out / mixes.CHECKS).is_dir() else ():
        if mixes.remove_check(d):
            n_checks += 1
    for sub in (mixes.MIXES, mixes.CHECKS):
        try:
            (out / sub).rmdir()
        except OSError:                 # not there, or holding what this search did not write
            pass
    if n_mixes:
        removed.append(f"{n_mixes} mix file{'s' * (n_mixes != 1)} in {mixes.MIXES}/")
    if n_checks:
        removed.append(f"{n_checks} check ensemble{'s' * (n_checks != 1)} in {mixes.CHECKS}/")
    return removed


def _recorded(out: Path) -> set[str]:
    """The files the folder's owner record says this simulator wrote there."""
    try:
        written = json.loads((out / OWNER_FILE).read_text("utf-8")).get("written")
    except (OSError, ValueError, AttributeError):
        return set()
    return {w for w in written if isinstance(w, str)} if isinstance(written, list) else set()


def _remove_old_mixes(out: Path, scenario: str) -> None:
    """Mix files an earlier run of this search chose (the choice moves as trials are added)."""
    pattern = re.compile(rf"^{re.escape(mixes.mix_name(scenario, 0)[:-4])}\d{{4,}}\.toml$")
    for p in (out / mixes.MIXES).glob("*.toml") if (out / mixes.MIXES).is_dir() else ():
        if pattern.match(p.name):
            p.unlink(missing_ok=True)
