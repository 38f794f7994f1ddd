"""Experiments on the model: what a planner runs and compares.

- ``scenarios`` (scenario files, ``extends``, validation) and ``smoke`` (the one-quarter build
  before a run); ``targets`` (target sets and how a target is met); ``posterior`` (the
  calibration's parameter draws, replicate k at draw k);
- ``ensemble`` (replicates of a scenario, paired comparisons), ``executors`` (where replicates
  run: this process, a process pool or Dask), ``results`` and ``outfolder`` (resumable,
  checksummed output folders);
- ``sensitivity`` (global sensitivity of targets to levers); ``calibration_file`` (the calibration
  file as everything reads it, its tables checked against their schema).

Imports the model and everything below it; never the calibration, optimiser, report or app.
"""
