"""transformers masked LMs as denoisers, and the real pretrained AntiBERTy.

:class:`MaskedLMDenoiser` wraps any ``AutoModelForMaskedLM`` (BERT, RoBERTa, ModernBERT,
EuroBERT, ...): full forwards with a padding mask and position ids that count real tokens
only (so left padding changes nothing). These models have no KV cache: cache mode
"none" only.

:func:`load_antiberty` loads AntiBERTy (``antiberty==0.1.3``, MIT; 8 layers, hidden 512,
25-token amino-acid vocabulary, trained on 558M antibody sequences) from the files the
package ships, into transformers' BertForMaskedLM, without the package's own runner (which
fails on transformers 5.x) and without any network access.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import pickle
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from realmodel.model.cache import KVCache
from realmodel.model.denoiser import ModuleDenoiser, check_context
from realmodel.model.specials import SpecialTokens

__all__ = ["MaskedLMDenoiser", "load_masked_lm", "load_antiberty", "antiberty_files",
           "ANTIBERTY_UNUSED_KEYS"]

# Checkpoint tensors BertForMaskedLM does not use: the pooler, the species / chain / graft
# heads, and an old position-ids buffer.
ANTIBERTY_UNUSED_KEYS = frozenset({
    "bert.pooler.dense.weight", "bert.pooler.dense.bias", "bert.embeddings.position_ids",
    "cls.species.weight", "cls.species.bias", "cls.chain.weight", "cls.chain.bias",
    "cls.graft.weight", "cls.graft.bias"})

# Model types whose position ids start after the padding index (fairseq convention).
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "data2vec-text", "longformer")


class MaskedLMDenoiser(ModuleDenoiser):
    """A transformers masked LM as a :class:`realmodel.model.denoiser.Denoiser` (no cache)."""

    supports_cache = False

    def __init__(self, model: Any, tokenizer: Any = None, *, name: str, revision: str | None = None,
                 file_hash: str | None = None, specials: SpecialTokens | None = None,
                 default_gen_length: int = 16, residues: bool = False) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name, self.revision, self.file_hash = name, revision, file_hash
        self.default_gen_length = default_gen_length
        self.residues = residues
        config = model.config
        self.vocab_size = int(config.vocab_size)
        self.specials = specials or _specials(config, tokenizer)
        self._offset = 0
        if getattr(config, "model_type", "") in _OFFSET_POSITIONS:
            self._offset = int(config.pad_token_id) + 1
        self._takes_positions = "position_ids" in inspect.signature(model.forward).parameters
        table = getattr(config, "max_position_embeddings", None)
        self.max_length: int | None = None if table is None else int(table) - self._offset

    def identity(self) -> dict[str, Any]:
        return {"id": self.name, "revision": self.revision, "file_hash": self.file_hash,
                "architecture": type(self.model).__name__,
                "config": self.model.config.to_dict(),
                "parameters": sum(p.numel() for p in self.model.parameters())}

    def new_cache(self) -> KVCache:
        raise ValueError(f"{self.name} has no KV cache; use cache mode 'none'")

    def forward(self, ids: Tensor, positions: Tensor, *, key_ok: Tensor | None = None,
                attend: Tensor | None = None, cache: KVCache | None = None,
                span: tuple[int, int] | None = None,
                head: tuple[int, int] | None = None) -> Tensor:
        if cache is not None or span is not None:
            raise ValueError(f"{self.name} has no KV cache; use cache mode 'none'")
        if attend is not None:
            raise ValueError("custom attention masks (tree drafts) need paradec's LLaDA module")
        # without position ids the model numbers every column, padding included
        check_context(positions if self._takes_positions else ids.new_tensor([ids.shape[1] - 1]),
                      self.max_length, self.name)
        kwargs: dict[str, Any] = {"input_ids": ids}
        if key_ok is not None:
            kwargs["attention_mask"] = key_ok.long()
        if self._takes_positions:
            kwargs["position_ids"] = positions + self._offset
        logits = self.model(**kwargs).logits
        return logits if head is None else logits[:, head[0]:head[1]]

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens (residues: one token each)."""
        if self.tokenizer is None:
            raise ValueError(f"model {self.name!r} has no tokenizer: give input_ids")
        if self.residues:
            text = " ".join(text.replace(" ", ""))
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, prompt: str, suffix: str | None = None) -> tuple[list[int], list[int]]:
        """[CLS] prompt | generated | suffix [SEP] (BERT-style framing)."""
        if self.tokenizer is None:
            raise ValueError(f"model {self.name!r} has no tokenizer: give input_ids")
        tok = self.tokenizer
        first = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        last = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        head = ([] if first is None else [first]) + self.tokenize(prompt)
        tail = (self.tokenize(suffix) if suffix else []) + ([] if last is None else [last])
        return head, tail

    def decode_text(self, ids: list[int]) -> str:
        if self.tokenizer is None:
            return " ".join(map(str, ids))
        text = str(self.tokenizer.decode(ids, skip_special_tokens=True))
        return text.replace(" ", "") if self.residues else text


