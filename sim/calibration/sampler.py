"""A pyabc sampler whose results depend on the seed only, not on where the simulations run.

Each generation draws one seed per wanted particle from ``(root seed, generation)``; each seed
drives a task that samples until one particle is accepted (numpy's and Python's global
generators are seeded with it, so the prior, the perturbation kernel and the model's own seed
follow from it). Tasks are mapped with any ``map``-like function (the built-in one, a process
pool's, a Dask client's) and collected in order. (Imported only when a calibration runs: pyabc
takes seconds to import.)
"""

from __future__ import annotations

import functools
import random
import sys

import numpy as np
from pyabc.sampler.mapping import MappingSampler


class SeededMappingSampler(MappingSampler):

    def __init__(self, map_=map, seed: int = 0, progress: bool = False):
        super().__init__(map_=map_, mapper_pickles=False)
        self.root_seed, self.progress = seed, progress

    def map_function(self, simulate_one, task_seed):
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(task_seed)
        random.seed(task_seed)
        sample, n = self._create_empty_sample(), 0
        while True:
            particle = simulate_one()
            n += 1
            sample.append(particle)
            if particle.accepted:
                return sample, n

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
        from tqdm import tqdm

        # t = -1 is the prior sample pyabc draws to initialise the adaptive distance
        seeds = [int(s) for s in np.random.SeedSequence(self.root_seed, spawn_key=(int(t) + 1,)).generate_state(n, np.uint32)]
        fn = functools.partial(self.map_function, self.pickle(simulate_one))
        sample, evals = self._create_empty_sample(), 0
        with tqdm(total=n, desc="prior sample (distance scales)" if t < 0 else f"generation {t + 1}", unit="particle", disable=not self.progress,
                  file=sys.stderr) as bar:
            for part, k in self.map_(fn, seeds):
                sample += part
                evals += k
                bar.update()
                bar.set_postfix(simulations=evals, refresh=False)
        self.nr_evaluations_ = evals
        return sample
