"""The money of the policy: the municipal guiding fund, the S&T cultivation fund-of-funds and the
knowledge-value credit pool (Mesa agents). Every fund keeps a ledger in which each yuan is
unspent, granted, invested or lent, and losses are booked, so conservation can be checked.

Units: 100 million yuan (亿元) in the ledgers, as in the published budgets.
"""

from __future__ import annotations

import mesa
import numpy as np

from ..util import draws
from ..util.draws import normal
from ..util.jit import kernel

MILLION_PER_100M = 100.0
# Lenders and funds screen on what they can see, with judgement the model does not: a log-normal
# factor of this spread on each firm's score.
SCREENING_NOISE = 0.5
# The knowledge-value credit rating: log(1 + patents) + this weight × R&D intensity + 1 if
# certified, so that an R&D intensity of 5 % counts as much as a certificate.
CREDIT_RD_WEIGHT = 20.0


def _top(score: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores (unordered)."""
    if n <= 0:
        return np.arange(0)
    if n >= len(score):
        return np.arange(len(score))
    return np.argpartition(-score, n - 1)[:n]


def _credit_scores_twin(rng, rows, log_patents, rd_rate, certified, rd_weight, noise, out):
    out[:] = (log_patents + rd_weight * rd_rate[rows] + certified[rows]) * rng.lognormal(0, noise, len(rows))


@kernel(_credit_scores_twin)
def _credit_scores(rng, rows, log_patents, rd_rate, certified, rd_weight, noise, out):
    """The credit rating of each candidate row times its screening noise: numpy's log-normal
    draws, one per row in order (exp of the scaled normal, as numpy forms it; numba's own
    lognormal gives the same numbers three times slower)."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    for j in range(len(rows)):
        i = rows[j]
        hi, lo, z = normal(hi, lo, inc_hi, inc_lo)
        out[j] = (log_patents[j] + rd_weight * rd_rate[i] + certified[i]) * np.exp(noise * z)
    rng[0], rng[1] = hi, lo


def _fund_scores_twin(rng, rows, knowledge, revenue, noise, out):
    out[:] = knowledge[rows] / np.maximum(revenue[rows], 1e-9) * rng.lognormal(0, noise, len(rows))


@kernel(_fund_scores_twin)
def _fund_scores(rng, rows, knowledge, revenue, noise, out):
    """Knowledge intensity of each candidate row times its screening noise."""
    hi, lo, inc_hi, inc_lo = rng[0], rng[1], rng[2], rng[3]
    for j in range(len(rows)):
        i = rows[j]
        r = revenue[i]
        hi, lo, z = normal(hi, lo, inc_hi, inc_lo)
        out[j] = knowledge[i] / (r if (r > 1e-9 or r != r) else 1e-9) * np.exp(noise * z)
    rng[0], rng[1] = hi, lo


def allocation_weights(rule: str, districts, mix, index_scores=None) -> np.ndarray:
    """Shares of the guiding fund per district under an allocation rule (they sum to 1).

    equal: the same for every district; gdp: proportional to GDP; need: proportional to the
    gap in R&D intensity (districts with little R&D get more); competitive: proportional to
    last year's evaluation index; mix: a weighted blend of the four.
    """
    n = len(districts)
    gdp = np.array([d.gdp for d in districts], float)
    intensity = np.array([d.rd_intensity for d in districts], float)
    rules = {
        "equal": np.full(n, 1.0 / n),
        "gdp": gdp / gdp.sum(),
    }
    need = 1.0 / np.maximum(intensity, 0.1)
    rules["need"] = need / need.sum()
    scores = np.asarray(index_scores if index_scores is not None else [d.index_score for d in districts], float)
    scores = np.maximum(scores, 1e-9)
    rules["competitive"] = scores / scores.sum()
    if rule == "mix":
        w = np.array([mix.equal, mix.gdp, mix.need, mix.competitive], float)
        w = w / w.sum() if w.sum() > 0 else np.array([1.0, 0, 0, 0])
        return w[0] * rules["equal"] + w[1] * rules["gdp"] + w[2] * rules["need"] + w[3] * rules["competitive"]
    return rules[rule]


class GuidingFund(mesa.Agent):
    """市级引导区县科技发展专项资金: receives the yearly budget and transfers it to districts."""

    def __init__(self, model):
        super().__init__(model)
        self.received = 0.0
        self.transferred = 0.0
        self.last_shares = None

    @property
    def annual_budget(self) -> float:
        return self.model.params.guiding_fund.annual_budget

    @property
    def balance(self) -> float:
        return self.received - self.transferred

    def allocate(self, districts, rule: str, mix, index_scores=None) -> np.ndarray:
        self.received += self.annual_budget
        shares = allocation_weights(rule, districts, mix, index_scores)
        amounts = self.annual_budget * shares
        for d, a in zip(districts, amounts):
            d.receive("guiding_fund", a)
        self.transferred += float(amounts.sum())
        self.last_shares = shares
        return amounts

    def conservation_error(self, districts) -> float:
        """What the fund transferred against what the districts booked from it (an independent
        sum), and a balance that can never be negative."""
        booked = sum(d.ledger["guiding_fund"] for d in districts)
        return abs(self.transferred - booked) + max(-self.balance, 0.0)


class CultivationFund(mesa.Agent):
    """科创培育基金 with district sub-funds: equity into young registered firms, exits by listing."""

    def __init__(self, model):
        super().__init__(model)
        self.called = self.cash = 0.0
        self.invested = self.realised_cost = self.written_off = self.distributed = 0.0

    # The fund's terms are read from the parameters when it acts.
    committed = property(lambda self: self.model.params.finance.fund_of_funds_size)
    call_rate = property(lambda self: self.model.params.finance.capital_call_per_year)
    ticket = property(lambda self: self.model.params.finance.ticket)             # million yuan
    max_age = property(lambda self: self.model.params.finance.max_age_years)
    exit_multiple = property(lambda self: self.model.params.finance.exit_multiple)

    @property
    def outstanding(self) -> float:
        return self.invested - self.realised_cost - self.written_off

    def call_capital(self):
        amount = min(self.committed * self.call_rate, self.committed - self.called)
        self.called += amount
        self.cash += amount

    def invest(self, pop, rng, dt: float) -> float:
        """Spend up to a quarter of the year's cash pace on tickets into promising young firms."""
        eligible = np.flatnonzero(pop.col("alive") & pop.col("registered") & (pop.col("age") < self.max_age)
                                  & (pop.col("equity") == 0) & ~pop.col("listed"))
        if len(eligible) == 0 or self.cash <= 0:
            return 0.0
        cost = self.ticket * pop.weight[eligible] / MILLION_PER_100M  # 亿 per row
        # Invest at the pace of capital calls, but at least one ticket (a row can stand for many
        # firms at small scales), never more than the cash in hand.
        budget = min(self.cash, max(self.committed * self.call_rate * dt, cost.max()))
        n = int(min(len(eligible), budget // max(cost.max(), 1e-12)))
        if n <= 0:
            return 0.0
        # Prefer knowledge-intensive firms (what the sub-funds screen for), with noise.
        score = np.empty(len(eligible))
        with draws.stream(rng) as s:
            _fund_scores(s, eligible, pop.col("knowledge"), pop.col("revenue"), SCREENING_NOISE, score)
        chosen = eligible[_top(score, n)]
        spent = float((self.ticket * pop.weight[chosen]).sum() / MILLION_PER_100M)
        pop.equity[chosen] = self.ticket
        self.cash -= spent
        self.invested += spent
        return spent

    def settle(self, pop, listed_now: np.ndarray, exited_now: np.ndarray):
        """Book exits: a listing returns ``exit_multiple`` times cost, an exit writes the stake off."""
        for rows, listed in ((listed_now, True), (exited_now, False)):
            rows = rows[pop.equity[rows] > 0]
            cost = float((pop.equity[rows] * pop.weight[rows]).sum() / MILLION_PER_100M)
            if listed:
                self.realised_cost += cost
                self.distributed += cost * self.exit_multiple
            else:
                self.written_off += cost
            pop.equity[rows] = 0.0

    def conservation_error(self, pop) -> float:
        """Called capital = cash + stakes held (read from the firms) + realised + written off."""
        held = float((pop.col("equity") * pop.col("weight")).sum() / MILLION_PER_100M)
        return abs(self.called - (self.cash + held + self.realised_cost + self.written_off)) + abs(held - self.outstanding)


class CreditPool(mesa.Agent):
    """知识价值信用贷款: banks lend to registered firms scored on knowledge value; a government
    risk-compensation pool (city and districts 4:6) covers a share of defaulted principal."""

    def __init__(self, model):
        super().__init__(model)
        self.pool_contributed = self.pool_balance = model.params.finance.risk_pool_initial
        self.compensation_paid = 0.0
        self.lent = self.repaid = self.defaulted = self.bank_losses = 0.0

    annual_lending = property(lambda self: self.model.params.finance.credit_annual_lending)
    loan_size = property(lambda self: self.model.params.finance.loan_size)         # million yuan
    term = property(lambda self: self.model.params.finance.loan_term_quarters)
    pool_topup = property(lambda self: self.model.params.finance.risk_pool_topup)
    compensation_share = property(lambda self: self.model.params.finance.compensation_share)
    city_share = property(lambda self: self.model.params.finance.city_share_of_pool)

    @property
    def outstanding(self) -> float:
        return self.lent - self.repaid - self.defaulted

    def top_up(self):
        self.pool_contributed += self.pool_topup
        self.pool_balance += self.pool_topup

    def lend(self, pop, rng, step: int, dt: float) -> float:
        budget = self.annual_lending * dt
        if budget <= 0:
            return 0.0
        eligible = np.flatnonzero(pop.col("alive") & pop.col("registered") & (pop.col("loan") == 0))
        if len(eligible) == 0:
            return 0.0
        cost = self.loan_size * pop.weight[eligible] / MILLION_PER_100M
        n = int(min(len(eligible), budget / max(cost.mean(), 1e-12)))
        # Knowledge-value score: IP, R&D intensity and certification, as the credit rating does.
        score = np.empty(len(eligible))
        with draws.stream(rng) as s:
            _credit_scores(s, eligible, np.log1p(pop.patents[eligible]), pop.col("rd_rate"), pop.col("certified"),
                           CREDIT_RD_WEIGHT, SCREENING_NOISE, score)
        chosen = eligible[_top(score, n)]
        pop.loan[chosen] = self.loan_size
        pop.loan_due[chosen] = step + self.term
        amount = float((self.loan_size * pop.weight[chosen]).sum() / MILLION_PER_100M)
        self.lent += amount
        return amount

    def settle(self, pop, step: int, exited_now: np.ndarray) -> float:
        """Loans of exited firms default; loans falling due are repaid. Returns the defaults."""
        defaulted_rows = exited_now[pop.loan[exited_now] > 0]
        loss = float((pop.loan[defaulted_rows] * pop.weight[defaulted_rows]).sum() / MILLION_PER_100M)
        pop.loan[defaulted_rows] = 0.0
        due = np.flatnonzero(pop.col("alive") & (pop.col("loan") > 0) & (pop.col("loan_due") <= step))
        self.repaid += float((pop.loan[due] * pop.weight[due]).sum() / MILLION_PER_100M)
        pop.loan[due] = 0.0
        self.defaulted += loss
        compensation = min(self.compensation_share * loss, self.pool_balance)  # the pool cannot go negative
        self.pool_balance -= compensation
        self.compensation_paid += compensation
        self.bank_losses += loss - compensation
        return loss

    def conservation_error(self, pop) -> float:
        """Pool, loan book (outstanding read from the firms) and losses each balance."""
        held = float((pop.col("loan") * pop.col("weight")).sum() / MILLION_PER_100M)
        pool = abs(self.pool_contributed - (self.pool_balance + self.compensation_paid))
        loans = abs(self.lent - (held + self.repaid + self.defaulted))
        losses = abs(self.defaulted - (self.compensation_paid + self.bank_losses))
        return pool + loans + losses
