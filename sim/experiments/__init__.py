"""Experiments on the model: what a planner runs and compares.

- ``scenarios`` (scenario files, ``extends``, validation; ``scenario_files`` reads them) and ``smoke`` (the one-quarter build
  before a run); ``targets`` (target sets and how a target is met) and ``laggards`` (T3's laggards
  over an ensemble, counted run by run as the scoreboard counts T3); ``district_bands`` (each
  district's band across the replicates and whether its start is its own figure); ``posterior`` (the
  calibration's parameter draws, replicate k at draw k);
- ``ensemble`` (replicates of a scenario, paired comparisons), ``executors`` (where replicates
  run: this process, a process pool or Dask), ``results`` and ``outfolder`` (resumable,
  checksummed output folders);
- ``discovery`` with ``discovery_boxes`` and ``discovery_text`` (PRIM over an ensemble's posterior
  draws: the conditions under which a target is mostly missed, in plain words) and
  ``discover_cli`` (``python run.py discover``);
- ``sensitivity`` (global sensitivity of targets to levers); ``calibration_file`` (the calibration
  file as everything reads it, its tables checked against their schema).

Imports the model and everything below it; never the calibration, optimiser, report or app.
"""
