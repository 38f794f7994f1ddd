"""The model core: what the city is made of and how it moves, below the policy programmes.

- the firms: ``firms`` (the population as arrays), ``start`` (the start population),
  ``resolution`` (how many real firms a row stands for, and the bound on a run's rows),
  ``firm_processes`` (R&D, learning, growth, the ladder, exit, entry, links), their compiled
  loops ``firm_kernels``, ``ladder_kernels`` and ``link_passes``;
- the collaboration graph (``network``), districts and their pots (``districts``), funds
  (``funds``), universities (``universities``);
- the hindcast's policy environment (``hindcast``), the reporters (``metrics``), and the checks
  that need both parameters and data (``data_checks``).

Imports ``sim.params``, ``sim.data`` and ``sim.util``; never a programme (programmes act on the
core through the model's hooks).
"""
