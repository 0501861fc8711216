"""Compute-aware K in the engine (``--freedave auto``): whatever widths it picks, and
whether a block runs the rule's own loop or FreeDave rounds, the output and the trace are
the rule's (fp32, random LLaDA-shaped model)."""

import itertools

import pytest

from realmodel.engine import Engine, decode
from realmodel.freedave import AutoWidth, FreeDaveBlocks, FreeDaveConfig, freedave_decode
from realmodel.freedave.predict import static_trace
from realmodel.trace import TraceWriter, provenance, read_trace
from tests.realmodel.test_freedave import CACHES, PROMPTS, _config, denoiser
from theory import make_rule
from theory.freedave.auto import CallCost

RULES = [("quota", 1), ("threshold", 0.5), ("frechet", 0.0)]


class Scripted(AutoWidth):
    """Widths from a fixed cycle instead of the cost model (every mix of static blocks
    and FreeDave rounds of every width gets exercised)."""

    def __init__(self, K_max, widths):
        super().__init__(K_max, CallCost(1.0, 0.0))
        self.script = itertools.cycle(widths)

    def width(self, rows):
        return next(self.script)


def _run(cfg, fd, batch_size, auto=None, trace=None):
    strategy = FreeDaveBlocks(fd)
    if auto is not None:
        strategy.auto = auto
    return Engine(denoiser(), cfg).decode(PROMPTS, batch_size=batch_size, trace=trace,
                                          strategy=strategy), strategy


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("name, value", RULES)
def test_any_mix_of_widths_and_static_blocks_reproduces_the_rule_and_its_trace(
        cache, name, value, tmp_path):
    cfg = _config(cache, rule=make_rule(name, value))
    path = tmp_path / "rule.parquet"
    with TraceWriter(path, provenance(denoiser(), cfg, batch_size=1)) as writer:
        plain = decode(denoiser(), PROMPTS, cfg, trace=writer)
    for batch_size, widths in ((1, [1, 3, 2, 1, 4]), (3, [2, 1, 1, 4, 3])):
        mixed = tmp_path / f"mixed{batch_size}.parquet"
        fd = FreeDaveConfig(4, auto=True)
        with TraceWriter(mixed, provenance(denoiser(), cfg, batch_size=batch_size)) as writer:
            result, _ = _run(cfg, fd, batch_size, Scripted(4, widths), trace=writer)
        assert [s.generated for s in result.sequences] == \
            [s.generated for s in plain.sequences]
        ours, theirs = read_trace(mixed), read_trace(path)
        for seq in range(len(PROMPTS)):
            assert static_trace(ours, seq) == static_trace(theirs, seq)
        assert all(f.steps <= p.steps for f, p in
                   zip(result.sequences, plain.sequences, strict=True))
        assert all(f.states >= f.steps for f in result.sequences)


@pytest.mark.parametrize("cache", CACHES)
def test_a_compute_bound_cost_decodes_with_the_rules_own_loop(cache):
    cfg = _config(cache, rule=make_rule("threshold", 0.5))
    plain = decode(denoiser(), PROMPTS, cfg, batch_size=3)
    result, strategy = _run(cfg, FreeDaveConfig(8, auto=True, cost=CallCost(0.0, 1.0)), 3)
    assert [s.generated for s in result.sequences] == [s.generated for s in plain.sequences]
    assert result.calls == plain.calls
    assert set(strategy.auto.chosen) == {1}


@pytest.mark.parametrize("cache", CACHES)
def test_a_free_state_cost_drafts_at_the_widest_width(cache):
    cfg = _config(cache)
    widest = freedave_decode(Engine(denoiser(), cfg), FreeDaveConfig(8), PROMPTS)
    result, strategy = _run(cfg, FreeDaveConfig(8, auto=True, cost=CallCost(1.0, 0.0)), 1)
    assert [s.generated for s in result.sequences] == \
        [s.generated for s in widest.result.sequences]
    assert result.calls <= decode(denoiser(), PROMPTS, cfg).calls
    # drafts are free: only a draft whose estimated gain is nil (a tie) is left out
    assert max(strategy.auto.chosen) == 8


def test_a_measured_cost_learns_the_gains_and_keeps_the_output(tmp_path):
    cfg = _config("dual")
    plain = decode(denoiser(), PROMPTS, cfg)
    result, strategy = _run(cfg, FreeDaveConfig(4, auto=True), 1)
    assert [s.generated for s in result.sequences] == [s.generated for s in plain.sequences]
    auto = strategy.auto.describe()
    assert auto["cost"]["source"] == "measured" and auto["gains"][0] == 1.0
    assert [n for n, _ in strategy.auto.probe_calls] == [4]  # rows = 1: N = K_max, once
    assert sum(strategy.auto.chosen.values()) >= len(PROMPTS) * cfg.n_blocks


def test_auto_settings_are_validated():
    with pytest.raises(ValueError, match="only with auto"):
        FreeDaveConfig(4, cost=CallCost(1.0, 0.0))
    with pytest.raises(ValueError, match="auto must be"):
        FreeDaveConfig(4, auto="yes")
    with pytest.raises(ValueError, match="cannot cost nothing"):
        CallCost(0.0, 0.0)


def test_decode_cli_freedave_auto_reports_its_choices(tmp_path, capsys):
    import json

    from tests.realmodel.test_freedave import _cli

    common = ["--model", "tiny-random", "--rule", "threshold", "--tau", "0.5", "--cache", "dual",
              "--block", "8", "--gen-length", "16", "--limit", "3", "--batch-size", "3",
              "--json", "--progress", "off"]
    assert _cli([*common, "--trace", str(tmp_path / "r.parquet")]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert _cli([*common, "--trace", str(tmp_path / "a.parquet"), "--freedave", "auto",
                 "--freedave-cost", "0.01,0.0001"]) == 0
    auto = json.loads(capsys.readouterr().out)
    assert [s["generated"] for s in auto["sequences"]] == \
        [s["generated"] for s in alone["sequences"]]
    fd = auto["freedave"]
    assert fd["K"] == "auto" and fd["K_max"] == 8 and fd["rule"] == "threshold(tau=0.5)"
    assert fd["auto"]["cost"] == {"fixed_s": 0.01, "per_state_s": 0.0001, "source": "given"}
    assert fd["calls"] == auto["totals"]["calls"] <= alone["totals"]["calls"]
    assert sum(fd["auto"]["widths_chosen"].values()) >= 1
    with pytest.raises(ValueError, match="needs --freedave auto"):
        _cli([*common, "--trace", str(tmp_path / "x.parquet"), "--freedave", "4",
              "--freedave-cost", "0.01,0"])
