"""paradec.realmodel: real models, the one decode engine, and confidence traces.

- :mod:`realmodel.model`: paradec's LLaDA-architecture module and LLaDA's on-disk format
  (loads LLaDA-8B-Instruct folders without remote code), transformers masked LMs (the
  pretrained AntiBERTy), seeded tiny models, the KV cache.
- :mod:`realmodel.engine`: the decode loop (rules from theory, blocks, KV caches, batches).
- :mod:`realmodel.freedave`: FreeDave as a strategy of the engine; call predictions.
- :mod:`realmodel.trace`: versioned Parquet traces, streaming writer, validating reader.
- :mod:`realmodel.replay`: what any rule would commit at each logged state; calibration and
  profile-generator fits to a trace.
- :mod:`realmodel.shipped`: the shipped trained model; :mod:`realmodel.models`: loading a
  model by name or folder, prompt files; :mod:`realmodel.distributed`: torchrun sharding.

May import theory and simulate. Only the application layer imports realmodel:
``paradec/commands``, ``paradec/report`` and ``paradec/figures``, each inside the function
that needs it, so importing ``paradec`` never loads torch; theory and simulate never do
(tests/test_layers.py). Benchmarks and tests use it directly.
"""

from realmodel.engine import CACHE_MODES, DecodeConfig, DecodeState, Engine, StepRecord, decode
from realmodel.engine.prompts import DecodeResult, Prompt, SequenceResult
from realmodel.engine.sampling import EOS_MODES, window_profile
from realmodel.model.cache import KVCache
from realmodel.model.checkpoint import eurobert_config, eurobert_state_dict, load_llada, save_llada
from realmodel.model.denoiser import Denoiser, LLaDADenoiser
from realmodel.model.hf import MaskedLMDenoiser, load_antiberty, load_masked_lm
from realmodel.model.llada import LLaDAConfig, LLaDAModel
from realmodel.model.specials import SpecialTokens
from realmodel.model.tiny import bench_config, random_llada, tiny_config
from realmodel.models import builtin_prompts, load_denoiser, read_prompts, score
from realmodel.replay import LOGGED, Replay, StepReplay, replay, replay_all
from realmodel.replay.calibration import (
                                         compute_margin_calibration,
                                         compute_prefix_calibration,
                                         compute_reliability,
)
from realmodel.replay.fit import ProfileFit, fit_lognormal, fit_trace, fit_two_level
from realmodel.trace import (
                                         SCHEMA_VERSION,
                                         Trace,
                                         TraceError,
                                         TraceStep,
                                         TraceWriter,
                                         provenance,
                                         read_trace,
)

__all__ = [
    "LLaDAConfig", "LLaDAModel", "save_llada", "load_llada", "eurobert_config",
    "eurobert_state_dict", "KVCache", "Denoiser", "LLaDADenoiser", "MaskedLMDenoiser",
    "load_masked_lm", "load_antiberty", "SpecialTokens", "EOS_MODES", "window_profile",
    "CACHE_MODES", "DecodeConfig", "DecodeState", "StepRecord", "Engine", "decode", "Prompt",
    "SequenceResult", "DecodeResult", "SCHEMA_VERSION", "Trace", "TraceStep", "TraceWriter",
    "TraceError", "read_trace", "provenance", "load_denoiser", "read_prompts",
    "builtin_prompts", "score", "tiny_config", "bench_config", "random_llada",
    "LOGGED", "Replay", "StepReplay", "replay", "replay_all", "compute_reliability",
    "compute_margin_calibration", "compute_prefix_calibration", "ProfileFit", "fit_lognormal",
    "fit_two_level", "fit_trace",
]
