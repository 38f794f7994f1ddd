"""S&T finance (seed §(十七)–(十九)): knowledge-value credit with a risk-compensation pool, and the S&T
cultivation fund-of-funds with district sub-funds.

Levers: ``finance.*``. Each Q1 the fund calls capital and the pool is topped up; each quarter
banks lend to the registered firms with the best knowledge-value score and the fund buys
stakes in young registered firms. A loan or a stake lifts the firm's growth, pushes its R&D
toward certification, lowers its exit hazard and (a stake) raises its odds of listing; exits
default on loans (the pool compensates a share) and write stakes off, listings return them.
"""

from __future__ import annotations

import numpy as np

from ..core.funds import CreditPool, CultivationFund
from ..params.constants import DT
from ._base import Programme

NO_ROWS = np.zeros(0, np.int64)


class Finance(Programme):
    name = "finance"
    sections = ("finance",)

    def __init__(self, model):
        super().__init__(model)
        self.fund = CultivationFund(model)
        self.credit = CreditPool(model)

    @staticmethod
    def financed(firms) -> np.ndarray:
        return firms.col("has_loan") | firms.col("has_equity")

    def budget(self):
        self.fund.call_capital()
        self.credit.top_up()

    def after_rd(self):
        m = self.model
        rng = m.stream("finance")
        m.events["loans_issued"] = self.credit.lend(m.firms, rng, m.steps, DT)
        m.events["equity_invested"] = self.fund.invest(m.firms, rng, DT)

    def growth(self, growth, firms):
        return growth + self.model.params.behaviour.growth_finance * self.financed(firms)

    def rd_push(self, push, firms):
        return push | self.financed(firms)

    def listing_eligibility(self, eligible, firms):
        return eligible | firms.col("has_equity")

    def listing_rate(self, rate, firms):
        return rate * (1 + firms.col("has_equity"))

    def after_listing(self, rows):
        self.fund.settle(self.model.firms, rows, NO_ROWS)

    def exit_hazard(self, rate, firms):
        return rate * np.where(self.financed(firms), self.model.params.finance.financed_exit_ratio, 1.0)

    def after_exit(self, rows):
        m = self.model
        m.events["loan_defaults"] = self.credit.settle(m.firms, m.steps, rows)
        self.fund.settle(m.firms, NO_ROWS, rows)
