"""Parameter uncertainty: the posterior draws of a calibration file, and which draw each replicate runs.

A calibration file holds, besides its fitted point (``[parameters]``), an equally weighted
sample of the posterior of the calibrated behaviour parameters (``[posterior.behaviour]``: one
list per parameter, draw ``i`` is the ``i``-th element of every list). An ensemble spreads its
replicates over that sample: replicate ``k`` runs draw ``k mod n`` (``n`` draws) on top of the
scenario's own parameters, with the seed ``replicate_seed(root, k)``. Every scenario that reads
the same file therefore runs the same (draw, seed) pair as replicate ``k``: differences between
scenarios stay paired in the parameters as in the randomness. With more replicates than draws
the draws repeat in order (replicate ``n`` reruns draw 0 with a new seed); the file's sample is
already a weighted resample, so cycling it keeps the weights.

A file updated on the published years after its fit (``python run.py calibrate --update``,
``sim/calibration/update.py``) also holds ``[conditioned]``: particles, each a posterior draw and
the seed of its path through the published years, resampled by how well that path agrees with
the published figures. Replicate ``k`` then runs particle ``k mod n``: its draw, and its path
seed for the published years (``replicate_seeds``); after them the replicate's own seed takes
over, so every scenario replays the same conditioned years and each replicate's future differs.

Only behaviour parameters can be drawn, and never one that the scenario sets itself: a
scenario's own value is a choice (a lever, or a sensitivity case), not an estimate. Running at
the fitted point instead (``fixed_parameters = true`` in a scenario, ``--fixed-parameters`` on
the command line) gives bands of replicate noise only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from ..model import replicate_seed
from ..params.parameters import BehaviourParams, ParamError, Params, check_value
from ..util.errors import InputError

SECTION = "behaviour"
MAX_DRAWS = 100_000

FIXED, POSTERIOR = "fixed", "posterior"


class PosteriorError(InputError):
    """A [posterior] table that cannot be used; ``key`` is its dotted key in the file."""

    def __init__(self, key: str, message: str):
        self.key, self.detail = key, message
        super().__init__(f"{key}: {message}")


def read_draws(table, file=None) -> tuple[dict, ...]:
    """The draws of a calibration file's ``[posterior]`` table (None or absent: no draws), each a
    dict of dotted keys. Keys, lengths and every value's range are checked here; a table that is
    there but holds no draws is an error, not a silent run without them."""
    if table is None:
        return ()
    if not isinstance(table, dict) or set(table) - {SECTION}:
        extra = sorted(set(table) - {SECTION}) if isinstance(table, dict) else []
        raise PosteriorError(f"posterior.{extra[0]}" if extra else "posterior",
                             f"only [posterior.{SECTION}] may hold draws (calibrated behaviour parameters)")
    section = table.get(SECTION, {})
    if not isinstance(section, dict):
        raise PosteriorError(f"posterior.{SECTION}", "expected a table of lists, one per parameter")
    if not section:
        # A [posterior] that holds nothing would run every replicate at the fitted point while
        # the scenario says its bands include the parameters' uncertainty.
        raise PosteriorError(f"posterior.{SECTION}", "holds no draws; expected one list of draws per calibrated "
                             "behaviour parameter (or no [posterior] table, to run the fitted point)")
    known = {f.name: f for f in dataclasses.fields(BehaviourParams)}
    lists, lengths = {}, set()
    for name, values in section.items():
        key = f"posterior.{SECTION}.{name}"
        f = known.get(name)
        if f is None or f.type not in (float, "float"):
            allowed = ", ".join(n for n, g in known.items() if g.type in (float, "float"))
            raise PosteriorError(key, f"not a numeric behaviour parameter; allowed: {allowed}")
        if not isinstance(values, list) or not values or len(values) > MAX_DRAWS:
            raise PosteriorError(key, f"expected a list of 1 to {MAX_DRAWS} numbers (one per draw)")
        try:
            lists[f"{SECTION}.{name}"] = [check_value(key, v, float, f, file) for v in values]
        except ParamError as e:
            raise PosteriorError(key, e.detail) from None
        lengths.add(len(values))
    if len(lengths) > 1:
        raise PosteriorError(f"posterior.{SECTION}", f"every list holds one value per draw; lengths differ: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    return tuple({k: v[i] for k, v in lists.items()} for i in range(n))


def read_conditioned(table, draws: tuple, file=None) -> tuple[tuple, tuple]:
    """The conditioned particles of a ``[conditioned]`` table: (their draws, their path seeds);
    ((), ()) without the table. Each particle's draw must be one of the file's draws."""
    if table is None:
        return (), ()
    where = f"{file}: " if file else ""
    idx, seeds = table.get("draw"), table.get("path_seed")
    if not isinstance(idx, list) or not isinstance(seeds, list) or len(idx) != len(seeds) or not idx:
        raise PosteriorError("conditioned.draw", f"{where}expected lists draw and path_seed of one value per particle")
    bad = [i for i in idx if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(draws)]
    if bad:
        raise PosteriorError("conditioned.draw", f"{where}{bad[0]!r} is not a draw of [posterior] (0 to {len(draws) - 1})")
    return tuple(draws[i] for i in idx), tuple(int(s) for s in seeds)


def replicate_seeds(root: int, replicate: int, path_seeds=()) -> tuple[int, int | None]:
    """(seed, future seed) of one replicate: with conditioned particles, the particle's path seed
    for the published years and the replicate's own seed after them; else the replicate's seed
    throughout."""
    if not path_seeds:
        return replicate_seed(root, replicate), None
    return path_seeds[replicate % len(path_seeds)], replicate_seed(root, replicate)


def draw_index(replicate: int, n_draws: int) -> int:
    """The draw replicate ``replicate`` runs (the draws repeat in order when there are fewer)."""
    return replicate % n_draws


def protected_keys(overrides: dict, prefix: str = "") -> set[str]:
    """Dotted keys a scenario sets itself (never replaced by a draw)."""
    out = set()
    for k, v in (overrides or {}).items():
        if isinstance(v, dict):
            out |= protected_keys(v, f"{prefix}{k}.")
        else:
            out.add(prefix + k)
    return out


def apply_draw(params: Params, draw: dict, protected=frozenset()) -> Params:
    """``params`` with the draw's values, except the keys in ``protected``."""
    section = {k.split(".", 1)[1]: v for k, v in draw.items() if k not in protected}
    if not section:
        return params
    return params.with_overrides({SECTION: section})


def replicate_params(params: Params, draws, replicate: int, protected=frozenset()) -> Params:
    """The parameters of one replicate: ``params`` itself without draws, else its draw applied."""
    if not draws:
        return params
    return apply_draw(params, draws[draw_index(replicate, len(draws))], protected)


def distinct(draws, replicates: int | None = None) -> int:
    """How many different draws ``draws`` holds, or the first ``replicates`` replicates run."""
    n = len(draws) if replicates is None else min(replicates, len(draws))
    return len({tuple(sorted(d.items())) for d in draws[:n]})


def digest(draws) -> str:
    """A short hash of the draws (part of an ensemble's fingerprint: other draws, other results)."""
    blob = json.dumps([sorted(d.items()) for d in draws])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def describe(mode: str, n_draws: int) -> str:
    """One phrase for tables and reports: what the bands include."""
    if mode == POSTERIOR:
        return f"posterior ({n_draws} draws of the calibrated parameters)"
    return "fixed (calibrated point estimate)" if n_draws else "fixed (no posterior)"
