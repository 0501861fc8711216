"""The window profile's two CPU routes: numpy views for short vocabularies, torch for
long ones (realmodel.engine.sampling.SHORT_VOCABULARY). Same tokens and decisions; the
floats agree to rounding (the two libraries' exp and log differ by an ulp here and there)."""

import numpy as np
import pytest
import torch

import realmodel.engine.sampling as sampling
from realmodel.engine.sampling import window_profile
from realmodel.model.specials import SpecialTokens
from theory import commit, make_rule, profile_from_logits
from theory.profile import FIELDS

SPECIALS = SpecialTokens(mask_id=0, pad_id=1, eos_id=2)
RULES = [make_rule("quota", 1), make_rule("threshold", 0.5), make_rule("frechet", 0.25),
         make_rule("tight", 0.25), make_rule("factor", 0.8), make_rule("entropy", 0.5)]


def _logits(B=3, W=8, V=20, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    logits = (4.0 * torch.randn(B, W, V, generator=gen)).to(dtype)
    valid = torch.rand(B, W, generator=gen) < 0.6
    valid[0] = False  # a finished row
    return logits, valid


def _route(monkeypatch, numpy, *args, **kw):
    monkeypatch.setattr(sampling, "SHORT_VOCABULARY", 2**62 if numpy else 0)
    return window_profile(*args, **kw)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("eos", ["none", "forbid", "defer"])
def test_both_routes_give_the_same_tokens_and_decisions(monkeypatch, seed, eos):
    logits, valid = _logits(seed=seed)
    a = _route(monkeypatch, True, logits, valid, SPECIALS, eos=eos)
    b = _route(monkeypatch, False, logits, valid, SPECIALS, eos=eos)
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert isinstance(x, torch.Tensor) and x.dtype == y.dtype and x.shape == y.shape
    assert torch.equal(a.tokens, b.tokens) and torch.equal(a.valid, b.valid)
    # a log-sum-exp of V = 20 terms and a few exp / log: each route within ~V ulps
    eps = torch.finfo(torch.float64).eps
    for name in ("c", "log_r", "s", "H"):
        x, y = getattr(a, name), getattr(b, name)
        assert bool(((x - y).abs() <= 4 * 20 * eps * (1 + y.abs())).all()), name
    for rule in RULES:
        da, db = commit(rule, a), commit(rule, b)
        assert torch.equal(da.n, db.n) and torch.equal(da.mask, db.mask), rule


def test_the_numpy_route_is_the_theory_profile_of_the_valid_positions(monkeypatch):
    logits, valid = _logits(seed=5)
    got = _route(monkeypatch, True, logits, valid, SPECIALS)
    want = profile_from_logits(logits.numpy()[valid.numpy()][None])
    for name in ("tokens", "c", "log_r", "s", "H"):
        assert np.array_equal(getattr(got, name).numpy()[valid.numpy()],
                              getattr(want, name)[0]), name  # the same numpy code: bits
    rest = ~valid
    assert (got.tokens[rest] == 0).all() and (got.c[rest] == 0).all()
    assert (got.log_r[rest] == 0).all() and (got.s[rest] == 0).all()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_logits_take_the_numpy_route_exactly_widened(monkeypatch, dtype):
    logits, valid = _logits(seed=2, dtype=dtype)
    half = _route(monkeypatch, True, logits, valid, SPECIALS)
    wide = _route(monkeypatch, True, logits.float(), valid, SPECIALS)
    for name in FIELDS:
        assert torch.equal(getattr(half, name), getattr(wide, name)), name


def test_forbidding_eos_leaves_the_callers_logits_alone_on_both_routes(monkeypatch):
    for numpy in (True, False):
        logits, valid = _logits(seed=3)
        logits[..., SPECIALS.eos_id] = 50.0  # EOS would win everywhere
        before = logits.clone()
        p = _route(monkeypatch, numpy, logits, valid, SPECIALS, eos="forbid")
        assert torch.equal(logits, before)
        assert not bool((p.tokens[valid] == SPECIALS.eos_id).any())


@pytest.mark.parametrize("bad, match", [(float("nan"), "NaN"), (float("inf"), r"\+inf")])
def test_the_numpy_route_refuses_bad_logits_by_name(monkeypatch, bad, match):
    logits, valid = _logits(seed=4)
    row, col = valid.nonzero()[0].tolist()
    logits[row, col, 3] = bad
    with pytest.raises(ValueError, match=match):
        _route(monkeypatch, True, logits, valid, SPECIALS)


def test_both_routes_leave_the_committed_positions_unchecked(monkeypatch):
    logits, valid = _logits(seed=6)
    row, col = (~valid).nonzero()[-1].tolist()
    logits[row, col, :] = float("nan")  # a committed position: no rule reads it
    for numpy in (True, False):
        p = _route(monkeypatch, numpy, logits, valid, SPECIALS)
        assert bool(torch.isfinite(p.c).all()) and p.c[row, col] == 0


def test_the_engine_boundary_sends_short_cpu_vocabularies_to_numpy():
    short, _ = _logits(V=sampling.SHORT_VOCABULARY - 1)
    long, valid = _logits(V=sampling.SHORT_VOCABULARY)
    assert sampling._numpy_window(short, valid) is not None
    assert sampling._numpy_window(long, valid) is None
