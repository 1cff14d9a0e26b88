"""Thompson sampling for 0/1 outcomes (Beta-Bernoulli): which share of traffic each arm should get.

Each arm's success rate has a Beta(1 + successes, 1 + failures) posterior (uniform prior). Thompson
sampling sends a request to the arm whose posterior draw is highest, so each arm receives traffic in
proportion to the posterior probability that it is the best arm ("probability matching", Thompson
1933; Chapelle & Li 2011). A serving system that routes by a table of shares therefore gets
``allocation``: P(arm is best), computed exactly for two arms and by seeded Monte Carlo otherwise,
with a floor per arm so the control and every challenger keep producing the data that the lift,
guardrails and sample-ratio checks need (a bandit that starves an arm can never correct itself).

Two arms, exactly (Miller 2014, for an integer a_b; symmetric in the arms)::

    P(p_b > p_a) = sum_{i=0}^{a_b-1} B(a_a + i, b_a + b_b) / ((b_b + i) B(1 + i, b_b) B(a_a, b_a))

Example:
    >>> best = prob_best([10, 20], [90, 80])  # 10 % vs 20 % after 100 requests each
    >>> [round(p, 4) for p in best]
    [0.0248, 0.9752]
    >>> [round(s, 3) for s in allocation([10, 20], [90, 80], floor=0.05)]
    [0.072, 0.928]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, special, stats

# Monte Carlo draws per arm: the share of a 3-arm allocation is then within ~0.5 % of exact.
DEFAULT_DRAWS = 20_000
_CHUNK = 5_000  # draws per batch, to bound memory with many arms
DEFAULT_FLOOR = 0.05


def _posterior(successes: Sequence[float], failures: Sequence[float]) -> tuple[NDArray[np.float64], ...]:
    s = np.asarray(successes, dtype=float)
    f = np.asarray(failures, dtype=float)
    if s.shape != f.shape or s.ndim != 1 or s.size < 1:
        raise ValueError("successes and failures must be 1-D sequences of the same length")
    if (s < 0).any() or (f < 0).any():
        raise ValueError("counts must not be negative")
    return 1.0 + s, 1.0 + f


def prob_b_beats_a(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """P(p_b > p_a) for independent Beta(a_a, b_a) and Beta(a_b, b_b), exact.

    The closed-form sum needs one integer shape parameter; the sum runs over the smaller one, so
    its cost grows with the smaller success count. Otherwise numerical integration.

    Example:
        >>> round(prob_b_beats_a(1, 1, 1, 1), 6), round(prob_b_beats_a(2, 1, 1, 1), 6)
        (0.5, 0.333333)
    """
    if float(a_b).is_integer() and (not float(a_a).is_integer() or a_b <= a_a):
        i = np.arange(int(a_b), dtype=float)
        terms = (
            special.betaln(a_a + i, b_a + b_b)
            - np.log(b_b + i)
            - special.betaln(1 + i, b_b)
            - special.betaln(a_a, b_a)
        )
        return float(np.clip(np.exp(special.logsumexp(terms)), 0.0, 1.0))
    if float(a_a).is_integer():
        return 1.0 - prob_b_beats_a(a_b, b_b, a_a, b_a)  # ties have probability zero

    def density(x: float) -> float:
        return float(stats.beta.pdf(x, a_b, b_b) * stats.beta.cdf(x, a_a, b_a))

    value, _ = integrate.quad(density, 0.0, 1.0, limit=200)
    return float(np.clip(value, 0.0, 1.0))


def prob_best(
    successes: Sequence[float],
    failures: Sequence[float],
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> list[float]:
    """P(each arm has the highest success rate): exact for two arms, seeded Monte Carlo for more.

    Example:
        >>> [round(p, 1) for p in prob_best([5, 5, 5], [5, 5, 5], seed=1)]  # equal arms: a third each
        [0.3, 0.3, 0.3]
    """
    a, b = _posterior(successes, failures)
    if a.size == 1:
        return [1.0]
    if a.size == 2:
        p = prob_b_beats_a(a[0], b[0], a[1], b[1])
        return [1.0 - p, p]
    rng = np.random.default_rng(seed)
    wins = np.zeros(a.size)
    for start in range(0, draws, _CHUNK):
        m = min(_CHUNK, draws - start)
        sample = rng.beta(a, b, size=(m, a.size))
        wins += np.bincount(sample.argmax(axis=1), minlength=a.size)
    return [float(w) for w in wins / draws]


def allocation(
    successes: Sequence[float],
    failures: Sequence[float],
    *,
    floor: float = DEFAULT_FLOOR,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> list[float]:
    """Traffic shares for the next period: ``floor`` each, the rest by P(best) (Thompson sampling).

    Example:
        >>> allocation([0, 0], [0, 0], floor=0.1)  # nothing known yet: an even split
        [0.5, 0.5]
    """
    k = len(successes)
    if not 0 <= floor * k <= 1:
        raise ValueError(f"a floor of {floor} per arm does not fit {k} arms")
    best = prob_best(successes, failures, draws=draws, seed=seed)
    shares = [floor + (1 - k * floor) * p for p in best]
    total = math.fsum(shares)
    return [s / total for s in shares]


def thompson_choose(
    successes: Sequence[float], failures: Sequence[float], size: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Per-request Thompson sampling: the arm index chosen for each of ``size`` requests.

    What a serving system without a shares table would do; used by the simulations in the tests to
    check that routing by ``allocation`` behaves like the textbook algorithm.
    """
    a, b = _posterior(successes, failures)
    return np.asarray(rng.beta(a, b, size=(size, a.size)).argmax(axis=1), dtype=np.int64)
