"""Batches, per-row commits, temperature, EOS options and state replication."""

import pytest
import torch

from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.engine.prompts import Prompt
from realmodel.engine.sampling import choice_profile, valid_rows
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.specials import SpecialTokens
from realmodel.model.tiny import random_llada, tiny_config
from tests.realmodel.oracles import llada_generate
from tests.tolerance import assert_close, clear_of_ties, llada_path
from theory import Quota, make_rule, profile_from_logits

MASK, EOS, EOT = 3, 2, 1


@pytest.fixture(scope="module")
def model():
    return random_llada(tiny_config(), seed=21, logit_scale=4.0)


@pytest.fixture(scope="module")
def prompts():
    gen = torch.Generator().manual_seed(5)
    return [Prompt(ids=torch.randint(4, 96, (n,), generator=gen).tolist(),
                   suffix=torch.randint(4, 96, (s,), generator=gen).tolist(), name=f"p{n}")
            for n, s in ((6, 0), (11, 2), (3, 1), (8, 0))]


class Tilted(LLaDADenoiser):
    """The tiny model with its EOS and EoT logits raised (so endings are frequent)."""

    def __init__(self, model, tilt=2.5, eot=EOT):
        super().__init__(model, specials=SpecialTokens(mask_id=MASK, pad_id=0, eos_id=EOS,
                                                       eot_id=eot))
        self.bias = torch.zeros(model.config.vocab_size)
        self.bias[[EOS, eot]] = tilt

    def forward(self, *args, **kwargs):
        return super().forward(*args, **kwargs) + self.bias


class Sink:
    def __init__(self):
        self.records = []

    def begin_batch(self, batch):
        pass

    def record(self, state, step):
        self.records.append(step)

    def end_batch(self, state, sequences):
        pass


def _run(denoiser, prompts, batch_size=1, sink=None, **options):
    cfg = DecodeConfig(**{"gen_length": 16, "block_length": 8, **options})
    return decode(denoiser, prompts, cfg, batch_size=batch_size, trace=sink)


@pytest.mark.parametrize("cache", ["none", "prefix", "dual"])
@pytest.mark.parametrize("rule", ["quota", "threshold", "frechet"])
def test_a_prompt_decodes_the_same_alone_and_in_a_padded_batch(cache, rule, model, prompts):
    d = LLaDADenoiser(model)
    kwargs = dict(rule=make_rule(rule, 0.5 if rule == "threshold" else None), cache=cache)
    alone = _run(d, prompts, batch_size=1, **kwargs)
    batched = _run(d, prompts, batch_size=4, **kwargs)
    assert [s.generated for s in alone.sequences] == [s.generated for s in batched.sequences]
    assert [s.steps for s in alone.sequences] == [s.steps for s in batched.sequences]
    steps = [s.steps for s in batched.sequences]
    assert max(steps) <= batched.calls <= sum(steps)


@pytest.mark.parametrize("rule", ["quota", "threshold", "factor", "frechet", "tight", "entropy"])
def test_every_rule_commits_per_row_and_finished_rows_commit_nothing(rule, model, prompts):
    sink = Sink()
    result = _run(LLaDADenoiser(model), prompts, batch_size=4, sink=sink,
                  rule=make_rule(rule), cache="dual")
    for rec in sink.records:
        has_work = rec.valid.any(-1)
        assert torch.equal(rec.commit.n > 0, has_work)
        assert not bool((rec.commit.mask & ~rec.valid).any())
    assert len(sink.records) == result.calls
    for seq in result.sequences:
        assert MASK not in seq.generated
        assert sum(seq.commits) == 16 and len(seq.commits) == seq.steps


