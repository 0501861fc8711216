"""Numerical robustness: profiles and margins against mpmath at 50 digits.

The float64 results are compared with the exact value of the same float64 inputs,
computed by mpmath with 50 significant digits. Bounds, per quantity (eps = 2^-52,
V = vocabulary size, n = prefix length):

* profile_from_logits: c to relative error 64 V eps; log r to absolute error
  64 V eps max(1, |log r|); r, s and H to relative error (64 V + K) eps, where K <= 800
  is the largest logit gap that does not underflow (exp(x) carries the rounding of x:
  at most 2e-13 relative), for any finite logits (|z| up to 1e30, mixed signs,
  c within 1e-12 of 1, runner-ups down to 1e-300). A quantity whose exact value is below
  the float64 range (exp(-1e30)) is 0, and log r stays finite.
* profile_from_confidences: r = 1 - c to relative error (4 + |log r|) eps (1 - c is
  exact for c >= 1/2, then log1p; r is read back as exp(log r)).
* joint_lower_bound, frechet_margin, tight_margin: absolute error 4 (n + 2) eps; these are
  differences of quantities of size 1, so no relative bound holds near 0 (the condition
  of the quantity, not of the algorithm).
* factor_core: absolute error 4 eps.
* heterogeneity_bonus: relative error 4 (n + 1) eps (sum of non-negative gaps). The
  textbook form n r_(n) - sum r_(j) loses all digits on a nearly flat profile; a test
  shows it.
* spread_bonus: relative error eps (one correctly rounded subtraction).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from theory import (
    factor_core,
    frechet_margin,
    heterogeneity_bonus,
    joint_lower_bound,
    profile_from_confidences,
    profile_from_logits,
    spread_bonus,
    tight_margin,
)

mp = pytest.importorskip("mpmath").mp
mp.dps = 50
EPS = float(np.finfo(np.float64).eps)
TINY = 1e-300  # below this an exact value may underflow; compare absolutely


def _rel(got: float, exact: object, bound: float) -> None:
    exact_f = float(exact)
    if abs(exact_f) < TINY:
        assert abs(got) < 1e-290, (got, exact_f)
        return
    err = abs(mp.mpf(got) - exact) / abs(exact)
    assert err <= bound, (got, exact_f, float(err), bound)


def _abs(got: float, exact: object, bound: float) -> None:
    assert abs(mp.mpf(got) - exact) <= bound, (got, float(exact), bound)


def exact_profile(z: np.ndarray) -> dict[str, object]:
    """c, r, log r, s, H of one position's float64 logits ``z`` (V,), at 50 digits."""
    zs = [mp.mpf(float(v)) if np.isfinite(v) else None for v in z]
    top = int(np.argmax(z))
    zmax = zs[top]
    e = [mp.exp(v - zmax) if v is not None else mp.mpf(0) for v in zs]
    others = [e[j] for j in range(len(e)) if j != top]
    rest = mp.fsum(others)  # not S - 1: exp(-1e30) is far below 50 digits of 1
    S = 1 + rest
    lse = mp.log1p(rest)  # log S without rounding 1 + rest
    terms = [mp.exp(v - zmax - lse) * (zmax + lse - v) for j, v in enumerate(zs)
             if v is not None and j != top]
    log_rest = mp.log(rest) if rest > 0 else None
    return {"c": 1 / S, "r": rest / S,
            "log_r": None if log_rest is None else log_rest - mp.log1p(rest),
            "s": max(others) / S if others else mp.mpf(0),
            "H": lse / S + mp.fsum(terms)}


