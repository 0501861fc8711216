"""A byte-level BPE tokenizer trained offline (the ``tokenizers`` package), in LLaDA's layout.

The shipped ``tiny-words`` model's tokenizer is trained on its own task's text, with what
a LLaDA-8B-Instruct tokenizer has where paradec looks: ``<|startoftext|>`` (BOS),
``<|endoftext|>`` (EOS, also the padding of a response), ``<|mdm_mask|>`` (the mask),
``<|eot_id|>`` after every answer, and LLaDA's chat template built from
``<|start_header_id|>`` / ``<|end_header_id|>``. Digits are split one per token (as
LLaMA's tokenizer splits them) so numbers are written digit by digit. It is saved with
``save_pretrained`` (``tokenizer.json`` and ``tokenizer_config.json``), so the model folder
loads exactly like a LLaDA checkpoint folder
(:func:`realmodel.model.checkpoint.local_tokenizer`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["SPECIALS", "CHAT_TEMPLATE", "train_tokenizer"]

#: special tokens, ids 0.. in this order.
SPECIALS = ("<|pad|>", "<|startoftext|>", "<|endoftext|>", "<|mdm_mask|>",
            "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")

#: LLaDA-8B-Instruct's chat layout (one user turn, then the assistant header).
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
    "<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n"
    "{% endif %}")


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """A BPE tokenizer of ``vocab_size`` tokens (specials and the 256 byte symbols
    included) learnt from ``texts``, as a ``transformers.PreTrainedTokenizerFast``.
    Deterministic: the same texts give the same vocabulary and merges."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < len(SPECIALS) + 256 + 1:
        raise ValueError(f"vocab_size={vocab_size} leaves no room for merges")
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIALS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  min_frequency=2, show_progress=False)
    core.train_from_iterator(texts, trainer)
    if core.get_vocab_size() != vocab_size:
        raise ValueError(f"the text supports only {core.get_vocab_size()} tokens, not "
                         f"{vocab_size}: give more varied text or a smaller vocabulary")
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token=SPECIALS[1], eos_token=SPECIALS[2],
        pad_token=SPECIALS[0], mask_token=SPECIALS[3], chat_template=CHAT_TEMPLATE)
