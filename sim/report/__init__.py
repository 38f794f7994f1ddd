"""What a run's reader sees: ``html`` writes report.html (a scenario's or a comparison's),
``figures`` and the maps draw its PNG files, ``text`` writes its sentences in plain words, and
``fonts`` finds a CJK font for the districts' names.

Imports the experiments' results and below; never the app or the optimiser.
"""
