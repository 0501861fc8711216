"""Symbolic proofs (sympy) of the algebraic statements: Cor 4.2, Prop 4.3 and the
monotonicity of G_n and G*_n in n (which makes "largest n" the length of a prefix).

Each ``prove_*`` function takes ``n=None`` (symbolic n: sums are split with
``sympy.difference_delta``, which sympy itself verifies) or a fixed ``n`` (explicit
symbols c_1..c_n), builds the statement, and returns True only if sympy simplifies
the difference of the two sides to 0 (identities) or decides its sign (inequalities,
where sorted profiles are parametrised by nonnegative increments). A False means
"not proved", never "disproved". Sign statements involving max go through case
splits in which every max evaluates. Importing this module imports sympy (about a
second); :mod:`theory` does not import it.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["is_identity", "is_nonpositive", "prove_corollary_4_2", "prove_proposition_4_3",
           "prove_frechet_margin_monotone", "prove_tight_margin_monotone", "PROOFS"]

_j = sp.Symbol("j", integer=True, positive=True)
_n = sp.Symbol("n", integer=True, positive=True)


def is_identity(lhs: sp.Expr, rhs: sp.Expr) -> bool:
    """True iff sympy simplifies lhs - rhs (sums evaluated, expanded) to exactly 0."""
    diff = sp.expand(sp.simplify(sp.expand((lhs - rhs).doit())))
    return bool(diff == 0)


def is_nonpositive(expr: sp.Expr) -> bool:
    """True iff sympy decides expr <= 0 from the symbols' assumptions."""
    return bool(sp.expand(sp.simplify(expr)).is_nonpositive)


def _split_last(summand: sp.Expr, upper: sp.Expr) -> sp.Expr:
    """sum_{j=1}^{upper} f(j) written as sum_{j=1}^{upper-1} f(j) + f(upper), after sympy
    confirms that the forward difference of the partial sums is f."""
    m = sp.Symbol("m", integer=True)
    step = sp.difference_delta(sp.Sum(summand, (_j, 1, m)), m).subs(m, upper - 1)
    if not is_identity(step, summand.subs(_j, upper)):
        raise ArithmeticError("sympy could not split the sum")  # pragma: no cover
    return sp.Sum(summand, (_j, 1, upper - 1)) + summand.subs(_j, upper)


def _check_n(n: int | None) -> None:
    if n is not None and int(n) < 1:
        raise ValueError(f"n must be a positive integer or None, got {n}")


def prove_corollary_4_2(n: int | None = None) -> bool:
    """With equal confidences c: G_n = 1 - n (1 - c) - (1 - c) = 1 - (n+1)(1 - c).

    Reference: [FastdLLM++] Cor 4.2 (so Fréchet(delta) == factor(f = 1 - delta)).
    """
    _check_n(n)
    c = sp.Symbol("c", real=True)
    N = _n if n is None else sp.Integer(n)
    G = 1 - sp.Sum(1 - c, (_j, 1, N)) - (1 - c)
    return is_identity(G, 1 - (N + 1) * (1 - c))


def prove_proposition_4_3(n: int | None = None) -> bool:
    """G_n = F_n + B_n with F_n = (n+1) c_(n) - n, B_n = sum_{j<n} (c_(j) - c_(n)) >= 0,
    and (fixed n) B_n = 0 iff the profile is flat.

    Sorted profiles are c_(j) = c_(n) + d_j with d_j >= 0. For symbolic n the sign
    is shown for the summand d_j (a sum of nonnegative terms).

    Reference: [FastdLLM++] Prop 4.3.
    """
    _check_n(n)
    if n is None:
        c = sp.IndexedBase("c", real=True)
        d = sp.IndexedBase("d", nonnegative=True)
        G = 1 - _split_last(1 - c[_j], _n) - (1 - c[_n])
        F = (_n + 1) * c[_n] - _n
        B = sp.Sum(c[_j] - c[_n], (_j, 1, _n - 1))
        summand = (c[_j] - c[_n]).subs(c[_j], c[_n] + d[_j])
        return is_identity(G, F + B) and bool(sp.simplify(summand).is_nonnegative)
    cn = sp.Symbol("c_n", real=True)
    ds = sp.symbols(f"d1:{n}", nonnegative=True) if n > 1 else ()
    cs = [cn + dj for dj in ds] + [cn]
    G = 1 - sum(1 - v for v in cs) - (1 - cn)
    F = (n + 1) * cn - n
    B = sum((v - cn for v in cs[:-1]), sp.Integer(0))
    nonnegative = n == 1 or bool(sp.expand(B).is_nonnegative)
    zero_forces_flat = all(bool(sp.expand(B - dj).is_nonnegative) for dj in ds)
    flat_gives_zero = sp.expand(B).subs({dj: 0 for dj in ds}) == 0
    return is_identity(G, F + B) and nonnegative and zero_forces_flat and flat_gives_zero