def _specials(config: Any, tokenizer: Any) -> SpecialTokens:
    def pick(name: str) -> int | None:
        value = getattr(tokenizer, f"{name}_token_id", None) if tokenizer is not None else None
        if value is None:
            value = getattr(config, f"{name}_token_id", None)
        return None if value is None else int(value)

    mask = pick("mask")
    if mask is None:
        raise ValueError("this masked LM declares no mask token id (config or tokenizer)")
    return SpecialTokens(mask_id=mask, pad_id=pick("pad") or 0, eos_id=None, eot_id=None)


def load_masked_lm(path: str | Path, *, dtype: torch.dtype = torch.float32,
                   device: str | torch.device = "cpu",
                   trust_remote_code: bool = False) -> MaskedLMDenoiser:
    """A transformers masked-LM folder on disk (never the hub) as a denoiser.

    Python code shipped in the folder runs only with ``trust_remote_code=True`` (off by
    default; always passed explicitly). Pickled weights (pytorch_model.bin) are read by
    transformers with ``torch.load(weights_only=True)``; a file that needs more than
    tensors is refused, never executed.
    """
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} has no config.json")
    try:
        model = AutoModelForMaskedLM.from_pretrained(
            path, local_files_only=True, dtype=dtype, trust_remote_code=trust_remote_code)
    except (OSError, pickle.UnpicklingError, EOFError) as err:  # missing or unsafe weights
        raise ValueError(f"cannot load the masked LM in {path}: {err}") from None
    tokenizer = None
    if any((path / f).is_file() for f in ("tokenizer.json", "vocab.txt", "tokenizer_config.json")):
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True,
                                                  trust_remote_code=trust_remote_code)
    digest = hashlib.sha256((path / "config.json").read_bytes()).hexdigest()
    return MaskedLMDenoiser(model.to(device), tokenizer, name=str(path), file_hash=digest)


def antiberty_files() -> dict[str, Path]:
    """Paths of AntiBERTy's config, weights and vocabulary inside the installed package."""
    spec = importlib.util.find_spec("antiberty")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the antiberty package is not installed "
                                "(pip install antiberty==0.1.3)")
    root = Path(spec.origin).parent / "trained_models"
    files = {"config": root / "AntiBERTy_md_smooth" / "config.json",
             "weights": root / "AntiBERTy_md_smooth" / "pytorch_model.bin",
             "vocab": root / "vocab.txt"}
    for what, f in files.items():
        if not f.is_file():
            raise FileNotFoundError(f"antiberty's {what} file {f} is missing")
    return files


def _residue_tokenizer(cls: Any, vocab_file: Path) -> Any:
    """BertTokenizer over ``vocab_file`` (transformers 5 takes ``vocab=``; 4.x silently
    ignored nothing and took ``vocab_file=``)."""
    if "vocab" in inspect.signature(cls.__init__).parameters:
        words = vocab_file.read_text().split("\n")
        vocab = {w: i for i, w in enumerate(w.strip() for w in words) if w}
        return cls(vocab=vocab, do_lower_case=False)
    return cls(vocab_file=str(vocab_file), do_lower_case=False)


def load_antiberty(*, dtype: torch.dtype = torch.float32,
                   device: str | torch.device = "cpu") -> MaskedLMDenoiser:
    """The pretrained AntiBERTy masked LM as a denoiser (see the module docstring).

    Only :data:`ANTIBERTY_UNUSED_KEYS` may be left over; any missing or other unexpected
    tensor is an error.
    """
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    files = antiberty_files()
    raw = json.loads(files["config"].read_text())
    config = BertConfig(**{k: v for k, v in raw.items() if not k.startswith("_")})
    model = BertForMaskedLM(config)
    state = torch.load(files["weights"], map_location="cpu", weights_only=True)
    result = model.load_state_dict(state, strict=False)
    unexpected = set(result.unexpected_keys) - ANTIBERTY_UNUSED_KEYS
    if result.missing_keys or unexpected:
        raise ValueError(f"AntiBERTy checkpoint does not fit BertForMaskedLM: missing "
                         f"{result.missing_keys}, unexpected {sorted(unexpected)}")
    tokenizer = _residue_tokenizer(BertTokenizer, files["vocab"])
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(f"AntiBERTy tokenizer has {tokenizer.vocab_size} tokens, the model "
                         f"{config.vocab_size}")
    digest = hashlib.sha256(files["weights"].read_bytes()).hexdigest()
    version = importlib_metadata.version("antiberty")
    model = model.to(device=device, dtype=dtype)  # type: ignore[call-arg]
    return MaskedLMDenoiser(model, tokenizer,
                            name="antiberty/AntiBERTy_md_smooth", revision=f"antiberty=={version}",
                            file_hash=f"sha256:{digest}", default_gen_length=10, residues=True)
