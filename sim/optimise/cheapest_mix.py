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

From Python::

    from sim.optimise.cheapest_mix import find
    answer = find("baseline", "results/opt", targets=["T2"], trials=20, replicates=5, scale=0.05)
    answer.mixes[0]["check"]["p_all"], answer.mixes[0]["path"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..experiments import executors
from ..experiments.outfolder import OutputFolder, atomic_write
from ..experiments.scenarios import Scenario, load
from . import mixes, problem, search as optimise


@dataclass
class Answer:
    setup: problem.Setup
    out: Path
    trials: pd.DataFrame
    pareto: pd.DataFrame
    mixes: list[dict] = field(default_factory=list)     # label, row, path, check, lagging, result
    check_replicates: int = 0


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
    with folder, executors.executor(backend, workers, scheduler) as pool:
        study = optimise.search(setup, folder.path, trials, pool=pool, batch=n_workers, backend=backend,
                                workers=workers, log=log)
        table = optimise.trials_table(study, setup)
        front = optimise.pareto_table(table)
        atomic_write(folder.path / "trials.csv", table.to_csv(index=False).encode(), folder.run_id)
        atomic_write(folder.path / "pareto.csv", front.to_csv(index=False).encode(), folder.run_id)
        answer = Answer(setup, folder.path, table, front, check_replicates=check_replicates)
        _remove_old_mixes(folder.path, setup.scenario.name)
        for label, row in optimise.choose_mixes(table, setup.prob, n_mixes):
            path = mixes.write_mix(setup, row, label, folder.path, folder.run_id, command)
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


def _remove_old_mixes(out: Path, scenario: str) -> None:
    """Mix files an earlier run of this search chose (the choice moves as trials are added)."""
    pattern = re.compile(rf"^{re.escape(mixes.mix_name(scenario, 0)[:-4])}\d{{4}}\.toml$")
    for p in (out / mixes.MIXES).glob("*.toml") if (out / mixes.MIXES).is_dir() else ():
        if pattern.match(p.name):
            p.unlink(missing_ok=True)