def _max0_nondecreasing() -> bool:
    """Lemma: max(0, y - t) - max(0, y) <= 0 for t >= 0, by the three cases y <= 0,
    0 <= y <= t, y >= t (in each case both maxima evaluate)."""
    u, v, t = sp.symbols("u v t", nonnegative=True)
    cases = [(-u, t), (v, v + u), (t + v, t)]  # (y, t)
    return all(is_nonpositive(sp.Max(0, y - tt) - sp.Max(0, y)) for y, tt in cases)


def _running_max_step(k: int, l_step: sp.Expr) -> bool:
    """For fixed k: l_step - (max(s_1..s_{k+1}) - max(s_1..s_k)) <= 0 whenever l_step <= 0,
    by cases on the argmax i of s_1..s_k and on whether s_{k+1} exceeds s_i (in each
    case every max evaluates)."""
    top, g = sp.Symbol("s_top", real=True), sp.Symbol("g", nonnegative=True)
    es = sp.symbols(f"e1:{k + 1}", nonnegative=True)
    for i in range(k):
        s = [top if j == i else top - es[j] for j in range(k)]
        for s_next in (top - g, top + g):
            if not is_nonpositive(l_step - (sp.Max(*s, s_next) - sp.Max(*s))):
                return False
    return True


_X = sp.Symbol("X", nonpositive=True)  # max(0, y - t) - max(0, y), <= 0 by the lemma


def prove_frechet_margin_monotone(n: int | None = None, clip: bool = False) -> bool:
    """G_{k+1} <= G_k for every k < n on profiles with r sorted ascending, r >= 0.

    With r_{k+1} = r_k + d (d >= 0): unclipped, G_{k+1} - G_k = r_k - 2 r_{k+1}
    = -r_k - 2d; clipped (L = max(0, 1 - sum r)), G_{k+1} - G_k = X - d where
    X = max(0, y - r_{k+1}) - max(0, y) <= 0 by the lemma that max(0, .) is
    nondecreasing (proved by cases).

    Reference: [FastdLLM++] Kasa et al., arXiv 2606.02955, section 4 (the margin G_n);
    its monotonicity makes the accepted n a prefix (docs/theory.md, section 2).
    """
    _check_n(n)
    if n is None:
        r = sp.IndexedBase("r", real=True)
        rk, d = sp.Symbol("r_k", nonnegative=True), sp.Symbol("d", nonnegative=True)
        if clip:
            y = 1 - sp.Sum(r[_j], (_j, 1, _n))
            y_next = 1 - _split_last(r[_j], _n + 1)
            G_step = (sp.Max(0, y_next) - r[_n + 1]) - (sp.Max(0, y) - r[_n])
            lemma_form = (sp.Max(0, y - r[_n + 1]) - sp.Max(0, y)) - (r[_n + 1] - r[_n])
            return (_max0_nondecreasing() and is_identity(G_step, lemma_form)
                    and is_nonpositive(_X - d))
        G = 1 - sp.Sum(r[_j], (_j, 1, _n)) - r[_n]
        step = sp.difference_delta(G, _n).subs({r[_n + 1]: rk + d, r[_n]: rk})
        return is_nonpositive(step) and is_identity(step, -rk - 2 * d)
    ds = sp.symbols(f"d1:{n + 1}", nonnegative=True)
    r_list = [sum(ds[:k + 1]) for k in range(n)]  # r_1 <= r_2 <= ... (increments d >= 0)
    if clip:
        return _max0_nondecreasing() and all(is_nonpositive(_X - ds[k + 1])
                                             for k in range(n - 1))
    G = [1 - sum(r_list[:k + 1]) - r_list[k] for k in range(n)]
    return all(is_nonpositive(G[k + 1] - G[k]) for k in range(n - 1))


def prove_tight_margin_monotone(n: int | None = None, clip: bool = False) -> bool:
    """G*_{k+1} <= G*_k for every k < n, G*_k = L_k - max_{j<=k} s_j, r_j >= 0.

    The step is (L_{k+1} - L_k) - (M_{k+1} - M_k) with M the running max of s.
    L's step is -r_{k+1} <= 0 (clipped: X <= 0 by the max(0, .) lemma). M's step is
    >= 0: for symbolic n by the two cases of max(M, s) - M; for fixed n the whole step
    is checked in every case of the argmax of s_1..s_k.

    Reference: the tight certificate (this project, docs/theory/tight_certificate.md);
    G*_n non-increasing, so the accepted n form a prefix (docs/theory.md, section 2).
    """
    _check_n(n)
    if clip and not _max0_nondecreasing():
        return False
    if n is None:
        M, e = sp.Symbol("M", real=True), sp.Symbol("e", nonnegative=True)
        r_next = sp.Symbol("r_next", nonnegative=True)
        l_step = _X if clip else -r_next
        return all(is_nonpositive(l_step - (sp.Max(M, s) - M)) for s in (M - e, M + e))
    ds = sp.symbols(f"d1:{n + 1}", nonnegative=True)
    r_list = [sum(ds[:k + 1]) for k in range(n)]
    return all(_running_max_step(k, _X if clip else -r_list[k]) for k in range(1, n))


PROOFS = (prove_corollary_4_2, prove_proposition_4_3, prove_frechet_margin_monotone,
          prove_tight_margin_monotone)
