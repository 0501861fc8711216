"""FreeDave over a rule on the exact chain worlds: the oracle, the study and its claims."""

import numpy as np
import pytest

from simulate import ChainDenoiser, ChainOracle, DecodeConfig, decode, random_chain
from simulate.studies import HEADLINE, write_result
from simulate.studies.freedave_subset import freedave_subset, rule_path
from tests.tolerance import Path, assert_close
from theory import make_rule
from theory.freedave import freedave_decode, rule_decode
from theory.freedave.core import Blocks, FreeDave, rule_step

SMALL = {"rhos": (0.5, 0.75), "models": 2, "V": 5, "gen_length": 8, "block_length": 4,
         "show_progress": False}
RULES = [make_rule("frechet", 0.0), make_rule("tight", 0.0), make_rule("threshold", 0.6)]


def _world(seed, rho=0.75, V=5, rows=4, prompt=2, gen=12, block=6):
    rng = np.random.default_rng(seed)
    chain = random_chain(V, rho, rng, beta=3.0)
    prompts = chain.sample(rows, prompt, rng)
    x0 = np.concatenate([prompts, np.full((rows, gen), V, np.int64)], axis=1)
    return ChainOracle(chain), prompts, x0, Blocks.uniform(prompt, block, prompt + gen)


@pytest.fixture(scope="module")
def result():
    return freedave_subset(4, 0, **SMALL)


def test_the_chain_oracle_reads_the_exact_marginals_greedily():
    oracle, _, x0, _ = _world(0)
    x0[:, 5] = 1  # one known position inside the generation
    out = oracle(x0)
    tokens, c = oracle.denoiser.oracle(x0)
    assert np.array_equal(out.tokens, tokens)
    path = Path(n=oracle.denoiser.V, stages=2)  # log-sum-exp over V, then exp
    assert_close(out.c, c, path)
    assert_close(np.exp(out.log_r), 1.0 - out.c, path, magnitude=1.0)
    assert (out.runner_up != out.tokens).all() and (out.c[:, :2] == 1.0).all()


def test_the_chain_oracle_refuses_a_denoiser_with_one_chain_per_row():
    oracle, *_ = _world(0)
    chain = oracle.denoiser.chain
    with pytest.raises(ValueError, match="one-chain"):
        ChainOracle(ChainDenoiser([chain, chain], np.array([0, 1])))


@pytest.mark.parametrize("rule", RULES + [make_rule("quota", 1)], ids=lambda r: r.label())
def test_the_rule_through_the_oracle_decodes_as_the_simulator_does(rule):
    """One rule, two loops: theory.freedave.rule_decode over ChainOracle and
    simulate.decode over the denoiser write the same tokens."""
    oracle, prompts, x0, blocks = _world(1)
    ours = rule_decode(oracle, x0, mask_id=oracle.mask_id, blocks=blocks, rule=rule)
    theirs = decode(oracle.denoiser, prompts, rule, DecodeConfig(12, 6, check_modes=False,
                                                                 whole_mode=False))
    assert np.array_equal(ours.x, theirs.tokens)
    assert list(ours.row_calls) == theirs.calls.tolist()


def test_the_rules_path_rebuilt_from_its_traces_ends_at_its_output():
    oracle, _, x0, blocks = _world(2)
    run = rule_decode(oracle, x0, mask_id=oracle.mask_id, blocks=blocks, rule=RULES[0])
    paths = rule_path(x0, run)
    assert [len(p) - 1 for p in paths] == list(run.row_calls)
    assert np.array_equal(np.stack([p[-1] for p in paths]), run.x)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.label())
def test_every_subset_move_on_an_exact_world_commits_part_of_the_rules_set(rule):
    oracle, _, x0, blocks = _world(3)
    mask = oracle.mask_id
    run = freedave_decode(oracle, x0, mask_id=mask, blocks=blocks,
                          config=FreeDave(4, rule=rule, accept="subset"))
    for moves in run.moves:
        for y, z in zip(moves, moves[1:], strict=False):
            out = oracle(y[None, :])
            want = rule_step(y[None, :], out, mask, blocks, rule)[0][0]
            moved = (y == mask) & (z != mask)
            assert moved.any() and (want[moved] != mask).all()
            assert (z[moved] == out.tokens[0][moved]).all()


def test_the_study_finds_no_certificate_violations(result):
    assert result.checks["no certificate violations (sets with margin >= 0 are joint modes)"]
    assert all(r["certificate_violations"] == 0 for r in result.rows)
    subset = [r for r in result.rows if r["method"] == "subset" and r["rule"] != "threshold"]
    assert all(r["certified"] > 0 for r in subset)  # not vacuous


def test_the_study_finds_exact_freedave_equal_to_the_rule(result):
    assert result.checks["exact FreeDave's output is the rule's"]
    assert all(r["dist_rule"] == 0.0 for r in result.rows if r["method"] == "exact")


def test_the_study_finds_every_subset_move_inside_the_rules_set(result):
    key = "every move commits part of the rule's set at its state, to its argmax"
    assert result.checks[key] and all(r["not_subset"] == 0 for r in result.rows)
    assert all(r["min_margin_gain"] >= -1e-9 for r in result.rows)


def test_the_study_table_has_every_column(result):
    columns = set(result.rows[0])
    assert set(HEADLINE["freedave_subset"]) <= columns
    assert {"calls_se", "dist_rule_se", "tokens_per_call", "loglik_change", "moves",
            "bound_violations", "not_mode", "min_margin_gain", "K"} <= columns
    methods = [(r["rho"], r["label"], r["method"]) for r in result.rows]
    assert len(methods) == len(set(methods)) == len(SMALL["rhos"]) * (1 + 3 * 3)


def test_one_draft_per_call_subset_freedave_is_the_rule_itself():
    result = freedave_subset(4, 0, K=1, **SMALL)
    rows = {(r["rho"], r["label"], r["method"]): r for r in result.rows}
    for (rho, label, method), r in rows.items():
        if method == "subset":
            assert r["dist_rule"] == 0.0 and r["calls"] == rows[(rho, label, "rule")]["calls"]


def test_a_seed_reproduces_the_same_table(tmp_path):
    paths = [write_result(freedave_subset(2, seed, **SMALL), tmp_path / str(i))[0]
             for i, seed in enumerate((3, 3, 4))]
    first, again, other = (p.read_bytes() for p in paths)
    assert first == again and first != other
