"""The sidebar's controls in the browser app (``sim/app/page.py``): Reset, play / pause, step and
the play interval; the scenario picker with the scale and the seed; and the policy levers, which
edit the configuration (``sim/app/levers.py``) that Reset builds the next model from.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path

import solara

from ..data import datasets
from ..experiments import scenarios
from ..params.fields import ALLOCATION_RULES
from .cli import SCENARIOS_ENV  # `run.py ui --scenarios DIR` sets the picker's folder
from .levers import LEVERS, RULE_NAMES, SCALES, SECTIONS, AppConfig, get_value, lever_keys, lever_label
from .model import AppModel
from .quiet import force_update, update_counter

logger = logging.getLogger(__name__)
PLAY_INTERVAL = 150        # ms between steps while playing


@solara.component
def Controls(model: solara.Reactive[AppModel], config: solara.Reactive[AppConfig], playing: solara.Reactive[bool]):
    """Reset, play / pause, step and the play interval. Mesa's SolaraViz controller is not used:
    its play task stays registered with Solara after the page closes, so every closed session's
    model stayed in memory, and its play state outlived a scenario load (Step stayed disabled
    after playing to the horizon); its parameter card was empty here."""
    update_counter.get()        # redrawn after each step: Step and play are disabled at the horizon
    interval = solara.use_reactive(PLAY_INTERVAL)
    error, set_error = solara.use_state("")
    current = model.value

    def step():
        try:
            current.step()
        except Exception as e:  # noqa: BLE001 — shown in the page; the session goes on
            logger.exception("step failed")
            playing.set(False)
            set_error(f"步进出错 The step failed: {type(e).__name__}: {e}")
        force_update()

    def reset():
        playing.set(False)
        try:
            new = AppModel(config.value)
        except Exception as e:  # noqa: BLE001
            logger.exception("reset failed")
            set_error(f"重置出错 Reset failed, the current run is kept: {type(e).__name__}: {e}")
            return
        set_error("")
        model.set(new)

    def play(cancel):
        while playing.value and current.running and not cancel.is_set():
            time.sleep(interval.value / 1000)
            if cancel.is_set() or not playing.value or model.value is not current:
                return
            step()
        if not current.running:
            playing.set(False)

    solara.use_thread(play, dependencies=[playing.value, current], intrusive_cancel=False)
    with solara.Card("控制 Controls"):
        with solara.Row(justify="space-between"):
            solara.Button(label="Reset", color="primary", on_click=reset)
            solara.Button(label="❚❚" if playing.value else "▶", color="primary",
                          on_click=lambda: playing.set(not playing.value), disabled=not current.running)
            solara.Button(label="Step", color="primary", on_click=step, disabled=playing.value or not current.running)
        solara.SliderInt("播放间隔 Play interval (ms)", value=interval, min=0, max=1000, step=50)
        solara.Text(f"第 {current.steps} 步 step {current.steps} · {current.date_label}", style="font-size: 12px")
        if error:
            solara.Error(error, classes=["controls-error"])


def scenario_files() -> dict[str, Path]:
    """The files the picker offers, by name."""
    return {p.stem: p for p in scenarios.list_scenarios(os.environ.get(SCENARIOS_ENV) or None)}


@solara.component
def ScenarioPanel(config: solara.Reactive[AppConfig], model: solara.Reactive[AppModel],
                  playing: solara.Reactive[bool] | None = None):
    error, set_error = solara.use_state("")
    failures, set_failures = solara.use_state(0)
    files = scenario_files()
    names = list(files)

    def load(name):
        # Whatever goes wrong with a file (unreadable, invalid, a model that cannot be built from
        # it) is shown here; the run on screen stays.
        try:
            new = AppConfig.from_scenario(files.get(name, name), scale=config.value.scale)
            built = AppModel(new)
        except Exception as e:  # noqa: BLE001
            if not isinstance(e, scenarios.ScenarioError):
                logger.exception("loading %s failed", name)
            set_error(f"无法载入 Cannot load {name}: {e}")
            set_failures(failures + 1)    # redraws the picker on the file still running
            return
        set_error("")
        if playing is not None:
            playing.set(False)     # a new run starts paused at its first quarter
        config.set(new)
        model.set(built)   # loading a scenario is an action: run it at once

    with solara.Card("情景 Scenario"):
        stem = Path(config.value.file).stem
        current = stem if stem in names else None
        solara.Select("情景文件 Scenario file (scenarios/)", value=current, values=names, on_value=load).key(
            f"scenario-picker-{failures}")
        solara.Text(config.value.description, style="font-size: 12px")
        solara.Select("规模 Scale", value=SCALES[config.value.scale] if config.value.scale in SCALES else None,
                      values=list(SCALES.values()),
                      on_value=lambda label: config.set(dataclasses.replace(
                          config.value, scale=next(s for s, lab in SCALES.items() if lab == label))))
        solara.InputInt("随机种子 Seed", value=config.value.seed,
                        on_value=lambda s: config.set(dataclasses.replace(config.value, seed=max(int(s), 0))))
        solara.Text("规模和种子在 Reset 后生效 Scale and seed apply at Reset.", style="font-size: 12px")
        if error:
            solara.Error(error, classes=["scenario-error"])


@solara.component
def LeverPanel(config: solara.Reactive[AppConfig]):
    error, set_error = solara.use_state("")
    open_section, set_open_section = solara.use_state(0)
    cfg = config.value
    district_names = {f"{d.adcode} {d.short_zh} {d.name_pinyin}": str(d.adcode)
                      for d in datasets.load_districts().itertuples(index=False)}

    def setter(key):
        def on_value(value):
            try:
                config.set(config.value.with_lever(key, value))
                set_error("")
            except Exception as e:  # noqa: BLE001 — a ParamError names the key; anything else is shown too
                set_error(str(e))
        return on_value

    def control(key):
        value = get_value(cfg.params, key)
        label = lever_label(key)
        if isinstance(value, bool):
            solara.Checkbox(label=label, value=value, on_value=setter(key))
        elif key == "guiding_fund.allocation":
            rule_of = {f"{RULE_NAMES.get(r, '')} {r}".strip(): r for r in ALLOCATION_RULES}
            solara.Select(label, value=next(k for k, r in rule_of.items() if r == value), values=list(rule_of),
                          on_value=lambda shown: setter(key)(rule_of[shown]))
        elif key == "platforms.zone_upgrades":
            by_code = {c: n for n, c in district_names.items()}
            solara.SelectMultiple(label, values=[by_code[c] for c in value if c in by_code], all_values=list(district_names),
                                  on_value=lambda names: setter(key)(tuple(district_names[n] for n in names)), dense=True)
        elif isinstance(value, int):
            lo, hi, step = LEVERS.get(key, (None, None, value - 5, value + 5, 1))[2:]
            solara.Text(f"{label}: {value}", style="font-size: 13px")
            solara.SliderInt("", value=value, min=min(lo, value), max=max(hi, value), step=step, on_value=setter(key))
        else:
            lo, hi, step = LEVERS.get(key, (None, None, 0.0, max(4 * value, 1.0), max(value, 1.0) / 20))[2:]
            solara.Text(f"{label}: {value:g}", style="font-size: 13px")
            solara.SliderFloat("", value=value, min=min(lo, value), max=max(hi, value), step=step, on_value=setter(key))

    keys = lever_keys(cfg.params)
    if cfg.params.guiding_fund.allocation != "mix":
        keys = [k for k in keys if ".mix." not in k]
    sections = list(dict.fromkeys(k.split(".")[0] for k in keys))
    with solara.Card("政策杠杆 Policy levers"):
        solara.Text("改动在 Reset 后生效 Changes apply at Reset.", style="font-size: 12px")
        if error:
            solara.Error(error)
        # Only the open group's controls exist: every element on the page is revisited after each
        # step, and the closed groups would be three quarters of them.
        with solara.v.ExpansionPanels(v_model=open_section, on_v_model=set_open_section, accordion=True,
                                      class_="lever-groups"):
            for i, section in enumerate(sections):
                with solara.v.ExpansionPanel():
                    solara.v.ExpansionPanelHeader(children=[SECTIONS.get(section, section)])
                    with solara.v.ExpansionPanelContent():
                        if i == open_section:
                            for key in (k for k in keys if k.split(".")[0] == section):
                                control(key)
