"""Where replicates run: one executor factory for ensembles, the calibration, the optimiser and
the app (in this process, a local process pool, or Dask distributed), and how many workers.

Every backend gives the same results for the same seed: each task seeds itself from its
replicate indices, never from where or when it runs.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os

from ..util.errors import OptionError

BACKENDS = ("serial", "processes", "dask")
SCHEDULER_TIMEOUT = "10s"      # how long to try reaching a Dask scheduler given by address
# More worker processes than this only add memory and start-up time: each holds one replicate.
WORKERS_PER_CPU = 4
MAX_WORKERS = 256


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def max_workers() -> int:
    return min(MAX_WORKERS, WORKERS_PER_CPU * default_workers())


@contextlib.contextmanager
def scheduler_named(scheduler: str | None):
    """While a Dask scheduler is in use, an OSError that names no file is the scheduler not
    answering: a command-line error about --scheduler."""
    try:
        yield
    except OSError as e:
        if scheduler and e.filename is None:
            raise OptionError("--scheduler", f"cannot use the Dask scheduler {scheduler}: {e}") from None
        raise


class SerialExecutor(cf.Executor):
    """Runs each task at submission, in this process (the reference backend)."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 — handed to the caller through the future
            if isinstance(e, KeyboardInterrupt):
                raise
            future.set_exception(e)
        return future


@contextlib.contextmanager
def executor(backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
             start_method: str | None = None, preload: tuple[str, ...] = ()):
    """A ``concurrent.futures.Executor`` for the backend; closed (and a local cluster stopped) on
    exit. ``start_method`` and ``preload`` set how a process pool starts its workers (the app's
    server uses forkserver with the ensemble module preloaded)."""
    if scheduler and backend != "dask":
        backend = "dask"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    workers = workers or default_workers()
    if backend == "serial":
        yield SerialExecutor()
    elif backend == "processes":
        # fork (where there is one) starts workers with the model already imported and, unlike
        # spawn, does not re-run the caller's script, so plain scripts without a __main__ guard work.
        method = start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        ctx = multiprocessing.get_context(method)
        if preload:
            ctx.set_forkserver_preload(list(preload))
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            yield pool
    else:
        from distributed import Client, LocalCluster
        if scheduler:
            with Client(scheduler, timeout=SCHEDULER_TIMEOUT) as client:
                yield client.get_executor(pure=False)
        else:
            import dask

            # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=64 KiB in its workers, which makes glibc hand
            # every freed firm array back to the kernel: the model then runs about 1.5x slower.
            environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                       if k != "MALLOC_TRIM_THRESHOLD_"}
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
                    LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                 silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
                yield client.get_executor(pure=False)
