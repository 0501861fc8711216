"""FreeDave on the pretrained AntiBERTy (cache none, batch verification): exact in fp32."""

import pytest

from realmodel.engine import DecodeConfig, Engine, decode
from realmodel.freedave import FreeDaveConfig, freedave_decode
from realmodel.model.hf import antiberty_files, load_antiberty
from realmodel.models import builtin_prompts


@pytest.fixture(scope="module")
def antiberty():
    try:
        antiberty_files()
    except FileNotFoundError as err:
        pytest.skip(f"antiberty==0.1.3 is not installed: {err}")
    return load_antiberty()


@pytest.mark.slow
def test_freedave_on_antiberty_equals_static_decoding(antiberty):
    prompts = builtin_prompts("antiberty", antiberty, 8)[:3]
    config = DecodeConfig(gen_length=8, block_length=8)
    static = decode(antiberty, prompts, config)
    for K, batch_size in ((2, 1), (4, 3)):
        run = freedave_decode(Engine(antiberty, config), FreeDaveConfig(K), prompts,
                              batch_size=batch_size)
        assert [s.generated for s in run.result.sequences] == \
            [s.generated for s in static.sequences]
        assert run.result.sequence_steps <= static.sequence_steps
    with pytest.raises(ValueError, match="LLaDA module"):
        freedave_decode(Engine(antiberty, config), FreeDaveConfig(2, verify="tree-attention"),
                        prompts)
