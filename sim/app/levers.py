"""The app's levers and the configuration they edit: which policy levers there are, how each is
labelled and bounded on its slider, and the scenario-plus-changes a Reset builds a model from."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

from ..experiments import scenarios
from ..experiments.targets import POLICY_2025, Target
from ..params.levers import SECTION_LABELS
from ..params.parameters import Params, levers

DEFAULT_SCALE = 0.1   # 1 simulated firm per 10: a step and its redraw stay well under 0.5 s
SCALES = {0.1: "0.1 快速 fast (1 simulated firm per 10 real ones)",
          1.0: "1.0 全量 full scale: every firm, slower (about 3x the time per step)"}
RULE_NAMES = {"equal": "均分", "gdp": "按GDP", "need": "按需要(研发强度低者多得)", "competitive": "竞争性(按评价)",
              "mix": "混合"}

SECTIONS = SECTION_LABELS
# key: (Chinese, English, slider min, slider max, step), from each lever's declaration. Ranges
# are what a planner plausibly tries; Params itself allows more, and a scenario value outside
# widens the slider.
LEVERS = {key: (lv.zh, lv.en, *(lv.control or (None, None, None))) for key, lv in levers().items()}


def lever_keys(params: Params | None = None) -> list[str]:
    """Every policy lever of the model, in declaration order."""
    return list(LEVERS)


def get_value(params: Params, key: str):
    obj = params
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def lever_label(key: str) -> str:
    zh, en = LEVERS[key][:2] if key in LEVERS else ("", key)
    return f"{zh} {en}".strip()


def lever_changes(before: Params, after: Params) -> list[tuple[str, object, object]]:
    """The levers ``after`` sets differently from ``before``: (key, before's value, after's)."""
    return [(k, get_value(before, k), get_value(after, k)) for k in lever_keys(after)
            if get_value(after, k) != get_value(before, k)]


def show_value(value) -> str:
    """A lever's value as a planner reads it: yes / no, a list, a number without trailing zeros."""
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "无 none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def change_text(key: str, old, new) -> str:
    """One changed lever in words: its label, what the scenario file sets and what replaces it."""
    return f"{lever_label(key)}: {show_value(old)} → {show_value(new)}"


@dataclass(frozen=True)
class AppConfig:
    """What a Reset builds: a scenario's parameters with the user's lever changes."""

    scenario: str
    description: str
    scenario_params: Params          # as the scenario file sets them: levers are compared to these
    params: Params
    seed: int = 42
    until: int = 2025
    targets: tuple[Target, ...] = POLICY_2025
    scale: float = DEFAULT_SCALE
    file: str = ""

    @classmethod
    def from_scenario(cls, ref, scale: float = DEFAULT_SCALE) -> "AppConfig":
        s = scenarios.load(ref)
        return cls(s.name, s.description, s.params, s.params, s.seed, s.until, s.targets, scale, s.file)

    @classmethod
    def from_mix(cls, ref, scale: float = DEFAULT_SCALE) -> "AppConfig":
        """A mix the optimiser wrote (a scenario file extending its input) as lever settings: the
        input scenario is the one loaded, the mix's levers are the changes from it."""
        mix = scenarios.load(ref)
        base = scenarios.load(mix.chain[1]) if len(mix.chain) > 1 else mix
        return cls(base.name, f"{base.description} — levers of the mix {mix.name}: {mix.description}", base.params,
                   mix.params, base.seed, base.until, base.targets, scale, base.file)

    def with_lever(self, key: str, value) -> "AppConfig":
        params = self.params.with_overrides(**{key.replace(".", "__"): value})
        return dataclasses.replace(self, params=params)

    def changed_levers(self) -> list[tuple[str, object]]:
        return [(k, get_value(self.params, k)) for k in lever_keys(self.params)
                if get_value(self.params, k) != get_value(self.scenario_params, k)]


@lru_cache(maxsize=1)
def default_config() -> AppConfig:
    return AppConfig.from_scenario("baseline")
