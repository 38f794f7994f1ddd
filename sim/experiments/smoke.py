"""The last check before anything is written or simulated: build the scenario's model at a tiny
scale and run one quarter, so that what no rule foresees fails as one clear message."""

from __future__ import annotations

from ..model import InnovationModel
from ..params.parameters import Params
from ..util.errors import InputError
from ..util.messages import clip
from .scenarios import ScenarioError

SMOKE_SCALE = 0.001


def smoke_build(params: Params, seed: int = 0, data_dir=None) -> None:
    """Build the model at a tiny scale and run one quarter (a tenth of a second or so)."""
    model = InnovationModel(params.with_overrides(scale=min(params.scale, SMOKE_SCALE)), seed=seed, data_dir=data_dir)
    try:
        model.step()
    finally:
        model.release()


def smoke_test(scenario) -> None:
    """Build the scenario's model at a tiny scale and run one quarter (well under a second), so
    that what no check foresaw fails here, before anything is written or simulated."""
    try:
        smoke_build(scenario.params, scenario.seed)
    except InputError as e:
        raise ScenarioError(scenario.file, getattr(e, "key", None) or "(data)", clip(str(e), 600)) from None
    except Exception as e:  # noqa: BLE001 — the point of a smoke test: any failure becomes one clear message
        raise ScenarioError(scenario.file, "(model)", "the model cannot build or run its first quarter with this "
                            f"scenario ({type(e).__name__}: {clip(str(e), 200)}); no check caught it first, so "
                            "please report it with the scenario file") from None
