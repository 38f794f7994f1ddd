"""The search for the cheapest lever mix that meets the targets with a stated probability.

- ``problem``: the search space and public cost derived from the lever declarations, the
  objectives and the set-up a study is stored under;
- ``study``: the stored study (opened, resumed or refused) and each trial's seeded sampler;
  ``search``: the trials and the front; ``mixes``: named lever mixes as scenario files and their
  checks;
- ``cheapest_mix``: the whole job (search, check the best mixes on fresh replicates, write);
- ``report``: its report.html; ``cli``: ``python run.py optimise``.

Imports experiments, the model and below, and the report's page style; never the app.
"""
