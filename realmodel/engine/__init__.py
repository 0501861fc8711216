"""The one decode engine: configuration, prompts and canvases, logits to profiles, and
the loop (blocks, KV caches, batches, strategies).

- :mod:`.config`: :class:`DecodeConfig` and the static-decoding predicate.
- :mod:`.prompts`: prompts, canvases and results; :mod:`.sampling`: window profiles.
- :mod:`.loop`: :class:`Engine`, its step and its one loop over batches.
"""

from realmodel.engine.config import deterministic_reason
from realmodel.engine.loop import (
    CACHE_MODES,
    DecodeConfig,
    DecodeState,
    Engine,
    Progress,
    StepByStep,
    StepRecord,
    Strategy,
    TraceSink,
    decode,
    synchronize,
)

__all__ = ["CACHE_MODES", "DecodeConfig", "DecodeState", "StepRecord", "Engine", "decode",
           "TraceSink", "Strategy", "StepByStep", "Progress", "synchronize",
           "deterministic_reason"]
