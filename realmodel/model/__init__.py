"""Models as denoisers: paradec's LLaDA module and its on-disk format, transformers masked
LMs, seeded tiny models, the KV cache and the special token ids.

- :mod:`.llada`, :mod:`.checkpoint`: the LLaDA architecture and checkpoint folders.
- :mod:`.denoiser`: the :class:`Denoiser` protocol the engine calls; :mod:`.hf`:
  transformers masked LMs (AntiBERTy); :mod:`.tiny`: seeded random LLaDA-shaped models.
- :mod:`.cache`: keys and values of the canvas; :mod:`.specials`: special token ids.
"""

from realmodel.model.cache import KVCache
from realmodel.model.checkpoint import eurobert_config, eurobert_state_dict, load_llada, save_llada
from realmodel.model.denoiser import Denoiser, LLaDADenoiser
from realmodel.model.hf import MaskedLMDenoiser, load_antiberty, load_masked_lm
from realmodel.model.llada import LLaDAConfig, LLaDAModel
from realmodel.model.specials import SpecialTokens
from realmodel.model.tiny import bench_config, random_llada, tiny_config

__all__ = ["KVCache", "save_llada", "load_llada", "eurobert_config", "eurobert_state_dict",
           "Denoiser", "LLaDADenoiser", "MaskedLMDenoiser", "load_masked_lm", "load_antiberty",
           "LLaDAConfig", "LLaDAModel", "SpecialTokens", "tiny_config", "bench_config",
           "random_llada"]
