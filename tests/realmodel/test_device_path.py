"""The path a GPU takes, run on the CPU: with numpy's views switched off (every step's
small arrays stay torch tensors, the profile takes torch's route, commit runs in torch),
the engine and FreeDave decide exactly as on the CPU's host views. GPUs are not lent to
the tests; this is the part of their path that does not need one."""

import pytest

import realmodel.engine.sampling as sampling
import theory._xp
import theory.rules
from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.freedave import FreeDaveConfig, freedave_decode
from tests.realmodel.test_freedave_shipped import denoiser, prompts
from theory import make_rule


def _device_path(monkeypatch):
    """No CPU tensor is treated as one: theory._xp.host and commit leave tensors alone."""
    monkeypatch.setattr(theory._xp, "cpu_torch", lambda x: False)
    monkeypatch.setattr(theory.rules, "cpu_torch", lambda x: False)
    monkeypatch.setattr(sampling, "SHORT_VOCABULARY", 0)


def _runs(config):
    engine = Engine(denoiser(), config)
    return [decode(denoiser(), prompts(), config, batch_size=2)] + [
        freedave_decode(engine, fd, prompts(), batch_size=2).result for fd in
        (FreeDaveConfig(4), FreeDaveConfig(4, "tree", "tree-attention"),
         FreeDaveConfig(4, accept="subset"))]


@pytest.mark.parametrize("cache", ["none", "dual"])
@pytest.mark.parametrize("rule", [("quota", 1), ("threshold", 0.7), ("frechet", 0.25)])
def test_torch_all_the_way_decides_as_the_host_views(monkeypatch, cache, rule):
    config = DecodeConfig(rule=make_rule(*rule), gen_length=32, block_length=8, cache=cache)
    host = _runs(config)
    _device_path(monkeypatch)
    device = _runs(config)
    for a, b in zip(host, device, strict=True):
        assert [s.generated for s in a.sequences] == [s.generated for s in b.sequences]
        assert [s.commits for s in a.sequences] == [s.commits for s in b.sequences]
        assert [s.steps for s in a.sequences] == [s.steps for s in b.sequences]
        assert a.calls == b.calls


def test_the_switch_reaches_the_step(monkeypatch):
    """The test above would prove nothing if the engine still got numpy views."""
    import torch

    _device_path(monkeypatch)
    x = torch.zeros(2, 3)
    assert theory._xp.host(x) is x
