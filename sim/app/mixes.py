"""The app's card of optimised mixes: the mixes an optimiser output folder holds (its
``mixes/*.toml``), one of which loads as the lever settings of its input scenario."""

from __future__ import annotations

import logging

import solara

from ..experiments import scenarios
from ..optimise import mixes
from .levers import AppConfig
from .model import AppModel

logger = logging.getLogger(__name__)
DEFAULT_FOLDER = "results"


@solara.component
def MixPanel(config: solara.Reactive[AppConfig], model: solara.Reactive[AppModel],
             playing: solara.Reactive[bool] | None = None):
    folder, set_folder = solara.use_state(DEFAULT_FOLDER)
    error, set_error = solara.use_state("")
    found = solara.use_memo(lambda: [m for m in mixes.list_mixes(folder) if m["ok"]] if folder else [], [folder])
    by_name = {m["name"]: m for m in found}

    def load(name):
        try:
            new = AppConfig.from_mix(by_name[name]["file"], scale=config.value.scale)
            built = AppModel(new)
        except Exception as e:  # noqa: BLE001 — shown in the card; the run on screen stays
            if not isinstance(e, scenarios.ScenarioError):
                logger.exception("loading the mix %s failed", name)
            set_error(f"无法载入 Cannot load {name}: {e}")
            return
        set_error("")
        if playing is not None:
            playing.set(False)
        config.set(new)
        model.set(built)

    with solara.Card("优化组合 Optimised mixes"):
        solara.InputText("优化结果文件夹 Optimiser output folder", value=folder, on_value=set_folder,
                        continuous_update=True)
        if found:
            solara.Select("组合 Mix (loads as the levers)", value=None, values=list(by_name), on_value=load)
            solara.Text(f"{len(found)} mix(es) in {folder}", style="font-size: 12px")
        else:
            solara.Text("No mixes here: give the --out folder of `python run.py optimise`.", style="font-size: 12px")
        if error:
            solara.Error(error, classes=["mix-error"])
