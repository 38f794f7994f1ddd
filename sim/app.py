"""The browser app: ``python run.py ui`` or ``solara run sim/app.py``.

Mesa's SolaraViz gives the play / step / reset controls and the play interval; the levers, the
scenario picker, the map with the collaboration network, the target charts, the scoreboard and
the district panel come from ``sim.app_components`` (which draws on ``sim.app_levers``,
``sim.app_model``, ``sim.app_map`` and ``sim.app_charts``). Levers edit a per-session configuration
that SolaraViz's Reset hands to ``AppModel``, so a change applies at the next Reset; loading a
scenario rebuilds the model at once.
"""

import solara
from mesa.visualization import SolaraViz

from sim.app_components import AppModel, Dashboard, LeverPanel, ScenarioPanel, default_config

TITLE = "重庆区县科技创新政策模拟 Chongqing district innovation policy simulator"


@solara.component
def SidebarPanels(config, model):
    # Solara orders sidebar parts by how deeply they are nested: two levels below the page puts
    # the scenario and the levers under SolaraViz's play / step / reset, not above them.
    _SidebarContent(config, model)


@solara.component
def _SidebarContent(config, model):
    with solara.Sidebar():
        ScenarioPanel(config, model)
        LeverPanel(config)


@solara.component
def Page():
    config = solara.use_reactive(default_config())
    first = solara.use_memo(lambda: AppModel(config.value), [])
    model = solara.use_reactive(first)

    def release_when_replaced():
        current = model.value
        return current.release   # Mesa 3.3.1 would otherwise keep every discarded model alive

    solara.use_effect(release_when_replaced, [model.value])
    SolaraViz(model, components=[], model_params={"config": config}, name=TITLE, play_interval=150)
    SidebarPanels(config, model)
    Dashboard(model.value, config.value)


page = Page
