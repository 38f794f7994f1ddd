"""What a run's reader sees: ``html`` writes report.html (a scenario's or a comparison's),
``figures`` and the maps draw its PNG files, ``text`` writes its sentences in plain words,
``uncertainty`` says how sure its numbers are as the run was made (posterior draws or the fitted
point, and how many runs; ``uncertainty_sentence`` is the sentence to reuse), ``numbers`` prints
every figure as what it is (counts whole, units, percentage points), ``events`` finds the steps
the model puts in an indicator on purpose (zones upgraded) so they are explained where they show,
``misses`` says under which conditions a target is mostly missed (scenario discovery), and ``fonts`` finds a CJK font for the districts' names.

Imports the experiments' results and below; never the app or the optimiser.
"""
