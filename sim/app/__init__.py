"""The browser app (Solara): ``page`` is the page (``solara run sim/app/page.py``, or
``python run.py ui`` through ``cli``); ``model`` steps one model live and ``levers`` holds the
configuration the lever controls edit; ``sidebar`` draws the controls, ``scoreboards`` the
targets' scoreboards, ``components`` the dashboard, target charts and district detail,
``charts`` the SVG charts and ``map`` the district map; ``ensemble`` runs the app's ensembles in
a process pool; ``mixes`` shows the optimiser's chosen mixes.

The top of the house with the command line: imports any wing below, and nothing imports it.
"""
