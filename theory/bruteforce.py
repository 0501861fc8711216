"""Slow, obviously correct twins of the closed forms.

- :func:`worst_case_margin`: the exact minimum over all joints with given marginals
  of p(x*) - max_{z != x*} p(z), by linear programming over the joint table
  (scipy.optimize.linprog, HiGHS). Twin of :func:`theory.certificates.tight_certificate`,
  and the only method when sum r > 1.
- :func:`frechet_bounds_lp`: the Fréchet bounds as two LPs over {0,1}^n;
  :func:`mode_probability_bounds_lp` the range of p(x*) over couplings of any marginals.
- :func:`prefix_margins_reference`: L_n, G_n, G*_n, F_n, B_n in exact rationals.
- :func:`commit_count_reference`: each commit rule as a per-row Python loop written
  straight from the rule conditions (docs/theory.md, section 2; the baseline of the
  rule benchmark and the twin of :func:`theory.rules.commit`).

scipy.optimize is imported inside the LP functions, so importing theory stays cheap.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from theory._xp import to_numpy
from theory.joint import ExplicitJoint, check_marginals, marginal_modes
from theory.profile import Profile
from theory.rules import EntropyBound, Factor, Frechet, Quota, Rule, Threshold, TightCertificate

__all__ = ["WorstCase", "CouplingLP", "worst_case_margin", "frechet_bounds_lp",
           "mode_probability_bounds_lp", "TightSurvey",
           "tight_certificate_survey", "prefix_margins_reference", "commit_count_reference",
           "commit_counts_reference"]

MAX_CELLS = 4096  # V ** n cells of the joint table (n = 4, V = 8 at most)
_PRUNE_TOL = 1e-12
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass(frozen=True, eq=False)
class WorstCase:
    """The worst joint for the mode x*: ``margin`` = p(x*) - p(``competitor``) in
    ``joint``, the minimum over all joints with the given marginals; ``lps`` counts
    the linear programs solved."""

    margin: float
    joint: ExplicitJoint
    competitor: tuple[int, ...]
    x_star: tuple[int, ...]
    lps: int


def _solve(objective: np.ndarray, A: np.ndarray, b: np.ndarray) -> Any:
    from scipy.optimize import linprog

    res = linprog(objective, A_eq=A, b_eq=b, bounds=(0, None), method="highs",
                  options=_LP_OPTIONS)
    if res.status != 0:
        raise RuntimeError(f"linear program failed: {res.message}")
    return res


class CouplingLP:
    """The coupling polytope of marginals P ``(n, V)`` as linear-program data.

    Variables are the cells of the product of the supports {v: P[j, v] > 0}
    (every coupling is 0 outside it), lexicographic. Constraints: total mass 1 and,
    per position, the marginal mass of every support token but the last (implied),
    so ``A`` has full row rank; with the redundant rows, HiGHS called problems with
    masses near 1e-10 infeasible. Solutions satisfy the marginals to about 1e-10
    (HiGHS feasibility tolerance).
    """

    def __init__(self, marginals: Any) -> None:
        self.P = check_marginals(marginals)
        n, V = self.P.shape
        if V ** n > MAX_CELLS:
            raise ValueError(f"V^n = {V ** n} cells exceed {MAX_CELLS}; keep n and V small")
        supports = [np.flatnonzero(row > 0) for row in self.P]
        self.cells = np.array(list(itertools.product(*supports)), dtype=np.int64)
        rows, b = [np.ones(len(self.cells))], [1.0]
        for j in range(n):
            for v in supports[j][:-1]:
                rows.append((self.cells[:, j] == v).astype(float))
                b.append(float(self.P[j, v]))
        self.A, self.b = np.array(rows), np.array(b)
        self.index = {tuple(int(v) for v in x): i for i, x in enumerate(self.cells)}

    def solve(self, objective: dict[tuple[int, ...], float]) -> Any:
        """Minimise sum weight * p(cell) over couplings (scipy OptimizeResult)."""
        c = np.zeros(len(self.cells))
        for x, weight in objective.items():
            if x in self.index:
                c[self.index[x]] += weight
        return _solve(c, self.A, self.b)

    def vertex(self, objective: np.ndarray) -> ExplicitJoint:
        """The optimal coupling for a weight per support cell (a vertex of the polytope)."""
        return self.joint(_solve(np.asarray(objective, dtype=float), self.A, self.b).x)

    def joint(self, x: np.ndarray) -> ExplicitJoint:
        """The full table ``(V,) * n`` of an LP solution (round-off below 0 clipped)."""
        table = np.zeros((self.P.shape[1],) * self.P.shape[0])
        table[tuple(self.cells.T)] = np.clip(x, 0.0, None)
        return ExplicitJoint(table / math.fsum(table.ravel()))


def worst_case_margin(marginals: Any, method: str = "prune") -> WorstCase:
    """min over joints p with marginals ``(n, V)`` of p(x*) - max_{z != x*} p(z), exactly.

    The inner max turns the problem into min over competitors z of the LP
    min_p [p(x*) - p(z)] over the coupling polytope (:class:`CouplingLP`: one
    variable per cell of the product of the supports, at most V^n). ``method="all"``
    solves all V^n - 1 of them. ``"prune"`` (default, same answer) visits z in
    increasing order of the valid lower bound
    max(0, 1 - sum r) - min_{k: z_k != x*_k} p_k(z_k) <= LP(z) and stops once that
    bound reaches the best value found (within 1e-12); when sum r <= 1 the first LP
    already attains the optimum. Cost, measured in docs/LOG.md: n = V = 4,
    ``"all"`` solves 255 LPs of 256 variables (about a second), ``"prune"`` a few.
    Accuracy: about 1e-10 (HiGHS tolerances).

    Works for any marginals, including sum r > 1 where no closed form is known.
    Raises ValueError for invalid marginals, V < 2, or more than 4096 cells.

    >>> w = worst_case_margin([[0.75, 0.25], [0.875, 0.125]])
    >>> round(w.margin, 12), w.competitor
    (0.375, (1, 0))
    """
    if method not in ("prune", "all"):
        raise ValueError(f"method must be 'prune' or 'all', got {method!r}")
    lp = CouplingLP(marginals)
    P = lp.P
    n, V = P.shape
    if V < 2:
        raise ValueError("need V >= 2 (with V = 1 there is no competitor)")
    modes = marginal_modes(P)
    x_star = modes.x_star
    lower = max(0.0, 1.0 - math.fsum(modes.r))
    candidates = []
    for z in itertools.product(range(V), repeat=n):
        if z != x_star:
            diff = [P[k, z[k]] for k in range(n) if z[k] != x_star[k]]
            candidates.append((lower - min(diff), z))
    candidates.sort()
    best, lps = math.inf, 0
    for bound, z in candidates:
        if method == "prune" and bound >= best - _PRUNE_TOL:
            break
        res = lp.solve({x_star: 1.0, z: -1.0})
        lps += 1
        if res.fun < best:
            best, x, competitor = float(res.fun), res.x, z
    return WorstCase(margin=best, joint=lp.joint(x), competitor=competitor,
                     x_star=x_star, lps=lps)


def frechet_bounds_lp(a: Sequence[float]) -> tuple[float, float]:
    """(min, max) of P(all events) over joints on {0,1}^n with P(X_j = 1) = a_j, by LP.

    >>> tuple(round(v, 12) for v in frechet_bounds_lp([0.75, 0.5]))
    (0.25, 0.5)
    """
    a = [float(v) for v in a]
    if not a or len(a) > 12 or any(not 0.0 <= v <= 1.0 for v in a):
        raise ValueError("need 1 to 12 event probabilities in [0, 1]")
    return _probability_range(CouplingLP([[1.0 - v, v] for v in a]), (1,) * len(a))


def mode_probability_bounds_lp(marginals: Any) -> tuple[float, float]:
    """(min, max) of p(x*) over all joints with marginals ``(n, V)``, by LP: the twin of
    Fréchet's bounds on the events {X_j = x*_j}, (max(0, 1 - sum r), min c).

    >>> tuple(round(v, 12) for v in mode_probability_bounds_lp([[0.75, 0.25], [0.5, 0.5]]))
    (0.25, 0.5)
    """
    lp = CouplingLP(marginals)
    return _probability_range(lp, marginal_modes(lp.P).x_star)


def _probability_range(lp: CouplingLP, x: tuple[int, ...]) -> tuple[float, float]:
    """(min, max) of p(x) over the coupling polytope ``lp`` (0 for a cell outside it)."""
    if x not in lp.index:
        return 0.0, 0.0
    low, high = lp.solve({x: 1.0}), lp.solve({x: -1.0})
    return float(low.fun), float(-high.fun)


def prefix_margins_reference(r_sorted: Sequence[float],
                             s_sorted: Sequence[float]) -> dict[str, list[Fraction]]:
    """Exact per-prefix L_n (clipped), G_n, G*_n, F_n, B_n and the spread bonus, by a loop
    in rationals over r sorted ascending (and s in the same order)."""
    out: dict[str, list[Fraction]] = {k: [] for k in ("L", "G", "G_star", "F", "B", "spread")}
    total, s_max = Fraction(0), Fraction(0)
    for n, (r_n, s_n) in enumerate(zip(r_sorted, s_sorted, strict=True), start=1):
        r, s = Fraction(float(r_n)), Fraction(float(s_n))
        total += r
        s_max = max(s_max, s)
        L = max(Fraction(0), 1 - total)
        out["L"].append(L)
        out["G"].append(L - r)
        out["G_star"].append(L - s_max)
        out["F"].append(1 - (n + 1) * r)
        out["B"].append(n * r - total)
        out["spread"].append(r - s_max)
    return out


def commit_count_reference(rule: Rule, c: Sequence[float], s: Sequence[float] | None = None,
                           H: Sequence[float] | None = None,
                           r: Sequence[float] | None = None) -> int:
    """How many positions ``rule`` commits in one row, by a plain Python loop.

    ``c``, ``s``, ``H``, ``r`` hold the row's valid positions in position order
    (``r`` defaults to 1 - c, ``s`` to r). Positions are ranked by confidence
    (r ascending, ties by position; the entropy rule: H ascending), and n is the
    largest n in 1..m whose condition (docs/theory.md, section 2) holds (1 if none),
    0 for an empty row. Arithmetic is float64 in the same order as the batched code.

    >>> commit_count_reference(Frechet(0.3), [0.99, 0.95, 0.82, 0.78, 0.74])
    4
    """
    m = len(c)
    if m == 0:
        return 0
    c = [float(v) for v in c]
    r = [1.0 - v for v in c] if r is None else [float(v) for v in r]
    s = list(r) if s is None else [float(v) for v in s]
    if isinstance(rule, EntropyBound):
        if H is None or any(math.isnan(float(h)) for h in H):
            raise ValueError("the entropy-bound rule needs entropies H")
        order = sorted(range(m), key=lambda i: (float(H[i]), i))
    else:
        order = sorted(range(m), key=lambda i: (r[i], i))
    passing = [n for n in range(1, m + 1) if _passes(rule, order[:n], c, r, s, H)]
    n = max(passing, default=1)
    if isinstance(rule, Factor) and rule.fastdllm_quirks and passing == list(range(1, m)):
        n = m  # quirk: only the last rank fails, the reference code commits everything
    return n


def _passes(rule: Rule, prefix: list[int], c: list[float], r: list[float], s: list[float],
            H: Sequence[float] | None) -> bool:
    n, last = len(prefix), prefix[-1]
    if isinstance(rule, Quota):
        return n <= rule.k
    if isinstance(rule, Threshold):
        return c[last] >= rule.tau
    if isinstance(rule, Factor):
        if rule.fastdllm_quirks:  # the reference code's threshold for rank 1 is -1
            return n == 1 or c[last] >= 1.0 - rule.f / (n + 1.0)
        return (n + 1.0) * r[last] < rule.f
    if isinstance(rule, (Frechet, TightCertificate)):
        total = 0.0
        for i in prefix:
            total += r[i]
        L = max(0.0, 1.0 - total) if rule.clip else 1.0 - total
        U = r[last] if isinstance(rule, Frechet) else max(s[i] for i in prefix)
        return L - U > rule.delta
    if isinstance(rule, EntropyBound):
        if H is None:
            raise ValueError("the entropy-bound rule needs entropies H")
        total = 0.0
        for i in prefix:
            total += float(H[i])
        return total - max(float(H[i]) for i in prefix) <= rule.gamma
    raise ValueError(f"no reference implementation for rule {rule!r}")


def commit_counts_reference(rule: Rule, profile: Profile) -> np.ndarray:
    """:func:`commit_count_reference` on every row of ``profile``: shape ``(rows,)`` int64."""
    c, s, H = (to_numpy(x).astype(np.float64) for x in (profile.c, profile.s, profile.H))
    r = np.exp(to_numpy(profile.log_r).astype(np.float64))  # as commit() reads r
    valid = to_numpy(profile.valid).astype(bool)
    return np.array([commit_count_reference(rule, c[i][valid[i]], s[i][valid[i]],
                                            H[i][valid[i]], r[i][valid[i]])
                     for i in range(c.shape[0])], dtype=np.int64)


@dataclass(frozen=True)
class TightSurvey:
    """Result of :func:`tight_certificate_survey` (all counts over ``instances``)."""

    instances: int
    seed: int
    within_budget: int  # instances with sum r <= 1
    max_abs_error: float  # max |tight_certificate - LP| over those
    above_budget: int  # instances with sum r > 1
    clipped_bound_attained: int  # of those, LP margin == max(0, 1 - sum r) - max s (1e-9)
    lps_pruned: int  # LPs solved by method="prune", in total
    lps_all: int  # LPs method="all" would solve (V^n - 1 each), in total


def tight_certificate_survey(instances: int, seed: int) -> TightSurvey:
    """Compare the tight certificate's closed form with the LP on random marginals.

    Each instance draws n in 1..4, V in 2..4, rows from Dirichlet(alpha) with alpha
    in {0.3, 1, 3}; in half of the instances each row is mixed with the point mass at
    its argmax by a uniform weight (so confidences near 1 are common), so sum r falls
    on both sides of 1.
    """
    from theory.certificates import tight_certificate

    rng = np.random.default_rng(seed)
    errors, within, above, attained, pruned, total = [], 0, 0, 0, 0, 0
    for _ in range(int(instances)):
        n, V = int(rng.integers(1, 5)), int(rng.integers(2, 5))
        p = rng.dirichlet(np.full(V, rng.choice([0.3, 1.0, 3.0])), size=n)
        w = rng.random((n, 1)) if rng.random() < 0.5 else np.ones((n, 1))
        p = w * p + (1.0 - w) * np.eye(V)[p.argmax(axis=1)]
        worst = worst_case_margin(p)
        pruned, total = pruned + worst.lps, total + V ** n - 1
        modes = marginal_modes(p)
        if math.fsum(modes.r) <= 1.0:
            within += 1
            errors.append(abs(tight_certificate(p) - worst.margin))
        else:
            above += 1
            attained += abs(worst.margin + float(modes.s.max())) <= 1e-9
    return TightSurvey(instances=int(instances), seed=int(seed), within_budget=within,
                       max_abs_error=max(errors, default=0.0), above_budget=above,
                       clipped_bound_attained=attained, lps_pruned=pruned, lps_all=total)