def test_choice_profile_of_argmax_tokens_equals_theory_profile():
    logits = torch.randn(3, 5, 40, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    valid = torch.ones(3, 5, dtype=torch.bool)
    ours = choice_profile(logits * 4, (logits * 4).argmax(-1), valid)
    ref = profile_from_logits(logits * 4, valid, float64=True)
    for name in ("tokens", "c", "log_r", "s", "H"):
        torch.testing.assert_close(getattr(ours, name), getattr(ref, name))


def test_temperature_draws_are_seeded_per_sequence_and_batch_invariant(model, prompts):
    d = LLaDADenoiser(model)
    kwargs = dict(rule=make_rule("threshold", 0.5), temperature=1.0, cache="prefix")
    one = _run(d, prompts, batch_size=1, seed=3, **kwargs)
    four = _run(d, prompts, batch_size=4, seed=3, **kwargs)
    other = _run(d, prompts, batch_size=4, seed=4, **kwargs)
    greedy = _run(d, prompts, batch_size=4, **{**kwargs, "temperature": 0.0})
    ids = [s.generated for s in one.sequences]
    assert ids == [s.generated for s in four.sequences]
    assert ids != [s.generated for s in other.sequences]
    assert ids != [s.generated for s in greedy.sequences]


def test_eos_forbid_never_generates_eos_and_none_does(model, prompts):
    d = Tilted(model)
    free = _run(d, prompts, rule=Quota(1))
    banned = _run(d, prompts, rule=Quota(1), eos="forbid")
    assert any(EOS in s.generated for s in free.sequences)
    assert not any(EOS in s.generated for s in banned.sequences)


def test_eos_defer_commits_endings_only_when_nothing_else_is_left(model, prompts):
    sink = Sink()
    _run(Tilted(model), prompts[:2], batch_size=2, sink=sink, rule=Quota(1), eos="defer")
    seen = False
    for rec in sink.records:
        ending = (rec.profile.tokens == EOS) | (rec.profile.tokens == EOT)
        for row in range(rec.valid.shape[0]):
            picked = rec.commit.mask[row]
            if bool((picked & ending[row]).any()):
                seen = True
                assert bool((ending[row] | ~rec.valid[row]).all())
    assert seen


def _commit_order(sink):
    return [int(rec.window_start + j) for rec in sink.records
            for j in sorted(rec.commit.mask[0].nonzero()[:, 0].tolist())]


def test_eos_llada_quirk_reproduces_current_generate_py(model, prompts):
    eot = 95  # a token this model predicts often, declared its end-of-turn id
    d = Tilted(model, tilt=0.0, eot=eot)
    prompt = prompts[0]
    order = []
    expected, _ = llada_generate(model, list(prompt.ids), 16, 16, 8, MASK, quirk_eot=eot,
                                 order=order)
    quirk, plain = Sink(), Sink()
    got = _run(d, [prompt], sink=quirk, rule=Quota(1), eos="llada_quirk").sequences[0]
    free = _run(d, [prompt], sink=plain, rule=Quota(1)).sequences[0]
    assert got.generated == expected
    assert _commit_order(quirk) == order
    assert eot in free.generated
    assert _commit_order(plain) != order


def test_stop_at_eos_fills_the_tail_and_saves_steps(model, prompts):
    d = Tilted(model, tilt=4.0)
    full = _run(d, prompts, rule=make_rule("threshold", 0.5), gen_length=32)
    stop = _run(d, prompts, rule=make_rule("threshold", 0.5), gen_length=32, stop_at_eos=True)
    assert sum(s.steps for s in stop.sequences) < sum(s.steps for s in full.sequences)
    for seq in stop.sequences:
        ends = [i for i, t in enumerate(seq.generated) if t in (EOS, EOT)]
        assert ends, "the tilted model should end every sequence"


def test_replicated_state_decodes_like_the_original(model, prompts):
    d = LLaDADenoiser(model)
    engine = Engine(d, DecodeConfig(rule=Quota(1), gen_length=16, block_length=8, cache="dual"))
    state = engine.start(prompts[:2])
    engine.begin_block(state, 0)
    with torch.no_grad():
        engine.step(state)
        copy = state.replicate(torch.tensor([1, 0, 1]))
        la, lb = engine.forward(state), engine.forward(copy)
        a, b = engine.profile(state, la), engine.profile(copy, lb)
    tol = assert_close(lb, la[[1, 0, 1]], llada_path(model.config, state.x.shape[1]))
    clear = clear_of_ties(la[[1, 0, 1]], tol)
    assert torch.equal(b.tokens[clear], a.tokens[[1, 0, 1]][clear])
    assert copy.cache is not None and copy.cache.k[0].shape[0] == 3


def test_bad_configs_are_refused_by_name(model):
    with pytest.raises(ValueError, match="multiple"):
        DecodeConfig(gen_length=20, block_length=8)
    with pytest.raises(ValueError, match="quota"):
        DecodeConfig(rule=make_rule("threshold"), steps=4, gen_length=8, block_length=8)
    with pytest.raises(ValueError, match="cache"):
        DecodeConfig(cache="triple")
    with pytest.raises(ValueError, match="eos"):
        DecodeConfig(eos="maybe")
    with pytest.raises(ValueError, match="mask id"):
        _run(LLaDADenoiser(model), [Prompt(ids=[5, MASK])])


def test_tree_attention_over_block_copies_equals_replicated_forwards(model, prompts):
    """FreeDave's tree verify: K block copies in one sequence, each attending to the
    cached prefix, its own copy and the cached suffix, give the logits of K replicas."""
    d = LLaDADenoiser(model)
    engine = Engine(d, DecodeConfig(rule=Quota(1), gen_length=16, block_length=8, cache="dual"))
    state = engine.start(prompts[:1])
    engine.begin_block(state, 0)
    with torch.no_grad():
        engine.step(state)
        lo, hi = state.window
        W, T = hi - lo, state.x.shape[1]
        drafts = state.x[:, lo:hi].repeat(2, 1)
        drafts[0, 1], drafts[1, 1:3] = 7, 9
        ids = drafts.reshape(1, 2 * W)
        positions = state.positions[:, lo:hi].repeat(1, 2)
        Tk = lo + 2 * W + (T - hi)
        attend = torch.zeros(1, 2 * W, Tk, dtype=torch.bool)
        for i in range(2):
            rows = slice(i * W, (i + 1) * W)
            attend[0, rows, :lo] = True
            attend[0, rows, lo + i * W:lo + (i + 1) * W] = True
            attend[0, rows, lo + 2 * W:] = True
        tree = d.forward(ids, positions, attend=attend, cache=state.cache, span=(lo, hi))
        copies = state.replicate(torch.tensor([0, 0]))
        copies.x[:, lo:hi] = drafts
        separate = engine.forward(copies)
    assert_close(tree.reshape(2, W, -1), separate, llada_path(model.config, Tk))


@pytest.mark.parametrize("view", [False, True])
def test_valid_rows_equal_boolean_indexing_on_tensors_and_views(view):
    """The engine's gather (index_select, or a (row, column) index on a view such as the
    first block of FreeDave's two-block logits) picks exactly x[valid], in order."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 8 if view else 4, 5, generator=gen)
    if view:
        x = x[:, :4]
    valid = torch.rand(3, 4, generator=gen) < 0.5
    rows, at = valid_rows(x, valid)
    assert torch.equal(rows, x[valid])
    assert torch.equal(at, valid.reshape(-1).nonzero()[:, 0])
