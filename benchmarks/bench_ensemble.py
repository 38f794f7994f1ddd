"""Wall time of the baseline ensemble with each backend, and memory over a long ensemble.

    python benchmarks/bench_ensemble.py [--replicates N] [--scale S] [--workers 2] [--repeats 1]
    python benchmarks/bench_ensemble.py --memory [--replicates 40] [--scale 0.25]

The first form runs the baseline scenario (its default replicates, full scale unless told)
with the serial, process-pool and Dask LocalCluster backends, each from a fresh output folder
and a fresh process, and prints the wall time of the simulation (report writing excluded) and
the speed-up of the pools over serial. The ``--memory`` form runs replicates one after another in
this process and prints the resident memory after each, to show it stays flat.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed_run(backend: str, replicates: int | None, scale: float, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-c", (
            "import sys, time\n"
            "from sim.experiments.ensemble import run_ensemble\n"
            "if __name__ == '__main__':\n"
            "    t = time.perf_counter()\n"
            f"    run_ensemble('baseline', replicates={replicates!r}, scale={scale!r}, backend={backend!r}, "
            f"workers={workers}, out={str(Path(tmp) / 'out')!r})\n"
            "    print(time.perf_counter() - t)\n")]
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        return float(res.stdout.strip().splitlines()[-1])


def speed(args):
    from sim.experiments.scenarios import load
    n = args.replicates or load("baseline").replicates
    print(f"baseline ensemble: {n} replicates, scale {args.scale:g}, {args.workers} workers for the pools, "
          f"{os.cpu_count()} CPUs, best of {args.repeats}")
    times = {}
    for backend in ("serial", "processes", "dask"):
        times[backend] = min(timed_run(backend, n, args.scale, args.workers) for _ in range(args.repeats))
        line = f"  {backend:<10}{times[backend]:>8.1f} s"
        if backend != "serial":
            line += f"   speed-up over serial {times['serial'] / times[backend]:.2f}x"
        print(line, flush=True)


def memory(args):
    import resource

    from sim.experiments.ensemble import run_task
    from sim.experiments.scenarios import load

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    scenario = load("baseline").with_run(replicates=args.replicates, scale=args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"resident memory after each replicate (serial, scale {args.scale:g}):")
        first = None
        for k in range(args.replicates):
            run_task(scenario, [k], tmp)
            now = rss_mb()
            first = first or now
            if k < 3 or (k + 1) % 10 == 0 or k == args.replicates - 1:
                print(f"  replicate {k + 1:>4}: {now:7.1f} MB")
        print(f"growth from replicate 1 to {args.replicates}: {rss_mb() - first:+.1f} MB; "
              f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--replicates", type=int)
    p.add_argument("--scale", type=float)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--memory", action="store_true")
    args = p.parse_args()
    if args.memory:
        args.replicates = args.replicates or 40
        args.scale = args.scale or 0.25
        t = time.perf_counter()
        memory(args)
        print(f"({time.perf_counter() - t:.0f} s)")
    else:
        args.scale = args.scale or 1.0
        speed(args)


if __name__ == "__main__":
    main()
