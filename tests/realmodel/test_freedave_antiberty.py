"""FreeDave on the pretrained AntiBERTy (cache none, batch verification): each rule's own
output in fp32."""

import pytest

from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.freedave import FreeDaveConfig, freedave_decode
from realmodel.model.hf import antiberty_files, load_antiberty
from realmodel.models import builtin_prompts
from theory import make_rule


@pytest.fixture(scope="module")
def antiberty():
    try:
        antiberty_files()
    except FileNotFoundError as err:
        pytest.skip(f"antiberty==0.1.3 is not installed: {err}")
    return load_antiberty()


@pytest.mark.slow
@pytest.mark.parametrize("name, value", [("quota", 1), ("threshold", 0.9), ("frechet", 0.1),
                                         ("tight", 0.0), ("quota", 2), ("factor", 0.9),
                                         ("entropy", 0.5)])
def test_freedave_on_antiberty_equals_each_rules_decoding(antiberty, name, value):
    prompts = builtin_prompts("antiberty", antiberty, 8)[:3]
    config = DecodeConfig(rule=make_rule(name, value), gen_length=8, block_length=8)
    alone = decode(antiberty, prompts, config)
    for K, batch_size in ((2, 1), (8, 3)):
        run = freedave_decode(Engine(antiberty, config), FreeDaveConfig(K), prompts,
                              batch_size=batch_size)
        assert [s.generated for s in run.result.sequences] == \
            [s.generated for s in alone.sequences]
        assert run.result.sequence_steps <= alone.sequence_steps


def test_tree_attention_needs_paradecs_llada_module(antiberty):
    prompts = builtin_prompts("antiberty", antiberty, 8)[:1]
    with pytest.raises(ValueError, match="LLaDA module"):
        freedave_decode(Engine(antiberty, DecodeConfig(gen_length=8, block_length=8)),
                        FreeDaveConfig(2, verify="tree-attention"), prompts)
