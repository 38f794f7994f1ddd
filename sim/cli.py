"""Command line: ``python run.py`` runs the baseline from the end of 2022 to the end of 2025 and
prints the target scoreboard."""

from __future__ import annotations

import argparse
import sys
import time

from .model import InnovationModel
from .params import ParamError
from .targets import POLICY_2025, city_rd_cagr, scoreboard


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="run.py", description=__doc__)
    parser.add_argument("--seed", type=int, default=42, help="root seed (default 42)")
    parser.add_argument("--scale", type=float, default=1.0, help="firms simulated per real firm (default 1.0)")
    parser.add_argument("--until", type=int, default=2025, help="last simulated year (default 2025)")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error(f"--scale must be in (0, 1], got {args.scale}")
    if args.until < 2023:
        parser.error(f"--until must be 2023 or later, got {args.until}")
    t0 = time.perf_counter()
    try:
        model = InnovationModel(seed=args.seed, scale=args.scale)
    except ParamError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    built = time.perf_counter() - t0
    while model.year < args.until or model.quarter != 4:
        model.step()
    elapsed = time.perf_counter() - t0
    print(f"Baseline, seed {args.seed}, scale {args.scale}: built in {built:.1f} s, "
          f"simulated to {model.date_label} in {elapsed - built:.1f} s ({int(model.firms.col('alive').sum()):,} live firm rows)")
    print(f"{'target':<7}{'year':>6}{'value':>12}{'threshold':>11}  met  description")
    for row in scoreboard(model, POLICY_2025):
        print(f"{row['target']:<7}{row['year']:>6}{row['value']:>12,.1f}{row['threshold']:>11,.0f}  "
              f"{'yes' if row['met'] else 'no ':<4} {row['description']}")
    print(f"City R&D CAGR 2022→{min(args.until, 2025)}: {100 * city_rd_cagr(model, min(args.until, 2025)):.1f} %/yr")
    return 0


if __name__ == "__main__":
    sys.exit(main())
