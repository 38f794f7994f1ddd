"""The browser app: ``python run.py ui`` or ``solara run sim/app/page.py``.

The sidebar holds the controls (Reset, play / pause, step, the play interval), the scenario
picker, the optimised mixes of an optimiser's output folder (``sim.app.mixes``) and the levers;
the main area the run's header, its scoreboard, the ensemble panel, the map with the
collaboration network, the district panel and the target charts. The sidebar's controls are in
``sim.app.sidebar``, the main area in ``sim.app.components`` (with ``sim.app.scoreboards`` and
``sim.app.map``), drawing on ``sim.app.levers``, ``sim.app.model``, ``sim.app.charts`` and
``sim.app.ensemble``. Levers edit a per-session configuration that Reset builds the next model
from; loading a scenario rebuilds the model at once, paused.

Every model the page built is released when it is replaced and when the session closes (Mesa
3.3.1 would otherwise keep it alive), and what the session held is handed back to the system. A
session whose tab vanished without closing (a crashed tab, a dropped connection) closes once it
has been idle for ``python run.py ui --idle-minutes`` (Solara's kernel cull timeout). An error in
a control or a view is shown in the page and the session goes on.
"""

import solara

from sim.app.components import Guarded
from sim.app.levers import default_config
from sim.app.mixes import MixPanel
from sim.app.model import AppModel, return_freed_memory, return_freed_memory_soon
from sim.app.sidebar import Controls, LeverPanel, ScenarioPanel

TITLE = "重庆区县科技创新政策模拟 Chongqing district innovation policy simulator"


@solara.component
def Page():
    config = solara.use_reactive(default_config())
    solara.use_memo(return_freed_memory, [])     # once per session: what closed sessions freed
    # and when this session ends: a tab closed, or one that vanished and was idle too long
    # (``python run.py ui --idle-minutes``), with no other session opening after it
    solara.use_effect(lambda: return_freed_memory_soon, [])
    first = solara.use_memo(lambda: AppModel(config.value), [])
    model = solara.use_reactive(first)
    playing = solara.use_reactive(False)

    def release_when_replaced():
        current = model.value
        return current.release   # run when the model is replaced, and when the session closes

    solara.use_effect(release_when_replaced, [model.value])
    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
        solara.lab.ThemeToggle()
    with solara.Sidebar():
        Controls(model, config, playing)
        ScenarioPanel(config, model, playing)
        MixPanel(config, model, playing)
        LeverPanel(config)
    Guarded(model.value, config.value)


page = Page