@st.composite
def logits(draw):
    """(rows, m, V) float64 logits: moderate, huge (1e4, 1e30, mixed signs), with a top
    logit 25 to 700 above the rest (c within 1e-12 of 1, residuals down to 1e-300)."""
    V = draw(st.integers(1, 8))
    m = draw(st.integers(1, 3))
    z = np.array(draw(st.lists(st.floats(-5, 5), min_size=m * V, max_size=m * V)))
    z = z.reshape(1, m, V)
    kind = draw(st.sampled_from(["plain", "gap", "huge", "mixed", "neg inf"]))
    if kind == "gap":
        z[..., 0] += draw(st.sampled_from([28.0, 40.0, 200.0, 690.0]))
    elif kind == "huge":
        z = z * draw(st.sampled_from([1e4, 1e30, -1e4, -1e30]))
    elif kind == "mixed":
        z[..., ::2] *= 1e30
        z[..., 1::2] *= -1e4
    elif kind == "neg inf" and V > 1:
        z[..., 1:: 2] = -np.inf
    return z


@given(logits())
@example(np.array([[[0.0, -28.0, -29.0]]]))
@example(np.array([[[1e30, -1e30, 0.0]]]))
@example(np.array([[[3.0, 3.0, -700.0]]]))
def test_profile_from_logits_matches_mpmath(z):
    p = profile_from_logits(z)
    V = z.shape[-1]
    bound = 64 * V * EPS
    for j in range(z.shape[1]):
        ex = exact_profile(z[0, j])
        finite = z[0, j][np.isfinite(z[0, j])]
        K = min(float(np.max(finite) - np.min(finite)), 800.0)  # exp's argument, at most
        _rel(float(p.c[0, j]), ex["c"], bound)
        _rel(float(p.r[0, j]), ex["r"], bound + K * EPS)
        _rel(float(p.s[0, j]), ex["s"], bound + K * EPS)
        _rel(float(p.H[0, j]), ex["H"], bound + K * EPS) if ex["H"] > TINY else \
            _abs(float(p.H[0, j]), ex["H"], 1e-290)
        if ex["log_r"] is None:
            assert p.log_r[0, j] == -np.inf
        else:
            _abs(float(p.log_r[0, j]), ex["log_r"], bound * max(1.0, abs(float(ex["log_r"]))))


def test_log_r_stays_finite_when_the_residual_underflows():
    p = profile_from_logits(np.array([[[0.0, -1e30, -2e30]]]))
    assert float(p.c[0, 0]) == 1.0 and float(p.r[0, 0]) == 0.0
    assert float(p.log_r[0, 0]) == pytest.approx(-1e30, rel=1e-15)


@given(st.floats(0.5, 1.0, exclude_max=True))
@example(1.0 - 1e-12)
@example(1.0 - 2**-52)
@example(0.5)
def test_residuals_of_confidences_near_one_are_exact(c):
    p = profile_from_confidences([c])
    exact = 1 - mp.mpf(c)
    _rel(float(p.r[0, 0]), exact, (4 + abs(float(mp.log(exact)))) * EPS)


@st.composite
def sorted_residuals(draw):
    """(1, m) ascending residuals: spread out, nearly flat, or near 1e-12, with s <= r."""
    m = draw(st.integers(1, 12))
    kind = draw(st.sampled_from(["spread", "flat", "tiny", "sum near 1"]))
    base = draw(st.floats(1e-12, 0.3))
    if kind == "spread":
        r = np.sort(np.array(draw(st.lists(st.floats(0, 0.3), min_size=m, max_size=m))))
    elif kind == "flat":
        r = base * (1 + np.sort(np.array(draw(st.lists(st.floats(0, 1e-9), min_size=m,
                                                         max_size=m)))))
    elif kind == "tiny":
        r = np.sort(np.array(draw(st.lists(st.floats(1e-15, 1e-12), min_size=m, max_size=m))))
    else:
        r = np.full(m, 1.0 / m) * (1 + np.linspace(-1e-9, 1e-9, m))
    share = np.array(draw(st.lists(st.floats(0, 1), min_size=m, max_size=m)))
    return r[None, :], (share * r)[None, :]


