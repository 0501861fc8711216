"""The sympy proofs return True for every n, and the prover cannot be fooled."""

import pytest
import sympy as sp

from theory.proofs import (
    PROOFS,
    is_identity,
    is_nonpositive,
    prove_corollary_4_2,
    prove_frechet_margin_monotone,
    prove_proposition_4_3,
    prove_tight_margin_monotone,
)

SIZES = [None, 1, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("n", SIZES)
def test_prove_corollary_4_2(n):
    assert prove_corollary_4_2(n)


@pytest.mark.parametrize("n", SIZES)
def test_prove_proposition_4_3(n):
    assert prove_proposition_4_3(n)


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("n", SIZES)
def test_prove_frechet_margin_monotone(n, clip):
    assert prove_frechet_margin_monotone(n, clip=clip)


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("n", SIZES)
def test_prove_tight_margin_monotone(n, clip):
    assert prove_tight_margin_monotone(n, clip=clip)


def test_a_wrong_corollary_is_not_proved():
    n, c = sp.Symbol("n", positive=True, integer=True), sp.Symbol("c", real=True)
    j = sp.Symbol("j", integer=True, positive=True)
    G = 1 - sp.Sum(1 - c, (j, 1, n)) - (1 - c)
    assert not is_identity(G, 1 - n * (1 - c))


def test_a_sign_that_does_not_hold_is_not_proved():
    d = sp.Symbol("d", nonnegative=True)
    r = sp.Symbol("r", real=True)
    assert not is_nonpositive(d)
    assert not is_nonpositive(r)  # undecided is not a proof
    assert is_nonpositive(-d)


def test_every_proof_is_registered_and_rejects_bad_sizes():
    assert len(PROOFS) == 4
    for prove in PROOFS:
        with pytest.raises(ValueError):
            prove(0)
