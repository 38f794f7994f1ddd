"""Speed and memory of the core model at full scale (one agent per real firm) and at 0.1.

    python benchmarks/bench_model.py [--quarters 12] [--scales 1.0 0.1]

Prints, per scale: build time, wall time per quarter, firm-steps per second for the whole
quarter and for the compiled firm update alone (R&D, contacts, knowledge and spillover, growth,
the ladder), and the process's peak resident memory. Run each scale in a fresh process so the
peak memory belongs to that scale alone. (Default parameters; ``bench_speed.py`` measures the
calibrated baseline and every figure of the speed targets.)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def one(scale: float, quarters: int, seed: int) -> None:
    from sim import InnovationModel
    from sim.core import firm_processes

    t0 = time.perf_counter()
    model = InnovationModel(seed=seed, scale=scale)
    build = time.perf_counter() - t0
    step_times, firm_times, rows = [], [], []
    for _ in range(quarters):
        rows.append(model.firms.n)
        t = time.perf_counter()
        model.step()
        step_times.append(time.perf_counter() - t)
    # The firm update alone, timed on the final state (same code path as inside step()).
    for _ in range(quarters):
        t = time.perf_counter()
        firm_processes.choose_rd(model)
        model.call("after_rd")
        firm_processes.observe_contacts(model)
        firm_processes.learn_and_grow(model)
        firm_processes.climb_ladder(model)
        firm_times.append(time.perf_counter() - t)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    firm_steps = sum(rows)
    live = int(model.firms.col("alive").sum())
    print(f"scale {scale:>5}: {model.firms.n:>7,} firm rows ({live:,} live), {len(model.network.w):,} links; "
          f"build {build:.2f} s; quarter {1000 * sum(step_times) / quarters:.0f} ms "
          f"(median {1000 * sorted(step_times)[quarters // 2]:.0f} ms); "
          f"{firm_steps / sum(step_times) / 1e6:.2f} M firm-steps/s whole quarter; "
          f"{model.firms.n * quarters / sum(firm_times) / 1e6:.1f} M firm-steps/s firm update; "
          f"peak memory {peak_mb:.0f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quarters", type=int, default=12)
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.1])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        one(args.one, args.quarters, args.seed)
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {args.quarters} quarters per scale, seed {args.seed}")
    for scale in args.scales:
        subprocess.run([sys.executable, __file__, "--one", str(scale), "--quarters", str(args.quarters),
                        "--seed", str(args.seed)], check=True)


if __name__ == "__main__":
    main()