def _exact_prefix(r: np.ndarray, s: np.ndarray, n: int) -> dict[str, object]:
    R = [mp.mpf(float(x)) for x in r[0, :n]]
    S = [mp.mpf(float(x)) for x in s[0, :n]]
    L = 1 - mp.fsum(R)
    return {"L": L, "G": max(L, 0) - R[-1], "G*": max(L, 0) - max(S),
            "F": 1 - (n + 1) * R[-1], "B": n * R[-1] - mp.fsum(R), "spread": R[-1] - max(S)}


@given(sorted_residuals())
@example((np.array([[0.1, 0.1 + 1e-12, 0.1 + 2e-12]]), np.array([[0.1, 0.05, 0.0]])))
def test_margins_match_mpmath(case):
    r, s = case
    L, G, Gs = joint_lower_bound(r, clip=False), frechet_margin(r), tight_margin(r, s)
    F, B, sp = factor_core(r), heterogeneity_bonus(r), spread_bonus(r, s)
    for n in range(1, r.shape[1] + 1):
        ex = _exact_prefix(r, s, n)
        j = n - 1
        _abs(float(L[0, j]), ex["L"], 4 * (n + 2) * EPS)
        _abs(float(G[0, j]), ex["G"], 4 * (n + 2) * EPS)
        _abs(float(Gs[0, j]), ex["G*"], 4 * (n + 2) * EPS)
        _abs(float(F[0, j]), ex["F"], 4 * EPS)
        if ex["B"] == 0:
            assert float(B[0, j]) == 0.0
        else:
            _rel(float(B[0, j]), ex["B"], 4 * (n + 1) * EPS)
        if ex["spread"] == 0:
            assert float(sp[0, j]) == 0.0
        else:
            _rel(float(sp[0, j]), ex["spread"], EPS)


def test_the_textbook_heterogeneity_bonus_cancels_and_ours_does_not():
    """Twelve residuals one ulp apart near 0.1: n r_(n) - sum r_(j) is 21% off."""
    r = (0.1 + np.arange(12) * np.spacing(0.1))[None, :]
    exact = _exact_prefix(r, r, 12)["B"]
    textbook = 12 * r[0, -1] - np.sum(r[0])
    assert abs(mp.mpf(textbook) - exact) / exact > 0.1  # most digits lost
    _rel(float(heterogeneity_bonus(r)[0, -1]), exact, 4 * 13 * EPS)


@given(logits())
@example(np.array([[[2.0, 2.0, -1.0]]]))
@example(np.array([[[0.0, -np.inf, -np.inf]]]))
def test_torch_profile_matches_mpmath_like_numpy(z):
    """The torch path (fused logsumexp, one-pass max and argmax) is held to the same error
    model as numpy's, and breaks ties towards the lowest token id like numpy."""
    torch = pytest.importorskip("torch")
    p = profile_from_logits(torch.from_numpy(z))
    q = profile_from_logits(z)
    V = z.shape[-1]
    bound = 64 * V * EPS
    assert (p.tokens.numpy() == q.tokens).all() and (q.tokens == z.argmax(-1)).all()
    for j in range(z.shape[1]):
        ex = exact_profile(z[0, j])
        finite = z[0, j][np.isfinite(z[0, j])]
        K = min(float(np.max(finite) - np.min(finite)), 800.0)
        _rel(float(p.c[0, j]), ex["c"], bound)
        _rel(float(p.r[0, j]), ex["r"], bound + K * EPS)
        _rel(float(p.s[0, j]), ex["s"], bound + K * EPS)
        if ex["log_r"] is None:
            assert float(p.log_r[0, j]) == -np.inf


@given(logits())
def test_skipping_the_entropy_changes_nothing_else(z):
    full, lean = profile_from_logits(z), profile_from_logits(z, entropy=False)
    for field in ("tokens", "c", "log_r", "s", "valid"):
        np.testing.assert_array_equal(getattr(lean, field), getattr(full, field))
    assert np.isnan(lean.H).all()
