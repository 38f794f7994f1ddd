"""Every speed figure of the model in one run, beside a per-agent Mesa peer measured in the same run.

    python benchmarks/bench_speed.py [--replicates 1000] [--growth 50] [--draws 20] [--no-ensemble] [--no-app] [--quarters 12]

All figures use the calibrated baseline scenario (``sim.experiments.scenarios.load("baseline").params``) and
medians (the machine may be shared). Each part runs in a fresh process, so memory and timing
belong to it alone:

* the full-scale quarter 2023–2025 (wall and CPU time, live firms, firm rows, links), the firm
  update alone (R&D choice, subsidies and finance, contacts, knowledge and growth, the ladder) in
  firm-steps per second, and inside its compiled loops only, the build of a full-scale model, and the peak memory of a process holding one
  full-scale model run to 2030, and how much of it the interpreter with its libraries, the
  compiled kernels and the model itself take;
* the resident memory of one process running ``--growth`` full-scale replicates 2022→2030 (2023–2024 replayed) one
  after the other as an ensemble worker does (build, run, tables, release), replicate by replicate;
* the per-agent peer (``benchmarks/peer_mesa.py``) at the same number of live firms, and the
  ratio of its step to the model's quarter;
* the scaling of the quarter's cost from scale 0.1 to 1.0, per firm row and per link, and a
  least-squares fit of the quarter's cost to firm rows and links over every quarter timed;
* the app's step and redraw at full scale (``benchmarks/bench_app.py``, in process);
* ``--draws`` replicates of the baseline run one after another, each with its posterior draw as
  in an ensemble: the spread of their run times and firm rows, which is what an ensemble's time
  is made of;
* ``--replicates`` full-scale replicates 2022→2030 (2023–2024 replayed) with the process pool and with Dask's
  LocalCluster, then with the pool at the fitted point (``--fixed-parameters``: the model's own
  cost, without the posterior's costliest draws), and the resident memory of each worker as its
  replicates go by; below 1,000 replicates the time for 1,000 is extrapolated from them (and says so).

The machine's load average is printed before and after: on a shared machine the wall times
carry the others' work, the CPU times less so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

# Last round's ensemble (posterior draws from a bare end-2022 start, before the update on
# 2023–2024), the peer the conditioned ensemble is printed beside (docs/SPEED.md, Dec 2026).
LAST_ROUND_MIN = "16–31"
# No replicate's firm table may grow past three times the largest published stock of firms
# (tech-based SMEs, 55,000 expected at the end of 2023 in sim/data/city_recent.csv).
LARGEST_PUBLISHED_STOCK = 55_000
TARGETS = dict(quarter_ms=12, firm_msteps=30, ensemble_min=10, dask_ratio=1.10, app_s=0.1, build_s=0.2, memory_mb=250)


def rss_mb(pid: str | int = "self") -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def part(*args: str) -> dict:
    """Run one part of this benchmark in a fresh interpreter; it prints its figures as JSON last."""
    res = subprocess.run([sys.executable, __file__, "--part", *args], cwd=ROOT, capture_output=True, text=True)
    if res.returncode:
        sys.stderr.write(res.stderr)
        raise SystemExit(f"part {args} failed")
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---- parts (each in its own process) ------------------------------------------------------------
def part_model(scale: float, quarters: int) -> dict:
    from sim import InnovationModel
    from sim.core import firm_processes
    from sim.experiments import scenarios
    params = scenarios.load("baseline").params.with_overrides(scale=scale)
    builds = []
    for seed in (42, 43, 44):
        t = time.perf_counter()
        model = InnovationModel(params, seed=seed)
        builds.append(time.perf_counter() - t)
        if seed == 42:
            model.step()   # a fresh process loads the kernels that only a step calls: not a quarter's cost
        if seed != 44:
            model.release()
    steps, cpu, rows, live, links = [], [], [], [], []
    for _ in range(quarters):
        rows.append(model.firms.n)
        live.append(int(model.firms.col("alive").sum()))
        links.append(len(model.network.w))
        t, c = time.perf_counter(), time.thread_time()
        model.step()
        steps.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)

    def firm_update():
        """The firm update alone, on the state reached (the same calls as inside step())."""
        firm_processes.choose_rd(model)
        model.call("after_rd")
        firm_processes.observe_contacts(model)
        firm_processes.learn_and_grow(model)
        firm_processes.climb_ladder(model)

    firm, firm_cpu = [], []
    for _ in range(quarters):
        t, c = time.perf_counter(), time.thread_time()
        firm_update()
        firm.append(time.perf_counter() - t)
        firm_cpu.append(time.thread_time() - c)
    in_loops = []
    with timed_loops() as spent:
        for _ in range(quarters):
            spent[0] = 0.0
            firm_update()
            in_loops.append(spent[0])
    return dict(scale=scale, build_first=builds[0], build=statistics.median(builds[1:]),
                quarter=statistics.median(steps), quarter_mean=statistics.fmean(steps), quarter_cpu=statistics.median(cpu),
                rows=statistics.median(rows), live=statistics.median(live), links=statistics.median(links),
                firm_update=statistics.median(firm), firm_update_cpu=statistics.median(firm_cpu),
                firm_update_loops=statistics.median(in_loops), firm_rows=model.firms.n,
                samples=[[r, k, t, c] for r, k, t, c in zip(rows, links, steps, cpu)])


@contextlib.contextmanager
def timed_loops():
    """While open, every compiled loop the model's modules call adds its wall time to
    ``spent[0]``: what the firm update costs inside its loops, without the Python between them."""
    import importlib
    import pkgutil

    import sim
    spent, patched, timers = [0.0], [], {}
    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:
        yield spent
        return
    # The model's wings, not the app's or the optimiser's (which would import their libraries).
    names = [m.name for m in pkgutil.walk_packages(sim.__path__, "sim.")
             if m.name.split(".")[1] in ("util", "core", "programmes") and not m.ispkg]
    for mod in map(importlib.import_module, names):
        for name, loop in list(vars(mod).items()):
            # Helpers inlined into the loops are never called from Python.
            if isinstance(loop, CPUDispatcher) and loop.targetoptions.get("inline") != "always":
                if loop not in timers:
                    def timer(*args, _loop=loop):
                        t = time.perf_counter()
                        try:
                            return _loop(*args)
                        finally:
                            spent[0] += time.perf_counter() - t
                    timers[loop] = timer
                setattr(mod, name, timers[loop])
                patched.append((mod, name, loop))
    try:
        yield spent
    finally:
        for mod, name, loop in patched:
            setattr(mod, name, loop)


def load_kernels(params, horizon: int) -> None:
    """Load every compiled kernel by a small model run to ``horizon`` and released, so that what
    follows is the cost of the model, not of loading its loops."""
    from sim import InnovationModel
    InnovationModel(params.with_overrides(scale=0.01), seed=45).run_until(horizon).release()


def part_memory(horizon: int) -> dict:
    """Peak resident memory of a process holding one full-scale model run to ``horizon``, and
    what the process holds before it: the interpreter with its libraries, then with the
    compiled kernels loaded too."""
    from sim import InnovationModel
    from sim.experiments import scenarios
    params = scenarios.load("baseline").params
    imports = rss_mb()
    load_kernels(params, horizon)
    kernels = rss_mb()
    model = InnovationModel(params, seed=45)
    model.step()
    t = time.perf_counter()
    model.run_until(2025)
    peak_2025 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.run_until(horizon)
    return dict(imports_mb=imports, kernels_mb=kernels, peak_2025_mb=peak_2025, run_to_horizon=time.perf_counter() - t,
                horizon_rows=model.firms.n, horizon_links=len(model.network.w),
                peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def one_after_another(replicates: int, posterior: bool) -> list[tuple[float, int, float]]:
    """Full-scale replicates 0..``replicates``-1 of the baseline 2022→2030 (2023–2024 replayed) in this process, run as
    an ensemble task runs them (build, run, tables, release, its garbage collection), at the
    fixed point or each with its posterior draw: per replicate the seconds of its run, its firm
    rows at 2030, the process's resident memory after it, the largest its firm table grew at any
    quarter's end (after entry, before the year's compaction) and the real firms a row stood for at
    the end (more than one where the run's bound on rows coarsened it, ``sim/core/resolution.py``)."""
    from sim import InnovationModel
    from sim.experiments import ensemble, scenarios
    from sim.model import replicate_seed
    scenario = scenarios.load("baseline")
    out = []
    for k in range(replicates):
        t = time.perf_counter()
        seed, future = scenario.replicate_seeds(k) if posterior else (replicate_seed(scenario.seed, k), None)
        # ensemble.simulate's run, quarter by quarter, to see the table at its largest
        model = InnovationModel(params=scenario.replicate_params(k) if posterior else scenario.params, seed=seed,
                                future_seed=future)
        largest = model.firms.n
        while not model.reached(2030):
            model.step()
            largest = max(largest, model.firms.n)
        seconds, rows = time.perf_counter() - t, model.firms.n
        ensemble.replicate_tables(model, scenario.name, k, scenario.targets)
        per_row = 1 / model.resolution
        model.release()
        del model
        ensemble.collect_garbage()
        out.append((seconds, rows, rss_mb(), largest, per_row))
    return out


def part_growth(replicates: int) -> dict:
    """Resident memory of one process after each of ``replicates`` replicates at the fixed point."""
    after = [r[2] for r in one_after_another(replicates, posterior=False)]
    return dict(replicates=replicates, after=after, peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def part_draws(replicates: int) -> dict:
    """Replicates 0..``replicates``-1 each with its posterior draw: their run times, firm rows and
    the memory after each (what an ensemble's time is made of: the draws differ in how fast the
    firm pool grows)."""
    from sim.experiments import scenarios
    load_kernels(scenarios.load("baseline").params, 2030)
    return dict(runs=one_after_another(replicates, posterior=True))


def fit(samples: list, column: int) -> tuple:
    """Least squares of a quarter's seconds on (1, x), x the firm rows (column 0) or the links
    (column 1) of each quarter timed: the intercept, the slope and R². Links grow in proportion
    to firms, so one of the two at a time (a fit on both is ill-conditioned)."""
    import numpy as np
    a = np.array(samples, float)
    X = np.column_stack((np.ones(len(a)), a[:, column]))
    coef, *_ = np.linalg.lstsq(X, a[:, 2], rcond=None)
    resid = a[:, 2] - X @ coef
    return coef[0], coef[1], 1 - float(resid @ resid) / float(((a[:, 2] - a[:, 2].mean()) ** 2).sum())


def part_peer(firms: int) -> dict:
    from peer_mesa import time_peer
    step, build = time_peer(firms, steps=3)
    return dict(firms=firms, step=step, build=build)


def part_app(steps: int) -> dict:
    import warnings
    warnings.filterwarnings("ignore")
    import bench_app
    return {str(k): v for k, v in bench_app.in_process(steps, scales=(1.0,)).items()}


def _descendants(pid: int) -> list[int]:
    kids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(p))
            except OSError:
                pass
    return kids + [g for k in kids for g in _descendants(k)]


def part_ensemble(backend: str, replicates: int, workers: int, parameters: str = "posterior") -> dict:
    """Wall time of run_ensemble to 2030, and each worker's resident memory sampled every second;
    ``parameters`` "fixed" runs every replicate at the fitted point (``--fixed-parameters``)."""
    from sim.experiments import scenarios
    from sim.experiments.ensemble import run_ensemble
    scenario = scenarios.load("baseline").with_run(fixed_parameters=parameters == "fixed")
    samples: dict[int, list[tuple[float, float]]] = {}
    done = threading.Event()
    t0 = time.perf_counter()

    def watch():
        while not done.wait(1.0):
            for pid in _descendants(os.getpid()):
                mb = rss_mb(pid)
                if mb > 100:   # model workers, not the resource tracker or the nanny
                    samples.setdefault(pid, []).append((time.perf_counter() - t0, mb))

    threading.Thread(target=watch, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run_ensemble(scenario, replicates=replicates, until=2030, scale=1.0, backend=backend, workers=workers,
                     out=Path(tmp) / "out")
        wall = time.perf_counter() - t
    done.set()
    memory = []
    for pid, s in samples.items():
        if len(s) >= 10:
            mbs = [mb for _, mb in s]
            k = max(1, len(mbs) // 10)
            memory.append(dict(first=statistics.median(mbs[k:2 * k]), last=statistics.median(mbs[-k:]), peak=max(mbs)))
    return dict(backend=backend, replicates=replicates, workers=workers, parameters=parameters, wall=wall, memory=memory)


# ---- the report ---------------------------------------------------------------------------------
def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicates", type=int, default=1000, help="replicates of each ensemble (default 1000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quarters", type=int, default=12)
    ap.add_argument("--growth", type=int, default=50, help="replicates one process runs for its memory growth (default 50)")
    ap.add_argument("--scales", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    ap.add_argument("--draws", type=int, default=20, help="posterior replicates timed one by one (default 20)")
    ap.add_argument("--no-ensemble", action="store_true")
    ap.add_argument("--no-app", action="store_true")
    ap.add_argument("--part", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.part:
        kind, *args = a.part
        fn = dict(model=lambda s, q: part_model(float(s), int(q)), memory=lambda h: part_memory(int(h)),
                  peer=lambda f: part_peer(int(f)), app=lambda s: part_app(int(s)), growth=lambda r: part_growth(int(r)),
                  ensemble=lambda b, r, w, p="posterior": part_ensemble(b, int(r), int(w), p),
                  draws=lambda r: part_draws(int(r)))[kind]
        print(json.dumps(fn(*args)))
        return

    import numpy
    try:
        import numba
        nb = f"numba {numba.__version__}"
    except ImportError:
        nb = "no numba"
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; python "
          f"{platform.python_version()}, numpy {numpy.__version__}, {nb}; load average "
          f"{load()} (1, 5, 15 min); calibrated baseline", flush=True)

    full = part("model", "1.0", str(a.quarters))
    mem = part("memory", "2030")
    quarter_ms = 1000 * full["quarter"]
    msteps = full["firm_rows"] / full["firm_update"] / 1e6
    print(f"\nfull scale, {a.quarters} quarters from end-2022: {full['rows']:,.0f} firm rows ({full['live']:,.0f} live), "
          f"{full['links']:,.0f} links (medians)")
    print(f"  quarter            median {quarter_ms:6.1f} ms (mean {1000 * full['quarter_mean']:.1f} ms; "
          f"CPU median {1000 * full['quarter_cpu']:.1f} ms)"
          f"   target ≤ {TARGETS['quarter_ms']} ms: {verdict(quarter_ms <= TARGETS['quarter_ms'])}")
    print(f"  whole quarter      {full['rows'] / full['quarter'] / 1e6:6.1f} M firm-steps/s")
    print(f"  firm update        {msteps:6.1f} M firm-steps/s ({1000 * full['firm_update']:.1f} ms for {full['firm_rows']:,} rows; "
          f"{full['firm_rows'] / full['firm_update_cpu'] / 1e6:.1f} M/s of CPU)"
          f"   target ≥ {TARGETS['firm_msteps']} (aim 50): {verdict(msteps >= TARGETS['firm_msteps'])}")
    if full.get("firm_update_loops"):
        print(f"    in its loops     {full['firm_rows'] / full['firm_update_loops'] / 1e6:6.1f} M firm-steps/s "
              f"({1000 * full['firm_update_loops']:.1f} ms, {1e9 * full['firm_update_loops'] / full['firm_rows']:.0f} ns a row; "
              f"the firm update with no Python between its compiled loops)")
    print(f"  build              {full['build']:6.3f} s (first in a fresh process {full['build_first']:.3f} s)"
          f"   target ≤ {TARGETS['build_s']} s: {verdict(full['build'] <= TARGETS['build_s'])}")
    print(f"  peak memory        {mem['peak_mb']:6.0f} MB to 2030 ({mem['horizon_rows']:,} rows, {mem['horizon_links']:,} links; "
          f"{mem['peak_2025_mb']:.0f} MB to 2025)"
          f"   target ≤ {TARGETS['memory_mb']} MB: {verdict(mem['peak_mb'] <= TARGETS['memory_mb'])}")
    print(f"    of which         {mem['imports_mb']:6.0f} MB the interpreter with its libraries, "
          f"{mem['kernels_mb'] - mem['imports_mb']:.0f} MB the compiled kernels loaded, "
          f"{mem['peak_mb'] - mem['kernels_mb']:.0f} MB the model itself")
    print(f"  one run 2022→2030 (2023–2024 replayed)  {mem['run_to_horizon']:6.2f} s after the build", flush=True)

    peer = part("peer", str(int(full["live"])))
    ratio = peer["step"] / full["quarter"]
    print(f"\nper-agent Mesa peer at {peer['firms']:,} live firms: {peer['step']:.2f} s per step "
          f"({peer['firms'] / peer['step'] / 1e6:.2f} M firm-steps/s); the model's quarter is {ratio:.0f}x faster"
          f"   target ≥ 65x (aim 100x): {verdict(ratio >= 65)}", flush=True)

    print("\nscaling of the quarter (medians over the quarters):")
    print(f"  {'scale':>5} {'rows':>9} {'links':>9} {'quarter ms':>10} {'µs/row':>7} {'µs/(row+link)':>13}")
    scaling = []
    for s in a.scales:
        r = full if s == 1.0 else part("model", str(s), str(a.quarters))
        scaling.append(r)
        q = 1e6 * r["quarter"]
        print(f"  {s:>5g} {r['rows']:>9,.0f} {r['links']:>9,.0f} {q / 1000:>10.2f} {q / r['rows']:>7.3f} "
              f"{q / (r['rows'] + r['links']):>13.3f}", flush=True)
    if len(scaling) > 1:
        lo, hi = scaling[0], scaling[-1]
        growth = hi["quarter"] / lo["quarter"]
        print(f"  {hi['scale'] / lo['scale']:.0f}x the scale: {hi['rows'] / lo['rows']:.1f}x the rows, "
              f"{hi['links'] / lo['links']:.1f}x the links, {growth:.1f}x the quarter's cost")
        samples = [q for r in scaling for q in r["samples"]]
        for column, what in ((0, "firm row"), (1, "link")):
            c0, slope, r2 = fit(samples, column)
            print(f"  least squares over {len(samples)} quarters: quarter = {1000 * c0:.2f} ms + {1e9 * slope:.0f} ns per "
                  f"{what} (R² {r2:.3f}); the fixed part is {c0 / full['quarter']:.0%} of the full-scale quarter")
        print("  links per firm row: " + ", ".join(f"{r['links'] / r['rows']:.2f} at {r['scale']:g}" for r in scaling),
              flush=True)

    g = part("growth", str(a.growth))
    after = g["after"]
    k = max(1, len(after) // 10)
    first, last = statistics.median(after[:k]), statistics.median(after[-k:])
    print(f"\none process, {g['replicates']} full-scale replicates 2022→2030 (2023–2024 replayed) one after another: resident "
          f"{after[0]:.0f} MB after the first, {first:.0f} MB over the first {k}, {last:.0f} MB over the last {k} "
          f"({last - first:+.0f} MB), peak {g['peak']:.0f} MB")
    print("  after each replicate (MB): " + " ".join(f"{x:.0f}" for x in after), flush=True)

    if not a.no_app:
        app = part("app", "8")["1.0"]
        print(f"\napp at full scale: step and redraw {app['step']:.3f} s (CPU {app['step_cpu']:.3f} s), build and redraw "
              f"{app['build']:.3f} s   target ≤ {TARGETS['app_s']} s: {verdict(app['step'] <= TARGETS['app_s'])}", flush=True)

    if not a.no_ensemble:
        runs = part("draws", str(a.draws))["runs"]
        times = [t for t, *_ in runs]
        print(f"\nreplicates 0–{a.draws - 1} one after another, each with its posterior draw, 2022→2030 (2023–2024 replayed): "
              f"median {statistics.median(times):.2f} s, mean {statistics.fmean(times):.2f} s, longest {max(times):.2f} s; "
              f"firm rows at 2030 median {statistics.median(r for _, r, *_ in runs):,.0f}, largest {max(r for _, r, *_ in runs):,}; "
              f"at the mean, 1,000 replicates take {statistics.fmean(times) * 1000 / a.workers / 60:.1f} min "
              f"of {a.workers} workers' time")
        print("  seconds and rows at 2030 of each: " + ", ".join(f"{t:.1f} s {r / 1000:.0f}k" for t, r, *_ in runs))
        largest = max(r[3] for r in runs)
        coarse = [r[4] for r in runs if r[4] > 1.0]
        print(f"  largest firm table at any quarter {largest:,} rows = {largest / LARGEST_PUBLISHED_STOCK:.1f}x the largest "
              f"published stock ({LARGEST_PUBLISHED_STOCK:,})   target ≤ 3x: {verdict(largest <= 3 * LARGEST_PUBLISHED_STOCK)}")
        print(f"  {len(coarse)} of {len(runs)} replicates ran coarser to stay within their bound on rows"
              + (f" (at 2030 a row stood for {min(coarse):.1f}–{max(coarse):.1f} real firms)" if coarse else ""))
        # Read after each replicate, against the same process read during one (the ensembles'
        # workers below): a large replicate's arrays are handed back when it is released, so a
        # worker sampled mid-run shows the size of the replicate it is running, not a leak.
        print("  the process's resident memory after each (MB): " + " ".join(f"{r[2]:.0f}" for r in runs), flush=True)
        print(f"\n{a.replicates:,} full-scale replicates 2022→2030 (2023–2024 replayed), {a.workers} workers:")
        pool_wall = None
        # The pool and Dask with the posterior (the default, which the targets are read on), then
        # the pool at the fitted point: what the model costs apart from the draws that grow the
        # firm pool fastest, printed beside the target, not judged by it.
        for backend, parameters in (("processes", "posterior"), ("dask", "posterior"), ("processes", "fixed")):
            r = part("ensemble", backend, str(a.replicates), str(a.workers), parameters)
            per_1000 = r["wall"] / a.replicates * 1000 / 60
            label = backend if parameters == "posterior" else f"{backend}, fitted point"
            line = (f"  {label:<23} {r['wall']:7.1f} s ({r['wall'] / a.replicates:.2f} s per replicate; "
                    f"{per_1000:.1f} min per 1,000{'' if a.replicates >= 1000 else f', extrapolated from {a.replicates:,}'})")
            if parameters == "fixed":
                line += f"; {r['wall'] / pool_wall:.2f}x the posterior's"
            elif backend == "processes":
                pool_wall = r["wall"]
                line += (f"   target ≤ {TARGETS['ensemble_min']} min: {verdict(per_1000 <= TARGETS['ensemble_min'])} "
                         f"(last round {LAST_ROUND_MIN} min)")
            else:
                rel = r["wall"] / pool_wall
                line += f"; {rel:.2f}x the pool   target within 10 %: {verdict(rel <= TARGETS['dask_ratio'])}"
            print(line, flush=True)
            for k, m in enumerate(r["memory"]):
                print(f"    worker {k + 1}: resident {m['first']:.0f} MB early, {m['last']:.0f} MB at the end "
                      f"({m['last'] - m['first']:+.0f} MB), peak {m['peak']:.0f} MB")
    print(f"\nload average at the end {load()}")


if __name__ == "__main__":
    main()
