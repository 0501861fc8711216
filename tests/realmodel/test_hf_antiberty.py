"""transformers masked LMs as denoisers; the real pretrained AntiBERTy."""

import pytest
import torch

from realmodel.engine import DecodeConfig, decode
from realmodel.engine.prompts import Prompt
from realmodel.model.hf import (
    ANTIBERTY_UNUSED_KEYS,
    MaskedLMDenoiser,
    antiberty_files,
    load_antiberty,
)
from realmodel.models import antibodies, builtin_prompts, score
from realmodel.trace import TraceWriter, provenance, read_trace
from theory import RULES, make_rule

transformers = pytest.importorskip("transformers")

TINY = dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, max_position_embeddings=128, pad_token_id=0)


def _tiny(name):
    torch.manual_seed(0)
    if name == "bert":
        model = transformers.BertForMaskedLM(transformers.BertConfig(**TINY))
    elif name == "roberta":
        model = transformers.RobertaForMaskedLM(transformers.RobertaConfig(
            **{**TINY, "pad_token_id": 1, "max_position_embeddings": 130}))
    elif name == "modernbert":
        model = transformers.ModernBertForMaskedLM(transformers.ModernBertConfig(
            **TINY, mask_token_id=3, global_attn_every_n_layers=1))
    else:
        model = transformers.EuroBertForMaskedLM(transformers.EuroBertConfig(
            **TINY, mask_token_id=3, bos_token_id=None, eos_token_id=None))
    model.config.mask_token_id = 3
    return MaskedLMDenoiser(model, name=f"tiny-{name}")


@pytest.mark.parametrize("name", ["bert", "roberta", "modernbert", "eurobert"])
def test_masked_lms_decode_the_same_alone_and_in_a_padded_batch(name):
    d = _tiny(name)
    prompts = [Prompt(ids=[5, 9, 14, 22, 7, 30], suffix=[40, 41]), Prompt(ids=[11, 12]),
               Prompt(ids=[20, 21, 22, 23], suffix=[50])]
    config = DecodeConfig(rule=make_rule("threshold", 0.05), gen_length=6, block_length=3)
    alone = decode(d, prompts, config, batch_size=1)
    batched = decode(d, prompts, config, batch_size=3)
    assert [s.generated for s in alone.sequences] == [s.generated for s in batched.sequences]


def test_masked_lms_have_no_kv_cache():
    with pytest.raises(ValueError, match="KV cache"):
        decode(_tiny("bert"), [Prompt(ids=[5, 6])], DecodeConfig(gen_length=4, block_length=4,
                                                                  cache="prefix"))


@pytest.fixture(scope="module")
def antiberty():
    antiberty_files()  # antiberty==0.1.3 is a dependency: a missing package is a failure
    return load_antiberty()


def test_antiberty_checkpoint_leaves_only_the_unused_heads(antiberty):
    state = torch.load(antiberty_files()["weights"], map_location="cpu", weights_only=True)
    fresh = transformers.BertForMaskedLM(antiberty.model.config)
    result = fresh.load_state_dict(state, strict=False)
    assert result.missing_keys == []
    assert set(result.unexpected_keys) == ANTIBERTY_UNUSED_KEYS
    assert antiberty.tokenize("EVQ") == [8, 22, 18]
    assert antiberty.specials.mask_id == 4 and antiberty.vocab_size == 25


def test_shipped_sequences_contain_their_cdr_h3():
    for ab in antibodies():
        seq, cdr = ab["sequence"], ab["cdr_h3"]
        assert seq.count(cdr) == 1 and seq[seq.find(cdr) - 1] == "C"
        assert seq[seq.find(cdr) + len(cdr):].startswith("WG")


@pytest.mark.slow
def test_antiberty_infills_antibody_regions_far_above_chance_with_every_rule(antiberty,
                                                                              tmp_path):
    prompts = builtin_prompts("antiberty", antiberty, 8)
    prompts = [prompts[0], prompts[3]]  # trastuzumab CDR-H3, adalimumab CDR-H3/FR4
    for name in RULES:
        config = DecodeConfig(rule=make_rule(name), gen_length=8, block_length=8)
        path = tmp_path / f"{name}.parquet"
        with TraceWriter(path, provenance(antiberty, config, batch_size=2)) as writer:
            result = decode(antiberty, prompts, config, batch_size=2, trace=writer)
        assert score(result, antiberty)["recovery"] > 6 / 20   # chance: 1 in 20 residues
        trace = read_trace(path)
        assert len(trace) == result.sequence_steps
        assert trace.provenance["model"]["revision"] == "antiberty==0.1.3"
