"""The special token ids a model declares (mask, padding, end of sequence / turn)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SpecialTokens"]


@dataclass(frozen=True)
class SpecialTokens:
    """Ids the engine needs, read from a model's config or tokenizer (never inline).

    ``mask_id``: the mask token M; ``pad_id``: left/right padding of batches; ``eos_id``
    and ``eot_id``: end of sequence / end of turn (None where the model has none).
    """

    mask_id: int
    pad_id: int
    eos_id: int | None = None
    eot_id: int | None = None

    def __post_init__(self) -> None:
        for name in ("mask_id", "pad_id", "eos_id", "eot_id"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise ValueError(f"special token {name} must be a non-negative int, got "
                                 f"{value!r}")

    def ending(self) -> list[int]:
        """Ids that end a generation (EOS, EoT), those the model has."""
        return [t for t in (self.eos_id, self.eot_id) if t is not None]
