"""The yardstick: what a user would write without vectorising, a conventional Mesa model with
one Python agent per firm and simpler dynamics than the project's.

Each quarter every firm, in random order (``shuffle_do``): sets its R&D from its intensity and
a price factor, absorbs knowledge from the mean knowledge intensity of its contacts (a Python
loop over its neighbour list), grows with noise, registers with a Bass-type hazard driven by
the registered share of its contacts, and may exit; a DataCollector records two city totals. Links are drawn once (about as many per
firm as the project's graph holds), so the peer does less work per firm than the model:
no programmes, no ladder beyond registration, no link formation or decay.

    python benchmarks/peer_mesa.py [--firms 127000] [--steps 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import mesa

DT = 0.25


class Firm(mesa.Agent):
    def __init__(self, model, district: int):
        super().__init__(model)
        r = model.random
        self.district = district
        self.revenue = r.lognormvariate(2.0, 1.0)
        self.rd_rate = min(0.4, r.lognormvariate(math.log(0.03), 0.6))
        self.knowledge = self.rd_rate * self.revenue / 0.25
        self.registered = r.random() < 0.4
        self.contacts: list[Firm] = []

    def step(self):
        m, r = self.model, self.model.random
        rd = self.rd_rate * self.revenue * m.price_factor
        if self.contacts:
            k_own = self.knowledge / self.revenue
            k_nb = sum(c.knowledge / c.revenue for c in self.contacts) / len(self.contacts)
            gain = 0.2 * min(self.rd_rate / 0.03, 3.0) * max(k_nb - k_own, 0.0) * self.revenue * DT
            reg_share = sum(c.registered for c in self.contacts) / len(self.contacts)
        else:
            gain, reg_share = 0.0, m.registered_share
        before = self.knowledge
        self.knowledge = before * (1 - 0.15 * DT) + rd * DT + gain
        growth = 0.03 + 0.2 * max(-1.0, min(1.0, (self.knowledge - before) / max(before, 1e-9) / DT))
        self.revenue *= math.exp((growth - 0.5 * 0.3**2) * DT + 0.3 * math.sqrt(DT) * r.gauss(0.0, 1.0))
        if not self.registered and r.random() < 1 - math.exp(-(0.01 + 0.3 * reg_share) * DT):
            self.registered = True
        if r.random() < 1 - math.exp(-0.05 * DT):
            m.exits.append(self)


class PeerModel(mesa.Model):
    def __init__(self, firms: int = 127_000, districts: int = 38, links_per_firm: float = 1.8, seed: int = 1):
        super().__init__(seed=seed)
        self.price_factor = 1.0
        self.exits: list[Firm] = []
        pool = [Firm(self, self.random.randrange(districts)) for _ in range(firms)]
        for _ in range(int(links_per_firm * firms)):
            a, b = self.random.choice(pool), self.random.choice(pool)
            if a is not b:
                a.contacts.append(b)
                b.contacts.append(a)
        self.registered_share = sum(f.registered for f in pool) / len(pool)
        self.datacollector = mesa.DataCollector(model_reporters={
            "registered": lambda m: sum(f.registered for f in m.agents),
            "revenue": lambda m: sum(f.revenue for f in m.agents)})

    def step(self):
        self.exits = []
        self.agents.shuffle_do("step")
        for f in self.exits:            # exits leave, and as many entrants replace them
            for c in f.contacts:
                c.contacts.remove(f)
            f.remove()
            Firm(self, f.district)
        firms = self.agents
        self.registered_share = sum(f.registered for f in firms) / len(firms)
        self.datacollector.collect(self)


def time_peer(firms: int, steps: int = 3, seed: int = 1) -> tuple[float, float]:
    """(median seconds per step, seconds to build) of the peer with ``firms`` agents."""
    t = time.perf_counter()
    model = PeerModel(firms=firms, seed=seed)
    build = time.perf_counter() - t
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    model.remove_all_agents()
    mesa.Agent._ids.pop(model, None)
    return statistics.median(times), build


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, default=127_000)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    step, build = time_peer(a.firms, a.steps)
    print(f"per-agent Mesa peer, {a.firms:,} firms: build {build:.1f} s, step median {step:.2f} s "
          f"({a.firms / step / 1e6:.2f} M firm-steps/s)")
