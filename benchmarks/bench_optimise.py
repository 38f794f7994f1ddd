"""Trials per minute of the search for the cheapest mix, at the command's defaults and at full scale.

    python benchmarks/bench_optimise.py [--trials 6] [--full-trials 2] [--workers 2] [--scenario baseline]

Each setting runs a fresh search (no check of the mixes, no report) in a temporary folder and
prints its wall time per trial and trials per minute. The defaults are those of ``run.py
optimise`` (scale and replicates from ``sim.optimise.problem.DEFAULTS``, the process pool); "full scale"
is the same at scale 1 (every real firm simulated). The first trials include the worker
processes' start-up, so a longer search runs a little faster per trial.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def trials_per_minute(scenario: str, trials: int, replicates: int, scale: float, workers: int) -> float:
    from sim.experiments import executors
    from sim.experiments.outfolder import OutputFolder
    from sim.experiments.scenarios import load
    from sim.optimise import problem, search as optimise
    setup = problem.Setup.build(load(scenario), replicates=replicates, scale=scale)
    backend = "processes" if workers > 1 else "serial"
    with tempfile.TemporaryDirectory() as tmp, OutputFolder(Path(tmp) / "o", kind="optimisation") as folder, \
            executors.executor(backend, workers) as pool:
        start = time.perf_counter()
        optimise.search(setup, folder.path, trials, pool=pool, batch=workers, backend=backend, workers=workers)
        elapsed = time.perf_counter() - start
    return 60 * trials / elapsed


def main(argv=None) -> int:
    from sim.optimise.problem import DEFAULTS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="baseline")
    p.add_argument("--trials", type=int, default=6, help="trials at the defaults (default 6)")
    p.add_argument("--full-trials", type=int, default=2, help="trials at full scale (default 2; 0 skips it)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = p.parse_args(argv)
    reps = DEFAULTS["replicates"]
    print(f"{args.scenario}: {reps} replicates per trial, {args.workers} worker(s), {os.cpu_count()} CPUs")
    for label, trials, scale in (("defaults", args.trials, DEFAULTS["scale"]), ("full scale", args.full_trials, 1.0)):
        if trials <= 0:
            continue
        tpm = trials_per_minute(args.scenario, trials, reps, scale, args.workers)
        print(f"  {label:<11} scale {scale:<5g} {trials:>3} trials: {tpm:6.2f} trials/min ({60 / tpm:6.1f} s per trial)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
