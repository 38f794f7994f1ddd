"""Print the leave-one-out comparison of the proxies that split the end-2022 district stocks, the
error model it gives and that model's check on the own figures, as the Markdown tables of
sim/data/README.md ("Where the districts start").

    python tools/data/compare_proxies.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.data import district_start as ds  # noqa: E402

NAMES = {"tech_enterprises": "tech-based SMEs", "high_tech_enterprises": "high-tech enterprises",
         "rd_expenditure": "R&D", "pooled": "all nine"}


def main() -> None:
    scores = ds.proxy_scores()
    print("| stock | proxy | anchors | RMS log miss | worst | mean | |")
    print("|---|---|---|---|---|---|---|")
    for r in scores.itertuples():
        mark = "in use" if ds.IN_USE.get(r.stock) == r.proxy else ""
        print(f"| {NAMES[r.stock]} | {r.proxy} | {r.anchors} | {r.rms:.2f} | {r.worst:.2f} | {r.bias:+.2f} | {mark} |")
    print()
    # With two to four anchors a ranking is fragile: the winner when each anchor in turn is dropped.
    misses = pd.DataFrame([{"stock": m.stock, "proxy": m.proxy, "name": m.name, "e": m.log_error}
                           for m in ds.leave_one_out()])
    for stock, sub in misses.groupby("stock", sort=False):
        table = sub.pivot(index="proxy", columns="name", values="e")
        wins = [f"without {n}: {np.sqrt((table.drop(columns=n) ** 2).mean(axis=1)).idxmin()}" for n in table.columns]
        print(f"- {NAMES[stock]}: " + "; ".join(wins))
    print()
    sigma = ds.error_model()
    print("Error model (sd of the log error): " + ", ".join(f"{NAMES[s]} {v:.2f}" for s, v in sigma.items()))
    print()
    cov = ds.start_coverage()
    print("| stock | district | own | estimate without it | log miss | sd without it | in 50 % | in 90 % |")
    print("|---|---|---|---|---|---|---|---|")
    for r in cov.itertuples():
        print(f"| {NAMES[r.stock]} | {r.district} | {r.own:,.4g} | {r.estimate:,.4g} | {r.log_error:+.2f} | {r.sigma:.2f} | "
              f"{'yes' if r.in_50 else 'no'} | {'yes' if r.in_90 else 'no'} |")
    print(f"\ncovered: 50 % band {cov.in_50.mean():.0%}, 90 % band {cov.in_90.mean():.0%} of {len(cov)}")


if __name__ == "__main__":
    main()
